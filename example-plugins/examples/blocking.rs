//! Run with: `cargo run --example blocking`
//!
//! The same calls from a program with no async runtime: `build_blocking`
//! gives a `BlockingSandbox` whose methods block the calling thread.

// ANCHOR: blocking
use wasm_sandbox::WasmSandbox;

fn main() -> wasm_sandbox::Result<()> {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .build_blocking()?;
    let text: String = sandbox.call("greet", ("world",))?;
    println!("{text}");
    Ok(())
}
// ANCHOR_END: blocking
