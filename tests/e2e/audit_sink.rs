//! The audit sink says when it fails: write errors are counted and
//! reported, `audit_required(true)` fails the call instead, an audit file
//! that cannot be opened is named as such, and the events of a failed call
//! come back with its error.

use example_interfaces::{KeyValue, KeyValueHost};
use wasm_sandbox::{
    CapabilityKind, Error, ImportCheck, SandboxBuilder, SecurityPolicy, ViolationAction,
    WasmSandbox,
};

struct NoStore;

impl KeyValue for NoStore {
    fn get(&self, _key: String) -> Option<String> {
        None
    }
    fn set(&self, _key: String, _value: String) {}
    fn keys(&self, _prefix: &str) -> Vec<String> {
        Vec::new()
    }
}

/// The intruder plugin, nothing granted, loaded despite its imports.
fn intruder() -> SandboxBuilder {
    WasmSandbox::builder()
        .source(example_plugins::INTRUDER)
        .host_interface(KeyValueHost::new(NoStore))
        .security_policy(SecurityPolicy::strict().import_check(ImportCheck::Warn))
}

#[tokio::test]
async fn write_errors_are_counted_not_ignored() {
    let sandbox = intruder().audit_file("/dev/full").build().await.unwrap();
    let log = sandbox.audit_log();
    let before = log.audit_failures();
    let r: Result<String, String> = sandbox
        .call("plugin#read-file", ("/etc/passwd",))
        .await
        .unwrap();
    assert!(r.is_err());
    // The denial is flushed at once, and /dev/full refuses it.
    assert!(log.audit_failures() > before, "{}", log.audit_failures());
    // The in-memory log still has it.
    assert!(!log.violations().is_empty());
}

#[tokio::test]
async fn a_written_audit_file_counts_no_failures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sandbox = intruder()
        .audit_file(&path)
        .audit_required(true)
        .build()
        .await
        .unwrap();
    let r: Result<String, String> = sandbox
        .call("plugin#read-file", ("/etc/passwd",))
        .await
        .unwrap();
    assert!(r.is_err());
    assert_eq!(sandbox.audit_log().audit_failures(), 0);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("/etc/passwd"), "{text}");
}

#[tokio::test]
async fn audit_required_fails_a_call_whose_events_are_lost() {
    let sandbox = intruder()
        .audit_file("/dev/full")
        .audit_required(true)
        .build()
        .await
        .unwrap();
    let err = sandbox
        .call::<_, Result<String, String>>("plugin#read-file", ("/etc/passwd",))
        .await
        .unwrap_err();
    match &err {
        Error::AuditFailed { path, .. } => assert_eq!(path, std::path::Path::new("/dev/full")),
        other => panic!("expected AuditFailed, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("could not write audit events to `/dev/full`")
            && message.contains("free space"),
        "{message}"
    );
}

#[tokio::test]
async fn audit_required_needs_an_audit_file() {
    match intruder().audit_required(true).build().await {
        Err(Error::Config { detail }) => assert!(detail.contains("audit_file"), "{detail}"),
        Err(other) => panic!("expected a config error, got {other}"),
        Ok(_) => panic!("audit_required without a file was accepted"),
    }
}

#[tokio::test]
async fn an_audit_file_that_cannot_be_opened_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir/audit.jsonl");
    match intruder().audit_file(&path).build().await {
        Err(Error::AuditFailed { path: named, .. }) => assert_eq!(named, path),
        Err(other) => panic!("expected AuditFailed, got {other}"),
        Ok(_) => panic!("an unopenable audit file was accepted"),
    }
}

