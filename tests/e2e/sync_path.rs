//! The synchronous call path: which plugins take it, what refuses it, and
//! that every limit, audit event and recovery of the async path holds on it
//! too, from a thread without a runtime and from inside one.

use std::time::{Duration, Instant};

use wasm_sandbox::{
    Capability, CapabilityKind, EngineConfig, Error, Interruption, Limit, SandboxPool,
    SecurityPolicy, WasmSandbox,
};

/// A component that loops for ever and imports nothing.
const SPIN: &str = r#"
(component
  (core module $m
    (func (export "spin") (loop $again (br $again))))
  (core instance $i (instantiate $m))
  (func (export "spin") (canon lift (core func $i "spin")))
)
"#;

/// A component that traps.
const TRAP: &str = r#"
(component
  (core module $m
    (func (export "fail") unreachable))
  (core instance $i (instantiate $m))
  (func (export "fail") (canon lift (core func $i "fail")))
)
"#;

fn limit_of(err: &Error) -> &Limit {
    match err {
        Error::ResourceLimitExceeded(limit) => limit,
        other => panic!("expected a resource-limit error, got {other:?}: {other}"),
    }
}

fn reasons_of(err: Error) -> Vec<String> {
    match err {
        Error::SynchronousCallsUnavailable { reasons, .. } => reasons,
        other => panic!("expected SynchronousCallsUnavailable, got {other:?}: {other}"),
    }
}

#[test]
fn a_blocking_sandbox_takes_the_synchronous_path_when_the_plugin_can() {
    for plugin in [
        example_plugins::GREETER,
        example_plugins::CALCULATOR,
        example_plugins::BENCH,
        example_plugins::TYPE_PROBE,
    ] {
        let sandbox = WasmSandbox::builder()
            .source(plugin)
            .build_blocking()
            .unwrap();
        assert!(sandbox.is_synchronous(), "{plugin}");
    }
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .build_blocking()
        .unwrap();
    let sum: u32 = sandbox.call("math#add", (2u32, 40u32)).unwrap();
    assert_eq!(sum, 42);
    let out = sandbox
        .call_dynamic(
            "math#add",
            &[
                wasm_sandbox::component::Val::U32(1),
                wasm_sandbox::component::Val::U32(2),
            ],
        )
        .unwrap();
    assert_eq!(out, vec![wasm_sandbox::component::Val::U32(3)]);
    // A type mismatch runs nothing, as on the async path.
    let err = sandbox
        .call::<(u64, u64), u32>("math#add", (1, 2))
        .unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");
    assert_eq!(sandbox.instances_created(), 1);
}

#[test]
fn a_blocking_sandbox_falls_back_to_the_async_path_for_plugins_that_wait() {
    // Timers (`sleep`) keep the async path, and work.
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .build_blocking()
        .unwrap();
    assert!(!sandbox.is_synchronous());
    assert_eq!(
        sandbox.call::<_, u32>("plugin#add-one", (1u32,)).unwrap(),
        2
    );
    // So do files, and their guard still decides.
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::write(root.join("ok.txt"), "fine").unwrap();
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::FILE_READER)
        .security_policy(SecurityPolicy::strict().allow(Capability::FileRead(root.clone())))
        .build_blocking()
        .unwrap();
    assert!(!sandbox.is_synchronous());
    let read: Result<String, String> = sandbox
        .call(
            "plugin#read-file",
            (root.join("ok.txt").display().to_string(),),
        )
        .unwrap();
    assert_eq!(read.as_deref(), Ok("fine"));
    let read: Result<String, String> = sandbox
        .call("plugin#read-file", ("/etc/passwd".to_string(),))
        .unwrap();
    assert!(read.is_err(), "{read:?}");
    assert!(
        sandbox
            .as_async()
            .audit_log()
            .violations()
            .iter()
            .any(|e| e.target.contains("/etc/passwd")),
        "the refusal is audited"
    );
    // And asking for the async path is honoured.
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .synchronous_calls(false)
        .build_blocking()
        .unwrap();
    assert!(!sandbox.is_synchronous());
    let sum: u32 = sandbox.call("math#add", (2u32, 40u32)).unwrap();
    assert_eq!(sum, 42);
}

