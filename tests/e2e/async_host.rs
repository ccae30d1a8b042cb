//! `async fn` in a `#[host_interface]`: the host's future runs while the
//! plugin waits, without holding a thread of the runtime; the deadline,
//! cancellation, the policy and the audit cover it like any host call.
//!
//! The tests that prove "does not block the thread" run on a current-thread
//! runtime on a thread of their own, watched from the test's thread: if a
//! host function blocked the runtime's only thread, the task that sends the
//! signal it waits for could never run, and the watchdog fails the test.
//! No test measures time.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use example_interfaces::{
    Directory, DirectoryHost, GreeterPlugin, ResolverPlugin, ResolverPluginBlocking,
};
use tokio::sync::{Semaphore, mpsc};
use wasm_sandbox::{
    CapabilityKind, Error, ImportCheck, Limit, SandboxBuilder, SandboxPool, SecurityPolicy,
    WasmSandbox,
};

/// The host's directory. Lookups of names that start with `wait` wait for
/// a permit of `gate`; `forever` never answers; `panic` panics after its
/// first pause; `sleep` sleeps on tokio's timer.
#[derive(Clone)]
struct Slow(Arc<Inner>);

struct Inner {
    /// Each lookup sends its name when it starts.
    arrivals: mpsc::UnboundedSender<String>,
    gate: Arc<Semaphore>,
    answered: AtomicU32,
    /// Lookups whose future was dropped before it finished.
    dropped: AtomicUsize,
    notes: Mutex<Vec<String>>,
}

/// Counts a lookup future dropped before it finished.
struct Unfinished<'a>(&'a AtomicUsize, bool);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Directory for Slow {
    async fn lookup(&self, name: String) -> Option<String> {
        let mut unfinished = Unfinished(&self.0.dropped, false);
        let _ = self.0.arrivals.send(name.clone());
        if name.starts_with("wait") {
            self.0.gate.acquire().await.expect("never closed").forget();
        }
        match name.as_str() {
            "forever" => std::future::pending::<()>().await,
            "panic" => {
                tokio::task::yield_now().await;
                panic!("the directory is on fire")
            }
            "sleep" => tokio::time::sleep(Duration::from_millis(1)).await,
            _ => {}
        }
        unfinished.1 = true;
        self.0.answered.fetch_add(1, Ordering::SeqCst);
        (name != "nobody").then(|| format!("{}.example", name.len()))
    }

    async fn note(&self, name: &str) {
        tokio::task::yield_now().await;
        self.0.notes.lock().unwrap().push(name.to_string());
    }

    fn answered(&self) -> u32 {
        self.0.answered.load(Ordering::SeqCst)
    }
}

fn directory() -> (Slow, mpsc::UnboundedReceiver<String>, Arc<Semaphore>) {
    let (arrivals, rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let slow = Slow(Arc::new(Inner {
        arrivals,
        gate: gate.clone(),
        answered: AtomicU32::new(0),
        dropped: AtomicUsize::new(0),
        notes: Mutex::new(Vec::new()),
    }));
    (slow, rx, gate)
}

fn granted() -> SecurityPolicy {
    SecurityPolicy::strict().allow(wasm_sandbox::Capability::Custom(
        DirectoryHost::CAPABILITY.to_string(),
    ))
}

fn resolver(slow: &Slow) -> SandboxBuilder {
    WasmSandbox::builder()
        .source(example_plugins::RESOLVER)
        .host_interface(DirectoryHost::new(slow.clone()))
        .security_policy(granted())
}

/// Runs `body` on a current-thread runtime on its own thread; fails if it
/// has not finished after `limit` (which only a blocked runtime reaches).
fn on_one_thread<F, Fut>(limit: Duration, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(body());
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => worker.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: show its message.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic)
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!(
            "deadlock: the runtime's only thread never got to the task that sends the signal, \
             so a host function blocked it"
        ),
    }
}