#[tokio::test]
async fn a_failed_call_gives_its_events() {
    let sandbox = intruder()
        .on_violation(ViolationAction::AbortCall)
        .build()
        .await
        .unwrap();
    let (result, audit) = sandbox
        .call_with_audit_outcome::<_, Result<String, String>>("plugin#read-file", ("/etc/passwd",))
        .await;
    assert!(
        matches!(result, Err(Error::SecurityViolation { .. })),
        "{result:?}"
    );
    assert!(
        audit
            .violations
            .iter()
            .any(|e| e.capability == CapabilityKind::FileRead && e.target == "/etc/passwd"),
        "{audit:?}"
    );
    // An export that does not exist never started: no events.
    let (result, audit) = sandbox
        .call_with_audit_outcome::<(), ()>("plugin#no-such-export", ())
        .await;
    assert!(matches!(result, Err(Error::ExportNotFound { .. })));
    assert!(audit.events.is_empty());
    // The old method gives the error alone.
    let err = sandbox
        .call_with_audit::<_, Result<String, String>>("plugin#read-file", ("/etc/passwd",))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SecurityViolation { .. }), "{err}");
}

#[tokio::test]
async fn the_errors_chapter_quotes_the_audit_message() {
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/errors.md"),
    )
    .unwrap();
    let sandbox = intruder()
        .audit_file("/dev/full")
        .audit_required(true)
        .build()
        .await
        .unwrap();
    let message = sandbox
        .call::<_, Result<String, String>>("plugin#read-file", ("/etc/passwd",))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        chapter.contains(&message),
        "book/src/errors.md does not quote this message; update it:\n{message}"
    );
}

/// The `log-output` limit events in `audit`.
fn log_output_events(audit: &wasm_sandbox::CallAudit) -> usize {
    audit
        .events
        .iter()
        .filter(|e| e.capability == CapabilityKind::Limit && e.target == "log-output")
        .count()
}

#[tokio::test]
async fn a_log_flood_leaves_exactly_one_log_output_event_per_call() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .log_output_limit(4096)
        .build()
        .await
        .unwrap();
    for _ in 0..2 {
        let (written, audit) = sandbox
            .call_with_audit::<_, u64>("plugin#log-flood", (64 * 1024u64,))
            .await
            .unwrap();
        assert_eq!(written, 64 * 1024);
        assert_eq!(log_output_events(&audit), 1, "{audit:?}");
    }
}

#[tokio::test]
async fn guest_stderr_past_its_budget_leaves_exactly_one_log_output_event() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .log_output_limit(256)
        .build()
        .await
        .unwrap();
    for _ in 0..2 {
        let (result, audit) = sandbox
            .call_with_audit_outcome::<_, Vec<String>>("plugin#trap-mid-output", (400u32,))
            .await;
        assert!(matches!(result, Err(Error::Trap { .. })), "{result:?}");
        assert_eq!(log_output_events(&audit), 1, "{audit:?}");
    }
    // A call within the budget leaves none.
    let (result, audit) = sandbox
        .call_with_audit_outcome::<_, Vec<String>>("plugin#trap-mid-output", (2u32,))
        .await;
    assert!(result.is_err());
    assert_eq!(log_output_events(&audit), 0, "{audit:?}");
}

#[tokio::test]
async fn a_call_dropped_by_its_caller_leaves_an_audit_event() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .build()
        .await
        .unwrap();
    // The caller's own timeout drops the call future while the plugin sleeps.
    let dropped = tokio::time::timeout(
        std::time::Duration::from_millis(100),
        sandbox.call::<_, u64>("plugin#sleep", (5_000u64,)),
    )
    .await;
    assert!(
        dropped.is_err(),
        "the call was expected to outlive its caller"
    );
    let events = sandbox.audit_log().events();
    let cancelled: Vec<_> = events
        .iter()
        .filter(|e| e.capability == CapabilityKind::Limit && e.operation == "cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1, "{events:?}");
    assert!(
        cancelled[0].target.ends_with("#sleep"),
        "{:?}",
        cancelled[0]
    );
    // A call that ends leaves none, and the sandbox still works.
    let sum: u32 = sandbox.call("plugin#add-one", (1u32,)).await.unwrap();
    assert_eq!(sum, 2);
    let after = sandbox.audit_log().events();
    assert_eq!(
        after.iter().filter(|e| e.operation == "cancelled").count(),
        1,
        "{after:?}"
    );
}

