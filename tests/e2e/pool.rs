//! `SandboxPool`: instance limits, waiting and its timeout, replacement
//! after a trap or limit hit, fresh instances per call, proxies and audit on
//! a pool. Behaviour only: no timing is asserted beyond "it waited".

use std::time::Duration;

use example_interfaces::HogPlugin;
use wasm_sandbox::{CapabilityKind, Error, Limit, PoolBuilder, SandboxPool};

async fn pool(configure: impl FnOnce(PoolBuilder) -> PoolBuilder) -> SandboxPool {
    configure(SandboxPool::builder().source(example_plugins::HOG))
        .build()
        .await
        .expect("the hog plugin loads into a pool")
}

#[test]
fn a_pool_is_clone_send_sync_and_static() {
    fn shareable<T: Clone + Send + Sync + 'static>(_: &T) -> bool {
        true
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = runtime.block_on(pool(|b| b));
    assert!(shareable(&pool));
    let clone = pool.clone();
    assert_eq!(clone.name(), "hog");
    assert_eq!(clone.max_instances(), SandboxPool::DEFAULT_MAX_INSTANCES);
}

#[tokio::test]
async fn preloads_instances_and_reuses_them() {
    let pool = pool(|b| b.max_instances(4).preload_instances(3)).await;
    let m = pool.metrics();
    assert_eq!((m.created, m.idle, m.in_use), (3, 3, 0));
    for x in 0..10u32 {
        let y: u32 = pool.call("plugin#add-one", (x,)).await.unwrap();
        assert_eq!(y, x + 1);
    }
    let m = pool.metrics();
    assert_eq!(m.created, 3, "sequential calls reuse an idle instance");
    assert_eq!(m.checkouts, 10);
    assert_eq!(m.discarded, 0);
    assert_eq!(m.waits, 0);
    // Dropping the idle instances frees their places; calls create anew.
    pool.clear_idle();
    let m = pool.metrics();
    assert_eq!((m.idle, m.in_use, m.discarded), (0, 0, 3), "{m:?}");
    assert_eq!(
        pool.call::<_, u32>("plugin#add-one", (1u32,))
            .await
            .unwrap(),
        2
    );
    assert_eq!(pool.metrics().created, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_holds_more_than_max_instances_and_callers_wait() {
    let pool = pool(|b| b.max_instances(2).preload_instances(0)).await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            pool.call::<_, u64>("plugin#sleep", (50u64,)).await
        }));
    }
    // While the calls run, at most two instances exist.
    let mut peak_in_use = 0;
    for _ in 0..20 {
        let m = pool.metrics();
        assert!(m.in_use <= 2, "{m:?}");
        assert!(m.created <= 2, "{m:?}");
        peak_in_use = peak_in_use.max(m.in_use);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for task in tasks {
        task.await
            .unwrap()
            .expect("every call gets an instance eventually");
    }
    let m = pool.metrics();
    assert_eq!(peak_in_use, 2, "both instances were busy at once");
    assert!(m.created <= 2, "{m:?}");
    assert_eq!(m.checkouts, 6);
    assert!(
        m.waits >= 4,
        "six 50 ms calls on two instances: four waited; {m:?}"
    );
    assert!(m.total_wait > Duration::ZERO);
    assert_eq!((m.in_use, m.timeouts), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_cannot_get_an_instance_in_time_fails_with_pool_timeout() {
    let pool = pool(|b| {
        b.max_instances(1)
            .checkout_timeout(Duration::from_millis(100))
    })
    .await;
    let busy = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.call::<_, u64>("plugin#sleep", (1500u64,)).await })
    };
    // Let the long call take the only instance.
    while pool.metrics().in_use == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let err = pool
        .call::<_, u32>("plugin#add-one", (1u32,))
        .await
        .unwrap_err();
    match &err {
        Error::PoolTimeout {
            waited,
            max_instances,
        } => {
            assert_eq!(*max_instances, 1);
            assert!(*waited >= Duration::from_millis(100), "{waited:?}");
        }
        other => panic!("expected PoolTimeout, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("all 1 instances of the pool are busy"),
        "{text}"
    );
    assert!(text.contains("max_instances"), "{text}");
    assert_eq!(pool.metrics().timeouts, 1);
    // The pool is fine once the long call ends.
    busy.await.unwrap().unwrap();
    assert_eq!(
        pool.call::<_, u32>("plugin#add-one", (1u32,))
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn a_trapped_instance_is_discarded_and_replaced() {
    let pool = pool(|b| b.max_instances(1)).await;
    // State in the instance: remember returns the previous value.
    assert_eq!(
        pool.call::<_, u32>("plugin#remember", (7u32,))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        pool.call::<_, u32>("plugin#remember", (8u32,))
            .await
            .unwrap(),
        7
    );
    let err = pool
        .call::<_, u32>("plugin#panic", ("boom",))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");
    let m = pool.metrics();
    assert_eq!((m.discarded, m.idle, m.in_use), (1, 0, 0), "{m:?}");
    // The replacement starts from a clean state.
    assert_eq!(
        pool.call::<_, u32>("plugin#remember", (9u32,))
            .await
            .unwrap(),
        0
    );
    assert_eq!(pool.metrics().created, 2);
}

#[tokio::test]
async fn an_instance_that_hit_a_limit_is_replaced() {
    let pool = pool(|b| b.max_instances(1).cpu_timeout(Duration::from_millis(50))).await;
    let err = pool.call::<_, u64>("plugin#spin", ()).await.unwrap_err();
    assert!(
        matches!(err, Error::ResourceLimitExceeded(Limit::Time { .. })),
        "{err:?}"
    );
    assert_eq!(
        pool.call::<_, u32>("plugin#add-one", (1u32,))
            .await
            .unwrap(),
        2
    );
    let m = pool.metrics();
    assert_eq!((m.created, m.discarded), (2, 1), "{m:?}");
    // The limit hit is in the shared audit log.
    assert!(
        pool.audit_log()
            .events()
            .iter()
            .any(|e| e.capability == CapabilityKind::Limit)
    );
}

#[tokio::test]
async fn a_cancelled_call_does_not_return_its_instance() {
    let pool = pool(|b| b.max_instances(1)).await;
    let call = pool.call::<_, u64>("plugin#sleep", (10_000u64,));
    assert!(
        tokio::time::timeout(Duration::from_millis(50), call)
            .await
            .is_err()
    );
    let m = pool.metrics();
    assert_eq!((m.in_use, m.idle, m.discarded), (0, 0, 1), "{m:?}");
    assert_eq!(
        pool.call::<_, u32>("plugin#add-one", (2u32,))
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn fresh_instance_per_call_keeps_no_state() {
    let pool = pool(|b| b.max_instances(2).fresh_instance_per_call(true)).await;
    for x in 1..=3u32 {
        let previous: u32 = pool.call("plugin#remember", (x,)).await.unwrap();
        assert_eq!(previous, 0, "each call starts from a new instance");
    }
    let m = pool.metrics();
    assert_eq!(m.discarded, 3);
    assert_eq!(m.created, 3, "the preloaded instance served the first call");
    assert_eq!(m.idle, 0);
}

#[tokio::test]
async fn typed_proxies_work_on_a_pool() {
    let pool = pool(|b| b.max_instances(2)).await;
    let hog = HogPlugin::load(&pool).unwrap();
    assert_eq!(hog.add_one(41).await.unwrap(), 42);
    assert_eq!(hog.fib(20).await.unwrap(), 6765);
    // A proxy over an `Arc`/clone of the pool, moved into tasks.
    let mut tasks = Vec::new();
    for x in 0..8u32 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            HogPlugin::load(pool).unwrap().add_one(x).await
        }));
    }
    for (x, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().unwrap(), x as u32 + 1);
    }
}

