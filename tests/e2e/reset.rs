//! `reset` throws the instance away and starts a fresh one.

use crate::calculator;

#[tokio::test]
async fn reset_starts_from_a_fresh_state() {
    let sandbox = calculator().await;
    assert_eq!(sandbox.instances_created(), 1);
    for expected in 1..=3u64 {
        let n: u64 = sandbox.call("increment", ()).await.unwrap();
        assert_eq!(n, expected);
    }

    sandbox.reset().await.unwrap();
    assert_eq!(sandbox.instances_created(), 2);
    let n: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!(n, 1, "the counter starts over on the new instance");

    // Resetting twice in a row is fine.
    sandbox.reset().await.unwrap();
    sandbox.reset().await.unwrap();
    assert_eq!(sandbox.instances_created(), 4);
    let n: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn fresh_instance_per_call_keeps_no_state_between_calls() {
    let sandbox = wasm_sandbox::WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .fresh_instance_per_call(true)
        .build()
        .await
        .unwrap();
    for _ in 0..3 {
        let n: u64 = sandbox.call("increment", ()).await.unwrap();
        assert_eq!(n, 1, "every call starts on a new instance");
    }
    // One at build, used by the first call; one more for each later call.
    assert_eq!(sandbox.instances_created(), 3);
    // Failed calls, dynamic calls and reports follow the same rule.
    assert!(sandbox.call::<_, u64>("nope", ()).await.is_err());
    let out = sandbox
        .call_dynamic("increment", &[])
        .await
        .expect("dynamic call");
    assert_eq!(out, vec![wasm_sandbox::component::Val::U64(1)]);
    let (n, _) = sandbox
        .call_with_report::<_, u64>("increment", ())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_pooling_allocator_runs_plugins_under_the_same_limits() {
    let sandbox = wasm_sandbox::WasmSandbox::builder()
        .source(example_plugins::HOG)
        .pooling_allocator(true)
        .memory_limit(8 << 20)
        .fresh_instance_per_call(true)
        .build()
        .await
        .unwrap();
    for x in 0..20u32 {
        let previous: u32 = sandbox.call("plugin#remember", (x,)).await.unwrap();
        assert_eq!(previous, 0, "copy-on-write reset leaves no state behind");
    }
    let err = sandbox
        .call::<_, u32>("plugin#grow-memory", ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            wasm_sandbox::Error::ResourceLimitExceeded(wasm_sandbox::Limit::Memory { .. })
        ),
        "{err:?}"
    );
    let y: u32 = sandbox.call("plugin#add-one", (1u32,)).await.unwrap();
    assert_eq!(y, 2);
}

#[tokio::test]
async fn engine_settings_conflict_with_an_explicit_engine() {
    let engine = wasm_sandbox::Engine::shared().unwrap();
    let err = wasm_sandbox::WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .engine(&engine)
        .optimization_level(wasm_sandbox::OptimizationLevel::None)
        .build()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("set them on its `EngineConfig`"),
        "{err}"
    );
    // Without the explicit engine, the settings apply.
    let sandbox = wasm_sandbox::WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .optimization_level(wasm_sandbox::OptimizationLevel::None)
        .parallel_compilation(false)
        .build()
        .await
        .unwrap();
    let text: String = sandbox.call("plugin#greet", ("x",)).await.unwrap();
    assert!(text.contains('x'));
}