#[test]
fn an_async_host_function_waits_for_a_signal_from_another_task_on_the_same_thread() {
    on_one_thread(Duration::from_secs(120), || async {
        let (slow, mut arrivals, gate) = directory();
        let sandbox = resolver(&slow).build().await.unwrap();
        let plugin = ResolverPlugin::load(&sandbox).unwrap();
        // Another task of this runtime answers the lookup once it arrives.
        let signal = tokio::spawn(async move {
            let name = arrivals.recv().await.unwrap();
            gate.add_permits(1);
            name
        });
        assert_eq!(
            plugin.resolve("wait-ada").await.unwrap(),
            "wait-ada=8.example"
        );
        assert_eq!(signal.await.unwrap(), "wait-ada");
        // The synchronous method of the same interface keeps working.
        assert_eq!(plugin.answered().await.unwrap(), 1);
        assert_eq!(*slow.0.notes.lock().unwrap(), ["wait-ada"]);
        // Each call into the host is audited, async or not.
        let calls: Vec<String> = sandbox
            .audit_log()
            .events()
            .into_iter()
            .filter(|e| e.capability == CapabilityKind::Custom)
            .map(|e| e.target)
            .collect();
        let iface = DirectoryHost::CAPABILITY;
        assert_eq!(
            calls,
            [
                format!("{iface}#note"),
                format!("{iface}#lookup"),
                format!("{iface}#answered")
            ]
        );
    });
}

#[test]
fn many_async_host_calls_are_in_flight_at_once_on_a_pool() {
    const CALLS: usize = 8;
    on_one_thread(Duration::from_secs(120), || async {
        let (slow, mut arrivals, gate) = directory();
        let pool = SandboxPool::builder()
            .source(example_plugins::RESOLVER)
            .host_interface(DirectoryHost::new(slow.clone()))
            .security_policy(granted())
            .max_instances(CALLS)
            .build()
            .await
            .unwrap();
        let plugin = ResolverPlugin::load(&pool).unwrap();
        // The gate opens only when every lookup has arrived: it deadlocks
        // unless all of them wait in the host at the same time.
        let signal = tokio::spawn(async move {
            for _ in 0..CALLS {
                arrivals.recv().await.unwrap();
            }
            gate.add_permits(CALLS);
        });
        let names: Vec<String> = (0..CALLS).map(|i| format!("wait-{i}")).collect();
        let results =
            futures_util::future::join_all(names.iter().map(|name| plugin.resolve(name))).await;
        signal.await.unwrap();
        for (name, result) in names.iter().zip(results) {
            assert_eq!(result.unwrap(), format!("{name}=6.example"));
        }
        assert_eq!(slow.0.answered.load(Ordering::SeqCst), CALLS as u32);
        assert_eq!(pool.metrics().created, CALLS as u64);
    });
}

#[tokio::test]
async fn the_deadline_covers_time_spent_in_an_async_host_function() {
    let (slow, _arrivals, _gate) = directory();
    let timeout = Duration::from_millis(200);
    let sandbox = resolver(&slow).cpu_timeout(timeout).build().await.unwrap();
    let plugin = ResolverPlugin::load(&sandbox).unwrap();
    let err = plugin.resolve("forever").await.unwrap_err();
    assert!(
        matches!(&err, Error::ResourceLimitExceeded(Limit::Time { deadline }) if *deadline == timeout),
        "{err:?}"
    );
    // The host's future was dropped with the call, not left running.
    assert_eq!(slow.0.dropped.load(Ordering::SeqCst), 1);
    let events = sandbox.audit_log().events();
    assert!(
        events
            .iter()
            .any(|e| e.capability == CapabilityKind::Limit && e.target == "time"),
        "the deadline is audited: {events:#?}"
    );
    // A fresh instance serves the next call.
    assert_eq!(plugin.resolve("bo").await.unwrap(), "bo=2.example");
}