#[tokio::test]
async fn a_burst_of_write_errors_is_reported_once() {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Errors(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Errors {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if event.metadata().target() == "wasm_sandbox::audit"
                && *event.metadata().level() == tracing::Level::ERROR
            {
                self.0
                    .lock()
                    .unwrap()
                    .push(event.metadata().name().to_string());
            }
        }
    }

    let errors = Errors::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(errors.clone()));
    // Everything the plugin imports is granted, so that loading it records
    // no warning (the build runs on another thread, outside this subscriber);
    // the read of /etc/passwd is denied.
    let policy = SecurityPolicy::permissive()
        .import_check(ImportCheck::Deny)
        .allow(wasm_sandbox::Capability::ProcessSpawn(vec!["echo".into()]))
        .allow(wasm_sandbox::Capability::Custom(
            "example-interfaces:key-value/key-value".into(),
        ))
        .deny(wasm_sandbox::Capability::FileRead("/etc/passwd".into()));
    let sandbox = intruder()
        .security_policy(policy)
        .audit_file("/dev/full")
        .build()
        .await
        .unwrap();
    for _ in 0..3 {
        let r: Result<String, String> = sandbox
            .call("plugin#read-file", ("/etc/passwd",))
            .await
            .unwrap();
        assert!(r.is_err());
    }
    assert!(sandbox.audit_log().audit_failures() >= 3);
    let reported = errors.0.lock().unwrap().len();
    assert_eq!(reported, 1, "one error for the whole burst");
}

/// A pool gives each call exactly its own events, whatever the outcome,
/// even when calls on several instances overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_gives_each_concurrent_call_its_own_events() {
    let pool = wasm_sandbox::SandboxPool::builder()
        .source(example_plugins::INTRUDER)
        .host_interface(KeyValueHost::new(NoStore))
        .security_policy(SecurityPolicy::strict().import_check(ImportCheck::Warn))
        .max_instances(4)
        .on_violation(ViolationAction::AbortCall)
        .build()
        .await
        .unwrap();
    let calls = (0..16).map(|i| {
        let pool = pool.clone();
        async move {
            let path = format!("/etc/secret-{i}");
            let (result, audit) = pool
                .call_with_audit_outcome::<_, Result<String, String>>(
                    "plugin#read-file",
                    (path.as_str(),),
                )
                .await;
            (path, result, audit)
        }
    });
    let mut tasks = tokio::task::JoinSet::new();
    for call in calls {
        tasks.spawn(call);
    }
    while let Some(done) = tasks.join_next().await {
        let (path, result, audit) = done.unwrap();
        assert!(
            matches!(result, Err(Error::SecurityViolation { .. })),
            "{path}: {result:?}"
        );
        let denied: Vec<&str> = audit.violations.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(denied, [path.as_str()], "{audit:?}");
        assert!(
            audit
                .events
                .iter()
                .all(|e| !e.target.starts_with("/etc/secret-") || e.target == path),
            "another call's event: {audit:?}"
        );
    }
    // An unknown export never started: its error, no events.
    let (result, audit) = pool.call_with_audit_outcome::<(), ()>("nope", ()).await;
    assert!(
        matches!(result, Err(Error::ExportNotFound { .. })),
        "{result:?}"
    );
    assert!(audit.events.is_empty());
}

/// The blocking sandbox gives the events of a failed call too.
#[test]
fn a_blocking_sandbox_gives_the_events_of_a_failed_call() {
    let sandbox = intruder()
        .on_violation(ViolationAction::AbortCall)
        .build_blocking()
        .unwrap();
    let (result, audit) = sandbox
        .call_with_audit_outcome::<_, Result<String, String>>("plugin#read-file", ("/etc/shadow",));
    assert!(
        matches!(result, Err(Error::SecurityViolation { .. })),
        "{result:?}"
    );
    assert_eq!(audit.violations.len(), 1, "{audit:?}");
    assert_eq!(audit.violations[0].target, "/etc/shadow");
    // The instance was replaced; the next call works and has its own events.
    let (result, audit) = sandbox.call_with_audit_outcome::<_, Result<String, String>>(
        "plugin#read-file",
        ("/etc/hostname",),
    );
    assert!(matches!(result, Err(Error::SecurityViolation { .. })));
    assert_eq!(audit.violations[0].target, "/etc/hostname", "{audit:?}");
    assert_eq!(audit.violations.len(), 1, "{audit:?}");
}
