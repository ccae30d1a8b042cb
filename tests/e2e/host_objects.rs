//! Host objects: the `page` objects of the `Workspace` host interface live in
//! each instance's resource table on the host; the `reviewer` plugin gets
//! handles on them, calls their methods, lends and gives them back. A plugin
//! can use only the handles it was given, and the objects go with the
//! instance.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use example_interfaces::{Page, ReviewerPlugin, Workspace, WorkspaceHost};
use wasm_sandbox::{
    Capability, CapabilityKind, Decision, Error, ImportCheck, SecurityPolicy, WasmSandbox,
};

/// Pages alive on the host, over every test of this file (which take turns
/// through `SERIAL`: a constructor has no host state to count in).
static LIVE: AtomicUsize = AtomicUsize::new(0);
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct HostPage {
    title: String,
    text: String,
}

impl HostPage {
    fn made(title: &str, text: &str) -> HostPage {
        LIVE.fetch_add(1, Ordering::SeqCst);
        HostPage {
            title: title.to_string(),
            text: text.to_string(),
        }
    }
}

impl Drop for HostPage {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

// ANCHOR: host
impl Page for HostPage {
    fn new(text: String) -> Self {
        HostPage::made("draft", &text)
    }

    fn text(&self) -> String {
        self.text.clone()
    }

    fn line(&self, n: u32) -> Option<String> {
        self.text.lines().nth(n as usize).map(str::to_string)
    }

    fn lines(&self) -> u32 {
        self.text.lines().count() as u32
    }

    fn kind() -> String {
        "plain text".to_string()
    }
}

struct Files(HashMap<&'static str, &'static str>);

impl Workspace for Files {
    type Page = HostPage;

    fn open(&self, path: String) -> HostPage {
        HostPage::made(&path, self.0.get(path.as_str()).copied().unwrap_or(""))
    }

    fn title(&self, page: &HostPage) -> String {
        page.title.to_uppercase()
    }

    fn close(&self, page: HostPage) -> u32 {
        page.lines()
    }
}
// ANCHOR_END: host

fn files() -> Files {
    Files(HashMap::from([
        ("notes.txt", "buy milk\ncall Ada"),
        ("secret.txt", "the launch codes"),
    ]))
}

async fn sandbox(policy: SecurityPolicy) -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::REVIEWER)
        .host_interface(WorkspaceHost::new(files()))
        .security_policy(policy)
        .build()
        .await
        .unwrap()
}

fn granted() -> SecurityPolicy {
    SecurityPolicy::strict().allow(Capability::Custom(WorkspaceHost::CAPABILITY.to_string()))
}

