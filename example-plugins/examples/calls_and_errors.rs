//! Run with: `cargo run --example calls_and_errors`
//!
//! A tour of the call API (typed calls, name forms, dynamic calls, exports,
//! reset) and of the errors a host meets, each printed as the user sees it.

use wasm_sandbox::component::Val;
use wasm_sandbox::{Error, WasmSandbox};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let calculator = WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .build()
        .await?;

    // ANCHOR: names
    // A world-level export is called by its name; a function inside an
    // exported interface by any of three names, or by its own name while
    // no other export has it.
    let version: String = calculator.call("version", ()).await?;
    let a: u32 = calculator
        .call("example:calculator/math@0.1.0#add", (1u32, 2u32))
        .await?;
    let b: u32 = calculator
        .call("example:calculator/math#add", (1u32, 2u32))
        .await?;
    let c: u32 = calculator.call("math#add", (1u32, 2u32)).await?;
    let d: u32 = calculator.call("add", (1u32, 2u32)).await?;
    assert_eq!((a, b, c, d), (3, 3, 3, 3));
    // ANCHOR_END: names
    println!("version {version}; add = {a}");

    // ANCHOR: results
    // Options, tuples and results map to their Rust counterparts. A function
    // that returns nothing is called with `()` as its result type.
    let parsed: Option<f64> = calculator.call("math#parse-number", ("2.5",)).await?;
    let range: Option<(i32, i32)> = calculator
        .call("math#min-max", (vec![4i32, -2, 9],))
        .await?;
    calculator.call::<(), ()>("clear", ()).await?;
    // ANCHOR_END: results
    println!("parse-number = {parsed:?}, min-max = {range:?}");

    // ANCHOR: dynamic
    // When types are only known at run time (a CLI, a scripting bridge), pass
    // `Val`s; the arguments are checked against the signature first.
    let export = calculator.export("math#add")?;
    println!("calling {} {}", export.name(), export.signature());
    let out: Vec<Val> = calculator
        .call_dynamic("math#add", &[Val::U32(20), Val::U32(22)])
        .await?;
    assert_eq!(out, [Val::U32(42)]);
    // ANCHOR_END: dynamic

    // ANCHOR: state
    // An instance keeps its state between calls until `reset` (or a trap).
    let _: u64 = calculator.call("increment", ()).await?;
    let two: u64 = calculator.call("increment", ()).await?;
    calculator.reset().await?;
    let one: u64 = calculator.call("increment", ()).await?;
    assert_eq!((two, one), (2, 1));
    // ANCHOR_END: state

    println!("\nWhat each mistake looks like:\n");

    // ANCHOR: errors
    let attempts: Vec<(&str, Result<WasmSandbox, Error>)> = vec![
        (
            "a file that does not exist",
            WasmSandbox::builder()
                .source("no/such/plugin.wasm")
                .build()
                .await,
        ),
        (
            "an empty file",
            WasmSandbox::builder().bytes(Vec::new()).build().await,
        ),
        (
            "bytes that are not WebAssembly",
            WasmSandbox::builder()
                .bytes(b"MZ\x90\x00 not wasm".to_vec())
                .build()
                .await,
        ),
        (
            "a core module instead of a component",
            WasmSandbox::builder().bytes("(module)").build().await,
        ),
        (
            "an import the host does not provide",
            WasmSandbox::builder()
                .bytes(
                    r#"(component (import "acme:kv/store" (instance
                           (export "get" (func (param "key" string) (result string))))))"#,
                )
                .build()
                .await,
        ),
    ];
    for (what, result) in attempts {
        match result {
            Ok(_) => println!("{what}: loaded (unexpected)"),
            Err(err) => println!("{what}:\n    {err}\n"),
        }
    }

    let calls: Vec<(&str, Result<u32, Error>)> = vec![
        (
            "a misspelt export",
            calculator.call("math#ad", (1u32, 2u32)).await,
        ),
        (
            "the wrong argument types",
            calculator.call("math#add", (1i64, 2i64)).await,
        ),
    ];
    for (what, result) in calls {
        if let Err(err) = result {
            println!("{what}:\n    {err}\n");
        }
    }

    match calculator
        .call::<(i32, i32), i32>("math#divide-unchecked", (1, 0))
        .await
    {
        Err(Error::Trap {
            code, backtrace, ..
        }) => {
            println!("a guest trap: code {code:?}");
            let frames = backtrace.unwrap_or_default();
            for frame in frames.lines().rev().take(3) {
                println!("    {}", frame.trim());
            }
        }
        other => println!("a guest trap: unexpected {other:?}"),
    }
    // The sandbox replaced the trapped instance; it answers again.
    let sum: u32 = calculator.call("math#add", (1u32, 1u32)).await?;
    assert_eq!(sum, 2);
    // ANCHOR_END: errors
    Ok(())
}