#[tokio::test]
async fn asking_for_synchronous_calls_names_every_import_in_the_way() {
    let err = WasmSandbox::builder()
        .source(example_plugins::FILE_READER)
        .synchronous_calls(true)
        .build()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cannot be called synchronously"), "{text}");
    let reasons = reasons_of(err);
    assert!(
        reasons.iter().any(|r| r.contains("wasi:filesystem/")),
        "{reasons:?}"
    );

    let reasons = reasons_of(
        WasmSandbox::builder()
            .source(example_plugins::HOG)
            .synchronous_calls(true)
            .build()
            .await
            .unwrap_err(),
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("wasi:clocks/monotonic-clock") && r.contains("subscribe-duration")),
        "{reasons:?}"
    );

    for plugin in [example_plugins::FETCHER, example_plugins::RAW_FETCHER] {
        let reasons = reasons_of(
            WasmSandbox::builder()
                .source(plugin)
                .synchronous_calls(true)
                .build()
                .await
                .unwrap_err(),
        );
        assert!(
            reasons.iter().any(|r| r.contains("wasi:http/")),
            "{plugin}: {reasons:?}"
        );
    }

    // The intruder tries everything: sockets, files, processes.
    let reasons = reasons_of(
        WasmSandbox::builder()
            .source(example_plugins::INTRUDER)
            .synchronous_calls(true)
            .build()
            .await
            .unwrap_err(),
    );
    for interface in ["wasi:sockets/", "wasi:filesystem/", "sandbox:host/process"] {
        assert!(
            reasons.iter().any(|r| r.contains(interface)),
            "{interface}: {reasons:?}"
        );
    }

    // A fuel budget needs fuel interruption, which the path cannot use.
    let reasons = reasons_of(
        WasmSandbox::builder()
            .source(example_plugins::CALCULATOR)
            .fuel(1_000_000)
            .synchronous_calls(true)
            .build()
            .await
            .unwrap_err(),
    );
    assert!(reasons.iter().any(|r| r.contains("fuel")), "{reasons:?}");
    let mut config = EngineConfig::new();
    config.interruption(Interruption::Fuel);
    let reasons = reasons_of(
        WasmSandbox::builder()
            .source(example_plugins::CALCULATOR)
            .engine_config(config)
            .synchronous_calls(true)
            .build()
            .await
            .unwrap_err(),
    );
    assert!(reasons.iter().any(|r| r.contains("fuel")), "{reasons:?}");
}

/// The deadline on the synchronous path: an epoch trap, recorded like the
/// async path's, and the instance replaced.
fn assert_spin_stops(
    timeout: Duration,
    err: &Error,
    took: Duration,
    sandbox: &wasm_sandbox::Plugin,
) {
    assert_eq!(limit_of(err), &Limit::Time { deadline: timeout });
    assert!(took >= timeout, "stopped early: {took:?}");
    assert!(took < 2 * timeout + Duration::from_secs(2), "took {took:?}");
    let events: Vec<_> = sandbox
        .audit_log()
        .events()
        .into_iter()
        .filter(|e| e.capability == CapabilityKind::Limit)
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].target, "time");
    assert_eq!(events[0].call.as_deref(), Some("spin"));
}

#[test]
fn the_synchronous_path_stops_an_infinite_loop_at_the_deadline() {
    let timeout = Duration::from_millis(200);
    let sandbox = WasmSandbox::builder()
        .bytes(SPIN)
        .cpu_timeout(timeout)
        .build_blocking()
        .unwrap();
    assert!(sandbox.is_synchronous());
    let start = Instant::now();
    let err = sandbox.call::<(), ()>("spin", ()).unwrap_err();
    assert_spin_stops(timeout, &err, start.elapsed(), sandbox.as_async());
    // The second call runs on a fresh instance and stops again.
    let err = sandbox.call::<(), ()>("spin", ()).unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Time { deadline: timeout });
    assert_eq!(sandbox.instances_created(), 2);
}