fn live() -> usize {
    LIVE.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_plugin_calls_the_methods_of_host_objects_and_lends_them_back() {
    let _turn = SERIAL.lock().await;
    let sandbox = sandbox(granted()).await;
    let reviewer = ReviewerPlugin::load(&sandbox).unwrap();
    let before = live();
    let (text, audit) = sandbox
        .call_with_audit::<_, String>("plugin#review", ("notes.txt",))
        .await
        .unwrap();
    assert_eq!(text, "NOTES.TXT (2 lines, plain text): buy milk");
    assert_eq!(
        live(),
        before,
        "the plugin dropped its page: the host's went too"
    );
    // Every call into the host is checked and audited, the objects' too.
    let targets: Vec<&str> = audit.events.iter().map(|e| e.target.as_str()).collect();
    for function in [
        "open",
        "[method]page.line",
        "title",
        "[method]page.lines",
        "[static]page.kind",
    ] {
        let target = format!("example-interfaces:workspace/workspace#{function}");
        assert!(
            targets.contains(&target.as_str()),
            "{function}: {targets:?}"
        );
    }
    assert!(
        audit
            .events
            .iter()
            .all(|e| e.capability == CapabilityKind::Custom && e.decision == Decision::Allowed)
    );
    // The constructor, and a page given back to the host.
    assert_eq!(reviewer.draft("one\ntwo\nthree").await.unwrap(), 3);
    assert_eq!(live(), before);
}

#[tokio::test]
async fn host_objects_live_in_the_instance_and_go_with_it() {
    let _turn = SERIAL.lock().await;
    let sandbox = sandbox(granted()).await;
    let reviewer = ReviewerPlugin::load(&sandbox).unwrap();
    let before = live();
    assert_eq!(reviewer.hold("notes.txt").await.unwrap(), 1);
    assert_eq!(reviewer.hold("secret.txt").await.unwrap(), 2);
    assert_eq!(live(), before + 2, "held by the plugin, kept by the host");
    assert_eq!(reviewer.release_all().await.unwrap(), 2);
    assert_eq!(live(), before);

    reviewer.hold("notes.txt").await.unwrap();
    reviewer.hold("notes.txt").await.unwrap();
    sandbox.reset().await.unwrap();
    assert_eq!(live(), before, "a reset drops the instance's table");

    reviewer.hold("notes.txt").await.unwrap();
    let err = reviewer.crash().await.unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");
    assert_eq!(reviewer.release_all().await.unwrap(), 0, "a fresh instance");
    assert_eq!(
        live(),
        before,
        "the trapped instance's objects went with it"
    );

    reviewer.hold("notes.txt").await.unwrap();
    drop(reviewer);
    drop(sandbox);
    assert_eq!(live(), before, "and so do a dropped sandbox's");
}

#[tokio::test]
async fn a_plugin_cannot_forge_a_handle_to_an_object_it_was_not_given() {
    let _turn = SERIAL.lock().await;
    // Another sandbox's plugin holds the secret page.
    let other = sandbox(granted()).await;
    let holder = ReviewerPlugin::load(&other).unwrap();
    holder.hold("secret.txt").await.unwrap();

    let sandbox = sandbox(granted()).await;
    let thief = ReviewerPlugin::load(&sandbox).unwrap();
    // Its own table holds WASI's resources and nothing else: every index
    // names nothing, or an object of another type.
    for handle in 0..32 {
        let err = thief.forge(handle).await.unwrap_err();
        match &err {
            Error::Trap {
                function, message, ..
            } => {
                assert!(function.ends_with("#forge"), "{err}");
                assert!(message.contains("handle"), "handle {handle}: {err}");
            }
            other => panic!("handle {handle}: expected a trap, got {other:?}"),
        }
    }
    // Even after holding a page of its own, a forged index reaches only
    // what it holds, never the other sandbox's page.
    thief.hold("notes.txt").await.unwrap();
    for handle in 0..32 {
        if let Ok(text) = thief.forge(handle).await {
            assert_eq!(text, "buy milk\ncall Ada", "handle {handle}");
        }
        thief.hold("notes.txt").await.unwrap();
    }
    assert_eq!(
        holder.hold("secret.txt").await.unwrap(),
        2,
        "the holder is untouched"
    );
}

#[tokio::test]
async fn a_handle_given_back_cannot_be_used_again() {
    let _turn = SERIAL.lock().await;
    let sandbox = sandbox(granted()).await;
    let reviewer = ReviewerPlugin::load(&sandbox).unwrap();
    let before = live();
    let err = reviewer.reuse("notes.txt").await.unwrap_err();
    match &err {
        Error::Trap { message, .. } => assert!(message.contains("handle"), "{err}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(live(), before, "the page was released before the reuse");
    // The host stays usable.
    assert!(
        reviewer
            .review("notes.txt")
            .await
            .unwrap()
            .starts_with("NOTES.TXT")
    );
}

#[tokio::test]
async fn without_a_grant_object_calls_are_refused_and_audited() {
    let _turn = SERIAL.lock().await;
    let err = WasmSandbox::builder()
        .source(example_plugins::REVIEWER)
        .host_interface(WorkspaceHost::new(files()))
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnsatisfiableImport { .. }), "{err:?}");

    let sandbox = sandbox(SecurityPolicy::strict().import_check(ImportCheck::Warn)).await;
    let before = live();
    let (result, audit) = sandbox
        .call_with_audit_outcome::<_, String>("plugin#review", ("notes.txt",))
        .await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::SecurityViolation { .. }), "{err:?}");
    assert_eq!(audit.violations.len(), 1, "{:?}", audit.violations);
    assert_eq!(
        audit.violations[0].target,
        "example-interfaces:workspace/workspace#open"
    );
    assert_eq!(live(), before, "nothing was made");
}

