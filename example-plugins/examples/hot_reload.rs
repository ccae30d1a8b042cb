//! Run with: `cargo run --example hot_reload`
//!
//! A `ReloadablePool` serves the greeter while its file is replaced: first
//! by a compatible new version, which takes over, then by a plugin with a
//! different interface and by one that would need more capabilities, which
//! are refused while the running version keeps serving.

use std::time::Duration;

use example_interfaces::GreeterPlugin;
use wasm_sandbox::{ReloadablePool, SandboxPool};

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    let dir = std::env::temp_dir().join(format!("wasm-sandbox-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("greeter.wasm");
    std::fs::copy(example_plugins::GREETER, &path).expect("copy the plugin");

    // ANCHOR: watch
    let pool = ReloadablePool::new(SandboxPool::builder().source(&path).max_instances(4)).await?;
    let greeter = GreeterPlugin::load(pool.clone())?;
    let mut watcher = pool.watch(&path)?;
    println!("v{}: {}", pool.version(), greeter.greet("Ada").await?);

    // A new build is written next to the old file and renamed over it.
    for (label, new_build) in [
        ("greeter-v2", example_plugins::GREETER_V2),
        ("calculator", example_plugins::CALCULATOR),
        ("greeter-nosy", example_plugins::GREETER_NOSY),
    ] {
        let staged = dir.join("greeter.wasm.new");
        std::fs::copy(new_build, &staged).expect("copy the new build");
        std::fs::rename(&staged, &path).expect("replace the plugin");
        match tokio::time::timeout(Duration::from_secs(30), watcher.next_reload()).await {
            Ok(Some(Ok(report))) => println!("{label}: now serving version {}", report.version),
            Ok(Some(Err(e))) => println!("{label}: refused: {e}"),
            Ok(None) | Err(_) => println!("{label}: no reload seen"),
        }
        println!("v{}: {}", pool.version(), greeter.greet("Ada").await?);
    }
    // ANCHOR_END: watch
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