#[tokio::test]
async fn an_async_host_can_call_synchronously_under_the_same_deadline() {
    let timeout = Duration::from_millis(200);
    let sandbox = WasmSandbox::builder()
        .bytes(SPIN)
        .cpu_timeout(timeout)
        .synchronous_calls(true)
        .build()
        .await
        .unwrap();
    assert!(sandbox.is_synchronous());
    let start = Instant::now();
    let err = sandbox.call::<(), ()>("spin", ()).await.unwrap_err();
    assert_spin_stops(timeout, &err, start.elapsed(), &sandbox);
}

#[tokio::test]
async fn a_trap_on_the_synchronous_path_is_a_trap_and_the_instance_is_replaced() {
    let sandbox = WasmSandbox::builder()
        .bytes(TRAP)
        .synchronous_calls(true)
        .build()
        .await
        .unwrap();
    for made in [2, 3] {
        let err = sandbox.call::<(), ()>("fail", ()).await.unwrap_err();
        match &err {
            Error::Trap { code, function, .. } => {
                assert_eq!(*code, Some(wasm_sandbox::TrapCode::UnreachableCodeReached));
                assert_eq!(function, "fail");
            }
            other => panic!("{other:?}"),
        }
        // The failed instance is replaced before the next call.
        sandbox.call::<(), ()>("fail", ()).await.unwrap_err();
        assert!(sandbox.instances_created() >= made);
    }
}

/// Guest stderr on the synchronous path goes through
/// `blocking-write-and-flush` (one of the `wasi:io` functions the path
/// replaces) into the sandbox's log capture: a call that writes past the
/// per-call budget records exactly one `log-output` limit event.
async fn stderr_reaches_the_host(sandbox: &wasm_sandbox::Plugin) {
    let written: u64 = sandbox
        .call("plugin#complain", ("a line of complaint", 3u32))
        .await
        .unwrap();
    assert_eq!(written, 60);
    let cuts = || {
        sandbox
            .audit_log()
            .events()
            .into_iter()
            .filter(|e| e.target == "log-output")
            .count()
    };
    assert_eq!(cuts(), 0);
    let written: u64 = sandbox
        .call("plugin#complain", ("x".repeat(100), 100u32))
        .await
        .unwrap();
    assert_eq!(written, 10_100);
    assert_eq!(cuts(), 1);
}

/// An allocation past the memory limit: Rust's allocator writes its
/// message to stderr (`blocking-write-and-flush`, one of the `wasi:io`
/// functions the synchronous path replaces) and aborts. On a runtime's
/// thread and on a plain thread alike, that is a memory-limit error with
/// the message captured, and the next call works.
async fn allocation_past_the_limit(sandbox: &wasm_sandbox::Plugin) {
    let err = sandbox
        .call::<(u32,), Vec<u8>>("plugin#make-bytes", (64 << 20,))
        .await
        .unwrap_err();
    assert!(
        matches!(limit_of(&err), Limit::Memory { .. }),
        "{err:?}: {err}"
    );
    let made: Vec<u8> = sandbox.call("plugin#make-bytes", (1024u32,)).await.unwrap();
    assert_eq!(made.len(), 1024);
}

#[tokio::test]
async fn guest_stderr_works_on_the_synchronous_path_inside_a_runtime() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TYPE_PROBE)
        .memory_limit(16 << 20)
        .log_output_limit(1_000)
        .synchronous_calls(true)
        .build()
        .await
        .unwrap();
    assert!(sandbox.is_synchronous());
    allocation_past_the_limit(&sandbox).await;
    stderr_reaches_the_host(&sandbox).await;
}

#[test]
fn guest_stderr_works_on_the_synchronous_path_of_a_blocking_sandbox() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TYPE_PROBE)
        .memory_limit(16 << 20)
        .log_output_limit(1_000)
        .build_blocking()
        .unwrap();
    assert!(sandbox.is_synchronous());
    let err = sandbox
        .call::<(u32,), Vec<u8>>("plugin#make-bytes", (64 << 20,))
        .unwrap_err();
    assert!(
        matches!(limit_of(&err), Limit::Memory { .. }),
        "{err:?}: {err}"
    );
    let made: Vec<u8> = sandbox.call("plugin#make-bytes", (1024u32,)).unwrap();
    assert_eq!(made.len(), 1024);
    // The async side of the same sandbox, from inside a runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(allocation_past_the_limit(sandbox.as_async()));
    rt.block_on(stderr_reaches_the_host(sandbox.as_async()));
    // And from the plain thread again, after the async calls.
    let written: u64 = sandbox.call("plugin#complain", ("again", 2u32)).unwrap();
    assert_eq!(written, 12);
}