#[tokio::test]
async fn the_host_lends_and_gives_its_objects_to_plugin_calls() {
    let _turn = SERIAL.lock().await;
    let sandbox = sandbox(granted()).await;
    let reviewer = ReviewerPlugin::load(&sandbox).unwrap();
    let before = live();
    // Lent for the call: the host has it back (and drops it) afterwards.
    let page = HostPage::made("memo", "one\ntwo");
    assert_eq!(reviewer.describe(page).await.unwrap(), "2 lines: one\ntwo");
    assert_eq!(live(), before, "a lent page is taken back after the call");
    // Given: the plugin keeps it until it drops it.
    let kept = reviewer.keep(HostPage::made("kept", "a")).await.unwrap();
    assert_eq!(kept, 1);
    assert_eq!(live(), before + 1);
    assert_eq!(reviewer.release_all().await.unwrap(), 1);
    assert_eq!(
        live(),
        before,
        "the plugin dropped it: the host's table let it go"
    );
    // Given, then the instance goes.
    reviewer.keep(HostPage::made("kept", "a")).await.unwrap();
    sandbox.reset().await.unwrap();
    assert_eq!(live(), before);
}

/// Implements the trait, but is not the type `Files` registered.
struct Impostor;
impl Page for Impostor {
    fn new(_: String) -> Self {
        Impostor
    }
    fn text(&self) -> String {
        "impostor".into()
    }
    fn line(&self, _: u32) -> Option<String> {
        None
    }
    fn lines(&self) -> u32 {
        0
    }
    fn kind() -> String {
        String::new()
    }
}
#[tokio::test]
async fn an_object_of_another_type_than_the_host_interface_s_is_refused() {
    let _turn = SERIAL.lock().await;
    let sandbox = sandbox(granted()).await;
    let reviewer = ReviewerPlugin::load(&sandbox).unwrap();
    let before = live();
    let err = reviewer.describe(Impostor).await.unwrap_err();
    match &err {
        Error::TypeMismatch { given, .. } => assert!(given.contains("Impostor"), "{err}"),
        other => panic!("expected a type mismatch, got {other:?}"),
    }
    crate::assert_errors_chapter_quotes(&err.to_string());
    // Nothing ran, nothing was kept, and the instance was kept.
    assert_eq!(sandbox.instances_created(), 1);
    assert_eq!(
        reviewer
            .describe(HostPage::made("memo", "x"))
            .await
            .unwrap(),
        "1 lines: x"
    );
    assert_eq!(live(), before);
}

#[tokio::test]
async fn host_objects_work_on_the_synchronous_path_and_on_a_pool() {
    let _turn = SERIAL.lock().await;
    let before = live();
    let sync = WasmSandbox::builder()
        .source(example_plugins::REVIEWER)
        .host_interface(WorkspaceHost::new(files()))
        .security_policy(granted())
        .synchronous_calls(true)
        .build()
        .await
        .unwrap();
    assert!(sync.is_synchronous());
    let reviewer = ReviewerPlugin::load(&sync).unwrap();
    assert_eq!(
        reviewer
            .describe(HostPage::made("m", "a\nb"))
            .await
            .unwrap(),
        "2 lines: a\nb"
    );
    assert_eq!(reviewer.keep(HostPage::made("k", "a")).await.unwrap(), 1);
    assert!(
        reviewer
            .review("notes.txt")
            .await
            .unwrap()
            .starts_with("NOTES.TXT")
    );
    assert_eq!(reviewer.release_all().await.unwrap(), 1);
    assert_eq!(live(), before);

    let pool = wasm_sandbox::SandboxPool::builder()
        .source(example_plugins::REVIEWER)
        .host_interface(WorkspaceHost::new(files()))
        .security_policy(granted())
        .max_instances(3)
        .build()
        .await
        .unwrap();
    let reviewer = ReviewerPlugin::load(&pool).unwrap();
    let calls = (0..6).map(|i| {
        let reviewer = &reviewer;
        async move {
            reviewer
                .describe(HostPage::made("m", &"x\n".repeat(i)))
                .await
                .unwrap()
        }
    });
    let described = futures_util::future::join_all(calls).await;
    for (i, text) in described.iter().enumerate() {
        assert!(text.starts_with(&format!("{i} lines")), "{text}");
    }
    drop(reviewer);
    drop(pool);
    assert_eq!(live(), before);
}
