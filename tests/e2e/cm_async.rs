//! Components that use the component model's async ABI (what jco's default
//! output and WASIp3 toolchains produce): the builder reads the binary and
//! gives such a plugin an engine with wasmtime's concurrency support.

use wasm_sandbox::{ComponentInfo, Engine, EngineConfig, Error, WasmSandbox};

/// An export lifted with the async ABI (an `async func` with a callback):
/// it answers with `task.return` and exits at once.
const ASYNC_LIFT: &str = r#"
(component
  (core module $m
    (import "" "task.return" (func $ret (param i32)))
    (func (export "run") (result i32)
      (call $ret (i32.const 42))
      (i32.const 0))
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core func $ret (canon task.return (result u32)))
  (core instance $i (instantiate $m (with "" (instance (export "task.return" (func $ret))))))
  (func (export "run") async (result u32)
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
)"#;

/// An async export whose result is a `stream<u8>`.
const STREAM: &str = r#"
(component
  (type $s (stream u8))
  (core module $m
    (import "" "stream.new" (func $new (result i64)))
    (import "" "task.return" (func $ret (param i32)))
    (func (export "numbers") (result i32)
      (call $ret (i32.wrap_i64 (call $new)))
      (i32.const 0))
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core func $new (canon stream.new $s))
  (core func $ret (canon task.return (result $s)))
  (core instance $i (instantiate $m (with "" (instance
    (export "stream.new" (func $new))
    (export "task.return" (func $ret))))))
  (func (export "numbers") async (result $s)
    (canon lift (core func $i "numbers") async (callback (core func $i "cb"))))
)"#;

fn bytes(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap()
}

#[tokio::test]
async fn a_plugin_that_uses_the_async_abi_loads_and_answers_typed_calls() {
    let sandbox = WasmSandbox::builder()
        .bytes(bytes(ASYNC_LIFT))
        .build()
        .await
        .unwrap();
    assert_eq!(sandbox.call::<(), u32>("run", ()).await.unwrap(), 42);
    // Again, on the same instance, and dynamically.
    assert_eq!(sandbox.call::<(), u32>("run", ()).await.unwrap(), 42);
    let values = sandbox.call_dynamic("run", &[]).await.unwrap();
    assert_eq!(values, [wasm_sandbox::component::Val::U32(42)]);
    assert_eq!(sandbox.instances_created(), 1);
    // Its engine runs calls as tasks: no synchronous path.
    assert!(!sandbox.is_synchronous());
    let err = WasmSandbox::builder()
        .bytes(bytes(ASYNC_LIFT))
        .synchronous_calls(true)
        .build()
        .await
        .unwrap_err();
    let Error::SynchronousCallsUnavailable { reasons, .. } = &err else {
        panic!("expected SynchronousCallsUnavailable, got {err:?}")
    };
    assert!(reasons[0].contains("concurrency support"), "{reasons:?}");
}

#[test]
fn a_blocking_sandbox_runs_it_too() {
    let sandbox = WasmSandbox::builder()
        .bytes(bytes(ASYNC_LIFT))
        .build_blocking()
        .unwrap();
    assert!(!sandbox.is_synchronous());
    assert_eq!(sandbox.call::<(), u32>("run", ()).unwrap(), 42);
}

#[tokio::test]
async fn component_model_async_false_refuses_it_naming_what_it_uses() {
    let err = WasmSandbox::builder()
        .bytes(bytes(ASYNC_LIFT))
        .component_model_async(false)
        .build()
        .await
        .unwrap_err();
    let Error::ComponentModelAsync { uses, .. } = &err else {
        panic!("expected ComponentModelAsync, got {err:?}")
    };
    assert_eq!(
        uses,
        &[
            "a function lifted with the `async` option",
            "an `async func` type",
            "the `task.return` built-in",
        ]
    );
    let message = err.to_string();
    assert!(
        message.contains("`component_model_async(false)`")
            && message.contains("`--component-model-async off`"),
        "{message}"
    );
    crate::assert_errors_chapter_quotes(&message);
    // A plugin that does not use it is not affected by the setting.
    let greeter = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .component_model_async(false)
        .synchronous_calls(true)
        .build()
        .await
        .unwrap();
    assert!(greeter.is_synchronous());
}

#[tokio::test]
async fn a_given_engine_without_concurrency_support_is_refused_with_what_to_change() {
    let err = WasmSandbox::builder()
        .bytes(bytes(ASYNC_LIFT))
        .engine(&Engine::shared().unwrap())
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ComponentModelAsync { remedy, .. }
            if remedy.contains("EngineConfig::concurrency_support(true)")),
        "{err:?}"
    );
    // The same engine made with the support runs it.
    let mut config = EngineConfig::new();
    config.concurrency_support(true);
    let sandbox = WasmSandbox::builder()
        .bytes(bytes(ASYNC_LIFT))
        .engine(&Engine::for_config(&config).unwrap())
        .build()
        .await
        .unwrap();
    assert_eq!(sandbox.call::<(), u32>("run", ()).await.unwrap(), 42);
}

#[tokio::test]
async fn streams_load_and_are_listed_and_inspected() {
    let sandbox = WasmSandbox::builder()
        .bytes(bytes(STREAM))
        .build()
        .await
        .unwrap();
    let signatures: Vec<String> = sandbox
        .list_exports()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(signatures, ["numbers: func() -> stream<u8>"]);
    // A dynamic call returns the stream's handle.
    let values = sandbox.call_dynamic("numbers", &[]).await.unwrap();
    assert!(
        matches!(values.as_slice(), [wasm_sandbox::component::Val::Stream(_)]),
        "{values:?}"
    );
    let info = ComponentInfo::from_bytes(bytes(STREAM)).unwrap();
    assert_eq!(info.exports().len(), 1);
    assert_eq!(
        info.exports()[0].to_string(),
        "numbers: func() -> stream<u8>"
    );
}