#[test]
fn many_threads_share_one_synchronous_blocking_sandbox() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .build_blocking()
        .unwrap();
    assert!(sandbox.is_synchronous());
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let sandbox = &sandbox;
            s.spawn(move || {
                for i in 0..500u32 {
                    let sum: u32 = sandbox.call("math#add", (t, i)).unwrap();
                    assert_eq!(sum, t + i);
                }
            });
        }
    });
    assert_eq!(sandbox.instances_created(), 1);
}

#[test]
fn a_synchronous_pool_serves_concurrent_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = std::sync::Arc::new(
            SandboxPool::builder()
                .source(example_plugins::CALCULATOR)
                .max_instances(3)
                .synchronous_calls(true)
                .build()
                .await
                .unwrap(),
        );
        assert!(pool.is_synchronous());
        let mut tasks = Vec::new();
        for t in 0..8u32 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..200u32 {
                    let sum: u32 = pool.call("math#add", (t, i)).await.unwrap();
                    assert_eq!(sum, t + i);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert!(pool.instances_created() <= 3);
    });
}

#[test]
fn the_profiler_samples_synchronous_calls() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("bench.json");
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::BENCH)
        .profiler(wasm_sandbox::ProfileConfig::new().output(&output))
        .build_blocking()
        .unwrap();
    assert!(sandbox.is_synchronous());
    // Long enough for several 10 ms samples.
    let n: u64 = sandbox.call("plugin#fib", (32u32,)).unwrap();
    assert_eq!(n, 2_178_309);
    let plugin = sandbox.as_async();
    assert_eq!(plugin.write_profile().unwrap().as_deref(), Some(&*output));
    let report = plugin.profile_report().unwrap();
    assert!(report.samples > 0, "{report:?}");
    let fib = &report.calls["example-interfaces:bench/plugin@0.1.0#fib"];
    assert_eq!(fib.count, 1);
    assert!(fib.time <= report.guest_time);
}

/// A component whose only function recurses for ever.
const RECURSE: &str = r#"
(component
  (core module $m
    (func $r (export "r") (param i32) (result i32)
      (call $r (i32.add (local.get 0) (i32.const 1)))))
  (core instance $i (instantiate $m))
  (func (export "recurse") (param "n" u32) (result u32) (canon lift (core func $i "r")))
)
"#;

#[test]
fn unbounded_recursion_on_the_synchronous_path_is_a_stack_limit_on_any_thread() {
    let sandbox = WasmSandbox::builder()
        .bytes(RECURSE)
        .build_blocking()
        .unwrap();
    assert!(sandbox.is_synchronous());
    // The guest runs on the caller's stack here: on the test's thread, and
    // on a thread with a stack smaller than the guest's stack limit.
    let err = sandbox.call::<_, u32>("recurse", (0u32,)).unwrap_err();
    assert!(matches!(limit_of(&err), Limit::Stack { .. }), "{err:?}");
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn_scoped(s, || {
                let err = sandbox.call::<_, u32>("recurse", (0u32,)).unwrap_err();
                assert!(matches!(limit_of(&err), Limit::Stack { .. }), "{err:?}");
            })
            .unwrap()
            .join()
            .unwrap();
    });
    // And from async code, on a runtime's worker threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(256 * 1024)
        .build()
        .unwrap();
    rt.block_on(async {
        let sandbox = WasmSandbox::builder()
            .bytes(RECURSE)
            .synchronous_calls(true)
            .build()
            .await
            .unwrap();
        let sandbox = std::sync::Arc::new(sandbox);
        let task = tokio::spawn({
            let sandbox = sandbox.clone();
            async move { sandbox.call::<_, u32>("recurse", (0u32,)).await }
        });
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(limit_of(&err), Limit::Stack { .. }), "{err:?}");
    });
}