#[tokio::test]
async fn dropping_a_call_drops_the_host_future_and_audits_the_cancellation() {
    let (slow, mut arrivals, _gate) = directory();
    let sandbox = resolver(&slow).build().await.unwrap();
    let plugin = ResolverPlugin::load(&sandbox).unwrap();
    {
        let call = plugin.resolve("forever");
        tokio::pin!(call);
        tokio::select! {
            r = &mut call => panic!("`forever` answered: {r:?}"),
            name = arrivals.recv() => assert_eq!(name.unwrap(), "forever"),
        }
        // The caller gives up: `call` is dropped here, mid host function.
    }
    assert_eq!(slow.0.dropped.load(Ordering::SeqCst), 1);
    let cancelled: Vec<_> = sandbox
        .audit_log()
        .events()
        .into_iter()
        .filter(|e| e.capability == CapabilityKind::Limit && e.operation == "cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1, "{cancelled:#?}");
    assert!(cancelled[0].target.ends_with("#resolve"), "{cancelled:#?}");
    assert_eq!(plugin.resolve("nobody").await.unwrap(), "nobody unknown");
}

#[tokio::test]
async fn an_ungranted_async_host_function_is_refused_before_it_runs() {
    let (slow, mut arrivals, _gate) = directory();
    // By default an import the policy can never allow fails the load.
    let err = resolver(&slow)
        .security_policy(SecurityPolicy::strict())
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnsatisfiableImport { import, .. } if import == DirectoryHost::IMPORT),
        "{err:?}"
    );
    // Loaded anyway (imports checked as warnings), each call is refused.
    let sandbox = resolver(&slow)
        .security_policy(SecurityPolicy::strict().import_check(ImportCheck::Warn))
        .build()
        .await
        .unwrap();
    let plugin = ResolverPlugin::load(&sandbox).unwrap();
    let err = plugin.resolve("ada").await.unwrap_err();
    let Error::SecurityViolation {
        target, capability, ..
    } = &err
    else {
        panic!("expected SecurityViolation, got {err:?}")
    };
    // `note` is the plugin's first call into the host.
    assert_eq!(target, &format!("{}#note", DirectoryHost::CAPABILITY));
    assert_eq!(
        capability,
        &format!("Capability::Custom(\"{}\")", DirectoryHost::CAPABILITY)
    );
    // The implementation never ran: nothing noted, nothing looked up.
    assert!(slow.0.notes.lock().unwrap().is_empty());
    assert!(arrivals.try_recv().is_err());
    let violations = sandbox.audit_log().violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(violations[0].capability, CapabilityKind::Custom);
    assert_eq!(violations[0].target, *target);
}

#[tokio::test]
async fn a_panic_in_an_async_host_function_is_a_trap_not_a_crash() {
    let (slow, _arrivals, _gate) = directory();
    let sandbox = resolver(&slow).build().await.unwrap();
    let plugin = ResolverPlugin::load(&sandbox).unwrap();
    let err = plugin.resolve("panic").await.unwrap_err();
    let Error::Trap { message, .. } = &err else {
        panic!("expected Trap, got {err:?}")
    };
    assert_eq!(
        message,
        &format!(
            "the host's implementation of `{}#lookup` panicked: the directory is on fire",
            DirectoryHost::IMPORT
        )
    );
    assert_eq!(plugin.resolve("ada").await.unwrap(), "ada=3.example");
}

#[tokio::test]
async fn a_plugin_that_imports_an_async_host_function_cannot_take_the_synchronous_path() {
    let (slow, _arrivals, _gate) = directory();
    let err = resolver(&slow)
        .synchronous_calls(true)
        .build()
        .await
        .unwrap_err();
    let Error::SynchronousCallsUnavailable { reasons, .. } = &err else {
        panic!("expected SynchronousCallsUnavailable, got {err:?}")
    };
    let iface = DirectoryHost::IMPORT;
    assert_eq!(
        reasons,
        &[
            format!(
                "it imports `{iface}#lookup`, an `async fn` of a host interface, which only an \
                 asynchronous call can wait for"
            ),
            format!(
                "it imports `{iface}#note`, an `async fn` of a host interface, which only an \
                 asynchronous call can wait for"
            ),
        ],
        "{err}"
    );
    // Registering the interface does not close the path to plugins that
    // do not import it.
    let greeter = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .host_interface(DirectoryHost::new(slow.clone()))
        .synchronous_calls(true)
        .build()
        .await
        .unwrap();
    let plugin = GreeterPlugin::load(&greeter).unwrap();
    assert_eq!(plugin.greet("Ada").await.unwrap(), "Hello, Ada!");
}

#[test]
fn a_blocking_sandbox_runs_async_host_functions_on_its_own_runtime() {
    let (slow, _arrivals, _gate) = directory();
    let sandbox = resolver(&slow).build_blocking().unwrap();
    // The plugin imports async host functions, so its calls take a fiber.
    assert!(!sandbox.is_synchronous());
    let plugin = ResolverPluginBlocking::load(&sandbox).unwrap();
    // `sleep` needs tokio's timer, which the blocking sandbox's runtime has.
    assert_eq!(
        plugin
            .resolve_all(vec!["sleep".to_string(), "nobody".to_string()])
            .unwrap(),
        ["sleep=5.example", "nobody unknown"]
    );
    assert_eq!(plugin.answered().unwrap(), 2);
}
