//! The blocking wrapper, for programs without an async runtime.

use wasm_sandbox::{Error, WasmSandbox};
use wasm_sandbox_tests::Op;

#[test]
fn blocking_sandbox_calls_without_a_runtime() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .build_blocking()
        .unwrap();
    let sum: u32 = sandbox.call("math#add", (2u32, 40u32)).unwrap();
    assert_eq!(sum, 42);
    let r: Result<i64, wasm_sandbox_tests::CalcError> = sandbox
        .call("math#apply", (Op::Multiply, 6i64, 7i64))
        .unwrap();
    assert_eq!(r, Ok(42));
    let n: u64 = sandbox.call("increment", ()).unwrap();
    assert_eq!(n, 1);
    sandbox.reset().unwrap();
    let n: u64 = sandbox.call("increment", ()).unwrap();
    assert_eq!(n, 1);
    assert_eq!(sandbox.instances_created(), 2);
    assert!(
        sandbox
            .list_exports()
            .iter()
            .any(|e| e.short_name() == "math#add")
    );

    // A trap is an error here too, and the sandbox keeps working.
    let err = sandbox
        .call::<(i32, i32), i32>("math#divide-unchecked", (1, 0))
        .unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");
    let sum: u32 = sandbox.call("math#add", (1u32, 1u32)).unwrap();
    assert_eq!(sum, 2);
}

#[test]
fn blocking_calls_inside_a_runtime_are_refused_not_a_panic() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .build_blocking()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let err = sandbox
            .call::<(&str,), String>("plugin#greet", ("x",))
            .unwrap_err();
        assert!(matches!(err, Error::BlockingInAsyncContext), "{err:?}");
        let err = WasmSandbox::builder()
            .source(example_plugins::GREETER)
            .build_blocking()
            .unwrap_err();
        assert!(matches!(err, Error::BlockingInAsyncContext), "{err:?}");
        // The async side of the same sandbox works from here.
        let text: String = sandbox
            .as_async()
            .call("plugin#greet", ("x",))
            .await
            .unwrap();
        assert_eq!(text, "Hello, x!");
    });
    // Dropping a blocking sandbox inside a runtime must not panic either.
    rt.block_on(async move { drop(sandbox) });
}
