//! Run with: `cargo run --example quickstart`
//!
//! Builds the example plugins (the first run compiles them for
//! `wasm32-wasip2`), loads them under the default deny-all policy, and calls
//! them with typed values. Set `RUST_LOG=debug` to see what the host does.

use example_interfaces::{GreeterPlugin, Series, Stats};
use wasm_sandbox::WasmSandbox;

#[tokio::main]
async fn main() -> Result<(), wasm_sandbox::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    // ANCHOR: greet
    // Load a plugin. Nothing is granted: no files, no network, no environment.
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .build()
        .await?;

    // `GreeterPlugin` is the typed proxy generated from the `Greeter` trait.
    let greeter = GreeterPlugin::load(&sandbox)?;
    let greeting = greeter.greet("world".to_string()).await?;
    println!("greet(\"world\")        = {greeting:?}");
    // ANCHOR_END: greet

    // ANCHOR: calculator
    // Any export can also be called by name with typed values.
    let calculator = WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .build()
        .await?;

    println!("exports of {}:", calculator.name());
    for export in calculator.list_exports() {
        println!("  {:<24} {export}", export.short_name());
    }

    let sum: u32 = calculator.call("math#add", (2u32, 3u32)).await?;
    println!("math#add(2, 3)         = {sum}");

    // `Series` and `Stats` are records declared with `#[derive(PluginType)]`.
    let stats: Stats = calculator
        .call(
            "math#summarize",
            (Series {
                name: "latency-ms".to_string(),
                values: vec![12.0, 7.5, 30.25],
            },),
        )
        .await?;
    println!(
        "math#summarize(..)     = {}: count {}, sum {}, mean {:?}, min {:?}, max {:?}",
        stats.name, stats.count, stats.sum, stats.mean, stats.min, stats.max
    );
    // ANCHOR_END: calculator

    // ANCHOR: trap
    // `divide-unchecked` panics on a zero divisor. The panic is a trap: the
    // host gets an error, and the next call runs on a fresh instance.
    match calculator
        .call::<_, i32>("math#divide-unchecked", (1i32, 0i32))
        .await
    {
        Ok(n) => println!("math#divide-unchecked  = {n} (unexpected)"),
        Err(err) => println!("math#divide-unchecked  -> error: {err}"),
    }
    let again: u32 = calculator.call("math#add", (40u32, 2u32)).await?;
    println!(
        "math#add(40, 2)        = {again} (instances created: {})",
        calculator.instances_created()
    );
    // ANCHOR_END: trap
    Ok(())
}
