//! Run with: `cargo run --example versions`
//!
//! One host, two versions of the greeter interface: a plugin built against
//! `example-interfaces:greeter@0.1.0` and one built against `@0.2.0` are
//! both loaded through `AnyGreeter`, which says which version each is.

use example_interfaces::AnyGreeter;
use wasm_sandbox::WasmSandbox;

// ANCHOR: serve
/// Greets everyone, the 0.2.0 way when the plugin has it.
async fn greet_all(
    greeter: &AnyGreeter<&WasmSandbox>,
    names: &[String],
) -> wasm_sandbox::Result<Vec<String>> {
    match greeter {
        AnyGreeter::V0_2(next) => next.greet_all(names).await,
        AnyGreeter::V0_1(first) => {
            let mut out = Vec::new();
            for name in names {
                out.push(first.greet(name).await?);
            }
            Ok(out)
        }
    }
}

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    let names = ["Ada".to_string(), "Grace".to_string()];
    for plugin in [example_plugins::GREETER, example_plugins::GREETER_NEXT] {
        let sandbox = WasmSandbox::builder().source(plugin).build().await?;
        let greeter = AnyGreeter::load(&sandbox)?;
        println!("{} implements {}", sandbox.name(), greeter.world());
        println!("  {:?}", greet_all(&greeter, &names).await?);
    }
    Ok(())
}
// ANCHOR_END: serve