#[tokio::test]
async fn a_proxy_from_another_pool_is_refused() {
    let a = pool(|b| b).await;
    let b = SandboxPool::builder()
        .source(example_plugins::GREETER)
        .build()
        .await
        .unwrap();
    let err = HogPlugin::load(&b).unwrap_err();
    assert!(
        matches!(err, Error::InterfaceMismatch { .. }),
        "loading a proxy checks the plugin's interface: {err:?}"
    );
    assert!(HogPlugin::load(&a).is_ok());
}

#[tokio::test]
async fn audit_and_reports_work_per_call() {
    let pool = pool(|b| b.max_instances(2).log_output_limit(4096)).await;
    let (written, audit) = pool
        .call_with_audit::<_, u64>("plugin#log-flood", (10_000u64,))
        .await
        .unwrap();
    assert!(written > 0);
    assert!(
        audit
            .events
            .iter()
            .any(|e| e.capability == CapabilityKind::Limit && e.target == "log-output"),
        "the dropped log output is audited: {audit:?}"
    );
    let (value, report) = pool
        .call_with_report::<_, u64>("plugin#fib", (15u32,))
        .await
        .unwrap();
    assert_eq!(value, 610);
    assert!(report.peak_memory > 0, "{report:?}");
    let results = pool
        .call_dynamic("plugin#add-one", &[wasm_sandbox::component::Val::U32(4)])
        .await
        .unwrap();
    assert_eq!(results, vec![wasm_sandbox::component::Val::U32(5)]);
}

