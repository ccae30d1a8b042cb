//! Run with: `cargo run --example blocking`
//!
//! The same calls from a program with no async runtime: `build_blocking`
//! gives a `BlockingSandbox` whose methods block the calling thread.

// ANCHOR: blocking
use example_interfaces::GreeterPluginBlocking;
use wasm_sandbox::WasmSandbox;

fn main() -> wasm_sandbox::Result<()> {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .build_blocking()?;
    let greeter = GreeterPluginBlocking::load(&sandbox)?;
    println!("{}", greeter.greet("world")?);
    // Calls by name work the same way.
    let text: String = sandbox.call("plugin#greet", ("again",))?;
    println!("{text}");
    Ok(())
}
// ANCHOR_END: blocking