#[tokio::test]
async fn a_failed_instantiation_gives_its_place_back() {
    // Less memory allowed than the plugin's initial memory: every
    // instantiation fails (too few core instances would fail the build
    // instead, before any instantiation).
    let pool = pool(|b| {
        b.max_instances(1)
            .preload_instances(0)
            .memory_limit(64 * 1024)
            .checkout_timeout(Duration::from_millis(200))
    })
    .await;
    for _ in 0..3 {
        let err = pool
            .call::<_, u32>("plugin#add-one", (1u32,))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ResourceLimitExceeded(Limit::Memory { .. })),
            "each call tries again instead of waiting for a place that was never freed: {err:?}"
        );
    }
    let m = pool.metrics();
    assert_eq!(
        (m.in_use, m.idle, m.created, m.timeouts),
        (0, 0, 0, 0),
        "{m:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_with_cancellations_leave_the_pool_consistent() {
    let pool = pool(|b| b.max_instances(3).preload_instances(0)).await;
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let call = pool.call::<_, u64>("plugin#sleep", (i % 7,));
            // Every fifth call is cancelled while it waits or runs.
            if i % 5 == 0 {
                let _ = tokio::time::timeout(Duration::from_millis(2), call).await;
                None
            } else {
                Some(call.await.unwrap())
            }
        }));
    }
    let mut finished = 0;
    for task in tasks {
        if task.await.unwrap().is_some() {
            finished += 1;
        }
    }
    assert_eq!(finished, 32);
    let m = pool.metrics();
    assert_eq!(m.in_use, 0, "{m:?}");
    assert!(m.idle <= 3 && m.created <= 3 + m.discarded, "{m:?}");
    // And it still serves calls.
    assert_eq!(
        pool.call::<_, u32>("plugin#add-one", (1u32,))
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn abort_on_violation_applies_to_every_instance_of_a_pool() {
    use wasm_sandbox::{Capability, SecurityPolicy, ViolationAction};
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::write(root.join("ok.txt"), "fine").unwrap();
    let pool = SandboxPool::builder()
        .source(example_plugins::FILE_READER)
        .security_policy(SecurityPolicy::strict().allow(Capability::FileRead(root.clone())))
        .on_violation(ViolationAction::AbortCall)
        .max_instances(2)
        .build()
        .await
        .unwrap();
    let err = pool
        .call::<(String,), Result<String, String>>("plugin#read-file", ("/etc/passwd".into(),))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::SecurityViolation { target, .. } if target == "/etc/passwd"),
        "{err}"
    );
    // The pool goes on serving granted calls.
    let ok = pool
        .call::<(String,), Result<String, String>>(
            "plugin#read-file",
            (root.join("ok.txt").to_string_lossy().into_owned(),),
        )
        .await
        .unwrap();
    assert_eq!(ok.as_deref(), Ok("fine"));
}

/// A sandbox and a pool are the same plugin core with one or N instances:
/// code written against `&Plugin` takes either, and the counters agree.
#[tokio::test]
async fn a_sandbox_and_a_pool_share_one_plugin_api() {
    async fn add_one_twice(plugin: &wasm_sandbox::Plugin) -> u32 {
        let once: u32 = plugin.call("plugin#add-one", (1u32,)).await.unwrap();
        plugin.call("plugin#add-one", (once,)).await.unwrap()
    }
    let sandbox = wasm_sandbox::WasmSandbox::builder()
        .source(example_plugins::HOG)
        .build()
        .await
        .unwrap();
    let pool = pool(|b| b.max_instances(2)).await;
    assert_eq!(add_one_twice(&sandbox).await, 3);
    assert_eq!(add_one_twice(&pool).await, 3);
    // The same accessors, from the one place they are written.
    let names = |p: &wasm_sandbox::Plugin| -> Vec<String> {
        p.list_exports()
            .iter()
            .map(|e| e.name().to_string())
            .collect()
    };
    assert_eq!(names(&sandbox), names(&pool));
    assert_eq!(sandbox.name(), pool.name());
    assert_eq!(pool.instances_created(), pool.metrics().created);
    assert_eq!(sandbox.instances_created(), 1);
    // A trap poisons the instance in both; the next call gets a fresh one.
    for plugin in [&*sandbox, &*pool] {
        let before = plugin.instances_created();
        let err = plugin
            .call::<_, u32>("plugin#panic", ("on purpose",))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Trap { .. }), "{err}");
        assert_eq!(add_one_twice(plugin).await, 3);
        assert!(plugin.instances_created() > before);
    }
}
