//! Attacks on the filesystem guard by the `burglar` plugin, which calls
//! every `wasi:filesystem/types` function directly: symlinks against lexical
//! `..` (class 1), hard links (class 2), renaming and removing ancestors of
//! denied paths (class 3), and descriptor-level functions (class 4), plus
//! positive controls showing granted operations still work.
//!
//! Each attack checks both what the plugin got (the WASI error `access`, no
//! leaked data) and what the host audited (a `Denied` event with the
//! operation and the *real* host path of the object reached), and where
//! something could have changed, the real file system.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use example_interfaces::{AtCall, FdCall, FsAdvice, FsOp, FsOutcome, FsTime, OpenOptions};
use wasm_sandbox::{
    AuditEvent, CallAudit, Capability, CapabilityKind, Decision, ImportCheck, SecurityPolicy,
    WasmSandbox,
};

/// A canonical temporary directory to build trees in.
struct Fx {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Fx {
    fn new() -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        Fx { _tmp: tmp, root }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn s(&self, rel: &str) -> String {
        s(&self.p(rel))
    }

    fn dir(&self, rel: &str) -> &Fx {
        std::fs::create_dir_all(self.p(rel)).unwrap();
        self
    }

    fn file(&self, rel: &str, text: &str) -> &Fx {
        let path = self.p(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// A symlink at `rel` whose text is `target`.
    fn link(&self, rel: &str, target: &str) -> &Fx {
        std::os::unix::fs::symlink(target, self.p(rel)).unwrap();
        self
    }

    fn exists(&self, rel: &str) -> bool {
        self.p(rel).symlink_metadata().is_ok()
    }
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// What can change about one object on the host.
#[derive(Debug, PartialEq, Eq)]
struct Snap {
    ino: u64,
    mode: u32,
    nlink: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    /// File contents, or a directory's sorted entry names.
    content: Vec<u8>,
}

fn snap(path: &Path) -> Snap {
    let m = path
        .symlink_metadata()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let content = if m.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.join("\n").into_bytes()
    } else if m.is_file() {
        std::fs::read(path).unwrap()
    } else {
        s(&std::fs::read_link(path).unwrap()).into_bytes()
    };
    Snap {
        ino: m.ino(),
        mode: m.mode(),
        nlink: m.nlink(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        content,
    }
}

async fn burglar(policy: SecurityPolicy) -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::BURGLAR)
        .security_policy(policy.import_check(ImportCheck::Warn))
        .build()
        .await
        .expect("the burglar plugin loads")
}

/// Runs a script; a guard that hangs (on a symlink loop, say) fails the test.
async fn run(sandbox: &WasmSandbox, ops: Vec<FsOp>) -> (Vec<FsOutcome>, CallAudit) {
    let n = ops.len();
    let call = sandbox.call_with_audit::<(Vec<FsOp>,), Vec<FsOutcome>>("plugin#run", (ops,));
    let (outcomes, audit) = tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .expect("the script ends")
        .unwrap_or_else(|e| panic!("plugin#run: {e}"));
    assert_eq!(outcomes.len(), n, "one outcome per operation");
    (outcomes, audit)
}

fn pre(p: &Path) -> FsOp {
    FsOp::Preopen(s(p))
}

fn stat_at(slot: u32, follow: bool, path: &str) -> FsOp {
    FsOp::at(
        slot,
        AtCall::StatAt {
            follow,
            path: path.into(),
        },
    )
}

fn link_at(slot: u32, follow: bool, old: &str, new_slot: u32, new: &str) -> FsOp {
    FsOp::at(
        slot,
        AtCall::LinkAt {
            follow,
            old_path: old.into(),
            new_slot,
            new_path: new.into(),
        },
    )
}

fn rename_at(slot: u32, old: &str, new_slot: u32, new: &str) -> FsOp {
    FsOp::at(
        slot,
        AtCall::RenameAt {
            old_path: old.into(),
            new_slot,
            new_path: new.into(),
        },
    )
}

fn set_times_at(slot: u32, follow: bool, path: &str, t: FsTime) -> FsOp {
    FsOp::at(
        slot,
        AtCall::SetTimesAt {
            follow,
            path: path.into(),
            atime: t,
            mtime: t,
        },
    )
}

fn symlink_at(slot: u32, target: &str, path: &str) -> FsOp {
    FsOp::at(
        slot,
        AtCall::SymlinkAt {
            target: target.into(),
            path: path.into(),
        },
    )
}

/// A time no test machine has now.
const LONG_AGO: FsTime = FsTime::At(1000, 0);

#[track_caller]
fn access(outcomes: &[FsOutcome], i: usize) {
    assert_eq!(
        outcomes[i],
        FsOutcome::Failed("access".to_string()),
        "operation {i}: {outcomes:#?}"
    );
}

#[track_caller]
fn slot(outcomes: &[FsOutcome], i: usize, expected: u32) {
    assert_eq!(
        outcomes[i],
        FsOutcome::Slot(expected),
        "operation {i}: {outcomes:#?}"
    );
}

/// The `Denied` event of `operation` on `target` (and of `kind`, when
/// given); it is also among the call's violations.
#[track_caller]
fn denied(
    audit: &CallAudit,
    kind: Option<CapabilityKind>,
    operation: &str,
    target: &str,
) -> AuditEvent {
    let found = audit.events.iter().find(|e| {
        e.decision == Decision::Denied
            && e.operation == operation
            && e.target == target
            && kind.is_none_or(|k| e.capability == k)
    });
    let Some(e) = found else {
        panic!(
            "expected a denied {kind:?} `{operation}` event on {target} in {:#?}",
            audit.events
        );
    };
    assert!(audit.violations.contains(e), "{e:?}");
    e.clone()
}

/// How many `Denied` events of `operation` on `target` the call has.
fn denials(audit: &CallAudit, operation: &str, target: &str) -> usize {
    audit
        .events
        .iter()
        .filter(|e| {
            e.decision == Decision::Denied && e.operation == operation && e.target == target
        })
        .count()
}

/// The `Allowed` event of `operation` on `target`.
#[track_caller]
fn allowed(audit: &CallAudit, operation: &str, target: &str) -> AuditEvent {
    audit
        .events
        .iter()
        .find(|e| e.decision == Decision::Allowed && e.operation == operation && e.target == target)
        .unwrap_or_else(|| {
            panic!(
                "expected an allowed `{operation}` event on {target} in {:#?}",
                audit.events
            )
        })
        .clone()
}

/// No outcome contains `needle` (a content marker or a hidden name).
#[track_caller]
fn not_leaked(outcomes: &[FsOutcome], needle: &str) {
    let text = format!("{outcomes:?}");
    assert!(!text.contains(needle), "{needle} leaked: {outcomes:#?}");
}

const READ: Option<CapabilityKind> = Some(CapabilityKind::FileRead);
const WRITE: Option<CapabilityKind> = Some(CapabilityKind::FileWrite);

/// The tree most attacks run against:
///
/// ```text
/// pub/                 FileRead
///   a.txt, sub/b.txt, data/ok.txt
///   secret/s.txt       deny FileRead
///   data/hidden/h.txt  deny FileRead
///   (symlinks, made by the host)
/// rw/                  FileWrite
///   w.txt
///   locked/l.txt       deny FileWrite (readable)
///   secret/s.txt       deny FileRead
///   lk -> locked/l.txt
/// outside/o.txt, priv/x/, priv/y  (no grant)
/// ```
fn tree() -> Fx {
    let fx = Fx::new();
    fx.file("pub/a.txt", "MARK-pub-a")
        .file("pub/sub/b.txt", "MARK-pub-b")
        .file("pub/secret/s.txt", "MARK-pub-secret")
        .link("pub/secret/inner", "s.txt")
        .file("pub/data/ok.txt", "MARK-data-ok")
        .file("pub/data/hidden/h.txt", "MARK-data-hidden")
        .file("outside/o.txt", "MARK-outside")
        .dir("priv/x")
        .file("priv/y", "MARK-priv-y")
        .file("rw/w.txt", "MARK-rw-w")
        .file("rw/locked/l.txt", "MARK-rw-locked")
        .file("rw/secret/s.txt", "MARK-rw-secret")
        .link("rw/lk", "locked/l.txt")
        // Symlinks the host made inside the read-only grant.
        .link("pub/dot", ".")
        .link("pub/up", "..")
        .link("pub/sub/up", "..")
        .link("pub/sib", "secret")
        .link("pub/c1", "c2")
        .link("pub/c2", "c3")
        .link("pub/c3", "secret/s.txt")
        .link("pub/c4", "c5")
        .link("pub/c5", "sub/b.txt")
        .link("pub/loop1", "loop2")
        .link("pub/loop2", "loop1")
        .link("pub/self", "self")
        .link("pub/out", "../outside/o.txt")
        .link("pub/l", "../priv/x")
        .link("pub/view", "data");
    let abs = fx.s("pub/a.txt");
    fx.link("pub/abs", &abs);
    fx
}

fn policy(fx: &Fx) -> SecurityPolicy {
    SecurityPolicy::strict()
        .allow(Capability::FileRead(fx.p("pub")))
        .deny(Capability::FileRead(fx.p("pub/secret")))
        .deny(Capability::FileRead(fx.p("pub/data/hidden")))
        .allow(Capability::FileWrite(fx.p("rw")))
        .deny(Capability::FileWrite(fx.p("rw/locked")))
        .deny(Capability::FileRead(fx.p("rw/secret")))
}

/// Class 1: symlinks are followed the way the kernel follows them, and the
/// decision is made on what they reach.
mod symlinks {
    use super::*;

    #[tokio::test]
    async fn a_link_to_dot_then_dot_dot_leaves_the_grant() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                FsOp::open(0, "dot/../outside/o.txt", OpenOptions::read()),
                stat_at(0, true, "dot/../outside/o.txt"),
            ],
        )
        .await;
        slot(&out, 0, 0);
        access(&out, 1);
        access(&out, 2);
        let target = fx.s("outside/o.txt");
        denied(&audit, READ, "open", &target);
        denied(&audit, READ, "stat", &target);
        not_leaked(&out, "MARK-outside");
    }

    #[tokio::test]
    async fn a_link_to_dot_dot_leaves_the_grant() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                FsOp::open(0, "up/outside/o.txt", OpenOptions::read()),
                FsOp::open(0, "up", OpenOptions::dir()),
                FsOp::at(
                    0,
                    AtCall::MetadataHashAt {
                        follow: true,
                        path: "up/priv/y".into(),
                    },
                ),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        access(&out, 3);
        denied(&audit, READ, "open", &fx.s("outside/o.txt"));
        denied(&audit, READ, "open", &s(&fx.root));
        denied(&audit, READ, "stat", &fx.s("priv/y"));
        not_leaked(&out, "MARK-outside");
    }

    #[tokio::test]
    async fn dot_dot_through_a_nested_link_reaches_a_denial() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                // sub/up -> .. is pub itself: inside the grant, but the
                // denied subtree is still denied.
                FsOp::open(0, "sub/up/secret/s.txt", OpenOptions::read()),
                FsOp::open(0, "sub/up/secret", OpenOptions::dir()),
                stat_at(0, false, "sub/up/secret/s.txt"),
                // The allowed neighbour through the same link.
                FsOp::open(0, "sub/up/a.txt", OpenOptions::read()),
                FsOp::fd(3, FdCall::Read(100, 0)),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        access(&out, 3);
        slot(&out, 4, 3);
        assert_eq!(out[5], FsOutcome::Data("MARK-pub-a".into()));
        denied(&audit, READ, "open", &fx.s("pub/secret/s.txt"));
        denied(&audit, READ, "open", &fx.s("pub/secret"));
        denied(&audit, READ, "stat", &fx.s("pub/secret/s.txt"));
        allowed(&audit, "open", &fx.s("pub/a.txt"));
        not_leaked(&out, "MARK-pub-secret");
    }

    #[tokio::test]
    async fn a_link_to_a_denied_sibling_directory_reads_lists_and_stats_nothing() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                FsOp::open(0, "sib/s.txt", OpenOptions::read()),
                FsOp::open(0, "sib", OpenOptions::dir()),
                stat_at(0, true, "sib/s.txt"),
                stat_at(0, true, "sib"),
                FsOp::at(
                    0,
                    AtCall::MetadataHashAt {
                        follow: true,
                        path: "sib/s.txt".into(),
                    },
                ),
                FsOp::at(0, AtCall::ReadlinkAt("sib/inner".into())),
            ],
        )
        .await;
        for i in 1..=6 {
            access(&out, i);
        }
        denied(&audit, READ, "open", &fx.s("pub/secret/s.txt"));
        denied(&audit, READ, "open", &fx.s("pub/secret"));
        assert!(denials(&audit, "stat", &fx.s("pub/secret/s.txt")) >= 2);
        denied(&audit, READ, "stat", &fx.s("pub/secret"));
        denied(&audit, READ, "readlink", &fx.s("pub/secret/inner"));
        not_leaked(&out, "MARK-pub-secret");
        not_leaked(&out, "s.txt");
    }

    #[tokio::test]
    async fn a_chain_of_links_is_decided_on_its_end() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                // c1 -> c2 -> c3 -> secret/s.txt
                FsOp::open(0, "c1", OpenOptions::read()),
                stat_at(0, true, "c2"),
                // c4 -> c5 -> sub/b.txt is allowed.
                FsOp::open(0, "c4", OpenOptions::read()),
                FsOp::fd(2, FdCall::Read(100, 0)),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        slot(&out, 3, 2);
        assert_eq!(out[4], FsOutcome::Data("MARK-pub-b".into()));
        denied(&audit, READ, "open", &fx.s("pub/secret/s.txt"));
        denied(&audit, READ, "stat", &fx.s("pub/secret/s.txt"));
        allowed(&audit, "open", &fx.s("pub/sub/b.txt"));
        not_leaked(&out, "MARK-pub-secret");
    }

    #[tokio::test]
    async fn symlink_loops_end_with_an_error() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, _audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                FsOp::open(0, "loop1", OpenOptions::read()),
                FsOp::open(0, "self", OpenOptions::read()),
                FsOp::open(0, "loop1/x", OpenOptions::read()),
                stat_at(0, true, "loop2"),
                FsOp::open(0, "self/../a.txt", OpenOptions::read()),
                // The link itself, not followed, is an object in the grant.
                stat_at(0, false, "loop1"),
            ],
        )
        .await;
        for (i, o) in out.iter().enumerate().take(6).skip(1) {
            assert!(
                matches!(o.error(), Some("loop" | "access")),
                "operation {i} did not fail with `loop`: {out:#?}"
            );
        }
        match &out[6] {
            FsOutcome::Stat(st) => assert_eq!(st.kind, "symbolic-link"),
            other => panic!("lstat of a link in the grant: {other:?}"),
        }
    }

    #[tokio::test]
    async fn links_out_of_the_grant_are_refused_with_the_real_target() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                // out -> ../outside/o.txt
                FsOp::open(0, "out", OpenOptions::read()),
                // l -> ../priv/x, so l/.. is priv (the real parent).
                FsOp::open(0, "l/../y", OpenOptions::read()),
                // abs -> <root>/pub/a.txt: an absolute target is refused
                // even where it points back into the grant.
                FsOp::open(0, "abs", OpenOptions::read()),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        access(&out, 3);
        denied(&audit, READ, "open", &fx.s("outside/o.txt"));
        denied(&audit, READ, "open", &fx.s("priv/y"));
        denied(&audit, READ, "open", &fx.s("pub/a.txt"));
        not_leaked(&out, "MARK-");
    }

    #[tokio::test]
    async fn a_directory_opened_through_a_link_is_decided_on_its_real_path() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                // view -> data
                FsOp::open(0, "view", OpenOptions::dir()),
                FsOp::open(1, "hidden/h.txt", OpenOptions::read()),
                FsOp::open(1, "hidden", OpenOptions::dir()),
                stat_at(1, true, "hidden/h.txt"),
                FsOp::fd(1, FdCall::ReadDirectory),
                FsOp::open(1, "ok.txt", OpenOptions::read()),
                FsOp::fd(4, FdCall::Read(100, 0)),
            ],
        )
        .await;
        slot(&out, 1, 1);
        access(&out, 2);
        access(&out, 3);
        access(&out, 4);
        match &out[5] {
            FsOutcome::Entries(names) => assert_eq!(names, &["ok.txt"], "`hidden` is not listed"),
            other => panic!("listing: {other:?}"),
        }
        slot(&out, 6, 4);
        assert_eq!(out[7], FsOutcome::Data("MARK-data-ok".into()));
        allowed(&audit, "open", &fx.s("pub/data"));
        denied(&audit, READ, "open", &fx.s("pub/data/hidden/h.txt"));
        denied(&audit, READ, "open", &fx.s("pub/data/hidden"));
        denied(&audit, READ, "stat", &fx.s("pub/data/hidden/h.txt"));
        allowed(&audit, "open", &fx.s("pub/data/ok.txt"));
        for e in &audit.events {
            assert!(
                !e.target.contains("/view"),
                "audited by the link's name: {e:?}"
            );
            if e.operation == "list" {
                assert_eq!(e.target, fx.s("pub/data"), "{e:?}");
            }
        }
        not_leaked(&out, "MARK-data-hidden");
    }

    #[tokio::test]
    async fn host_made_links_into_a_write_denial_write_nothing() {
        let fx = tree();
        let before = snap(&fx.p("rw/locked/l.txt"));
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                // lk -> locked/l.txt
                FsOp::open(0, "lk", OpenOptions::read_write()),
                FsOp::open(
                    0,
                    "lk",
                    OpenOptions {
                        write: true,
                        truncate: true,
                        ..OpenOptions::read()
                    },
                ),
                set_times_at(0, true, "lk", LONG_AGO),
                // Reading stays allowed.
                FsOp::open(0, "lk", OpenOptions::read()),
                FsOp::fd(3, FdCall::Read(100, 0)),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        access(&out, 3);
        slot(&out, 4, 3);
        assert_eq!(out[5], FsOutcome::Data("MARK-rw-locked".into()));
        let target = fx.s("rw/locked/l.txt");
        assert!(denials(&audit, "open", &target) >= 2, "{:#?}", audit.events);
        denied(&audit, WRITE, "set-times", &target);
        assert_eq!(snap(&fx.p("rw/locked/l.txt")), before);
    }

    #[tokio::test]
    async fn plugin_made_links_under_a_write_grant_reach_nothing_denied() {
        let fx = tree();
        let locked = snap(&fx.p("rw/locked/l.txt"));
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                symlink_at(0, "secret", "to-secret"),
                FsOp::open(0, "to-secret/s.txt", OpenOptions::read()),
                symlink_at(0, "..", "up"),
                FsOp::open(0, "up/outside/o.txt", OpenOptions::read()),
                FsOp::open(0, "up/outside/new.txt", OpenOptions::create()),
                symlink_at(0, "locked/l.txt", "to-locked"),
                FsOp::open(0, "to-locked", OpenOptions::read_write()),
                set_times_at(0, true, "to-locked", LONG_AGO),
                symlink_at(0, ".", "here"),
                FsOp::open(0, "here/here/../outside/o.txt", OpenOptions::read()),
            ],
        )
        .await;
        // Relative links may be made (or refused); either way what they
        // point at stays out of reach.
        let made = |i: usize, path: &str| match &out[i] {
            FsOutcome::Done => true,
            FsOutcome::Failed(code) if code == "access" => {
                denials(&audit, "symlink", &fx.s(&format!("rw/{path}"))) > 0 || {
                    panic!("refused symlink {path} not audited: {:#?}", audit.events)
                }
            }
            other => panic!("symlink {path}: {other:?}"),
        } && fx.exists(&format!("rw/{path}"));
        if made(1, "to-secret") {
            access(&out, 2);
            denied(&audit, READ, "open", &fx.s("rw/secret/s.txt"));
        }
        if made(3, "up") {
            access(&out, 4);
            access(&out, 5);
            denied(&audit, READ, "open", &fx.s("outside/o.txt"));
            denied(&audit, None, "create", &fx.s("outside/new.txt"));
        }
        if made(6, "to-locked") {
            access(&out, 7);
            access(&out, 8);
            denied(&audit, WRITE, "open", &fx.s("rw/locked/l.txt"));
            denied(&audit, WRITE, "set-times", &fx.s("rw/locked/l.txt"));
        }
        if made(9, "here") {
            access(&out, 10);
            denied(&audit, READ, "open", &fx.s("outside/o.txt"));
        }
        assert!(!fx.exists("outside/new.txt"));
        assert_eq!(snap(&fx.p("rw/locked/l.txt")), locked);
        not_leaked(&out, "MARK-");
    }

    #[tokio::test]
    async fn a_symlink_with_an_absolute_target_cannot_be_made() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let outside = fx.s("outside/o.txt");
        let inside = fx.s("rw/w.txt");
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                symlink_at(0, &outside, "abs-out"),
                symlink_at(0, &inside, "abs-in"),
                symlink_at(0, "/", "abs-root"),
            ],
        )
        .await;
        for (i, name) in [(1, "abs-out"), (2, "abs-in"), (3, "abs-root")] {
            access(&out, i);
            let link = fx.s(&format!("rw/{name}"));
            let e = audit
                .events
                .iter()
                .find(|e| e.operation == "symlink" && e.target.starts_with(&link))
                .unwrap_or_else(|| panic!("no symlink event for {link}: {:#?}", audit.events));
            assert_eq!(e.decision, Decision::Denied, "{e:?}");
            assert_eq!(e.capability, CapabilityKind::FileWrite, "{e:?}");
            assert!(!fx.exists(&format!("rw/{name}")));
        }
    }
}

/// Class 2: a hard link never gives an object a name it could not have.
mod hard_links {
    use super::*;

    #[tokio::test]
    async fn a_write_denied_file_gets_no_writable_name() {
        let fx = tree();
        let before = snap(&fx.p("rw/locked/l.txt"));
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                link_at(0, false, "locked/l.txt", 0, "l2"),
                // Through the host-made symlink, followed.
                link_at(0, true, "lk", 0, "l3"),
                // And through `.` and the real parent of a subdirectory.
                link_at(0, false, "./locked/../locked/l.txt", 0, "l4"),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        access(&out, 3);
        let l = fx.s("rw/locked/l.txt");
        for new in ["l2", "l3", "l4"] {
            denied(
                &audit,
                None,
                "link",
                &format!("{l} -> {}", fx.s(&format!("rw/{new}"))),
            );
            assert!(!fx.exists(&format!("rw/{new}")));
        }
        assert_eq!(snap(&fx.p("rw/locked/l.txt")), before, "nlink and ctime");
    }

    #[tokio::test]
    async fn a_read_denied_file_gets_no_new_name() {
        let fx = tree();
        let before = snap(&fx.p("rw/secret/s.txt"));
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                link_at(0, false, "secret/s.txt", 0, "s2"),
                FsOp::open(0, "s2", OpenOptions::read()),
            ],
        )
        .await;
        access(&out, 1);
        assert!(out[2].error().is_some(), "{out:#?}");
        denied(
            &audit,
            None,
            "link",
            &format!("{} -> {}", fx.s("rw/secret/s.txt"), fx.s("rw/s2")),
        );
        assert!(!fx.exists("rw/s2"));
        assert_eq!(snap(&fx.p("rw/secret/s.txt")), before);
        not_leaked(&out, "MARK-rw-secret");
    }

    #[tokio::test]
    async fn a_read_only_file_gets_no_writable_name() {
        let fx = tree();
        let before = snap(&fx.p("pub/a.txt"));
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                pre(&fx.p("rw")),
                link_at(0, false, "a.txt", 1, "a2"),
                link_at(0, true, "c4", 1, "b2"),
            ],
        )
        .await;
        slot(&out, 1, 1);
        access(&out, 2);
        access(&out, 3);
        denied(
            &audit,
            None,
            "link",
            &format!("{} -> {}", fx.s("pub/a.txt"), fx.s("rw/a2")),
        );
        denied(
            &audit,
            None,
            "link",
            &format!("{} -> {}", fx.s("pub/sub/b.txt"), fx.s("rw/b2")),
        );
        assert!(!fx.exists("rw/a2") && !fx.exists("rw/b2"));
        assert_eq!(snap(&fx.p("pub/a.txt")), before);
    }

    #[tokio::test]
    async fn nothing_is_linked_into_a_denial() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                link_at(0, false, "w.txt", 0, "locked/w2"),
                link_at(0, false, "w.txt", 0, "secret/w3"),
                link_at(0, false, "w.txt", 0, "locked/../secret/w4"),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        access(&out, 3);
        let w = fx.s("rw/w.txt");
        denied(
            &audit,
            None,
            "link",
            &format!("{w} -> {}", fx.s("rw/locked/w2")),
        );
        denied(
            &audit,
            None,
            "link",
            &format!("{w} -> {}", fx.s("rw/secret/w3")),
        );
        denied(
            &audit,
            None,
            "link",
            &format!("{w} -> {}", fx.s("rw/secret/w4")),
        );
        for name in ["rw/locked/w2", "rw/secret/w3", "rw/secret/w4"] {
            assert!(!fx.exists(name), "{name}");
        }
        assert_eq!(std::fs::metadata(fx.p("rw/w.txt")).unwrap().nlink(), 1);
    }

    #[tokio::test]
    async fn a_single_file_write_grant_does_not_launder_its_neighbours() {
        let fx = Fx::new();
        fx.file("sf/ro.txt", "MARK-sf-ro").file("sf/out.txt", "out");
        let ro = snap(&fx.p("sf/ro.txt"));
        let policy = SecurityPolicy::strict()
            .allow(Capability::FileRead(fx.p("sf")))
            .allow(Capability::FileWrite(fx.p("sf/out.txt")));
        let sandbox = burglar(policy).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("sf")),
                link_at(0, false, "ro.txt", 0, "copy.txt"),
                link_at(0, false, "ro.txt", 0, "out.txt"),
                rename_at(0, "ro.txt", 0, "out.txt"),
                FsOp::open(0, "ro.txt", OpenOptions::read_write()),
                FsOp::open(0, "new.txt", OpenOptions::create()),
                // A descriptor for reading `ro.txt` writes nothing.
                FsOp::open(0, "ro.txt", OpenOptions::read()),
                FsOp::fd(3, FdCall::Write("EVIL".into(), 0)),
                FsOp::fd(3, FdCall::SetSize(0)),
                FsOp::fd(3, FdCall::SetTimes(LONG_AGO, LONG_AGO)),
                FsOp::fd(3, FdCall::WriteViaStream(0, "EVIL".into())),
                FsOp::fd(3, FdCall::AppendViaStream("EVIL".into())),
                // The granted file is writable.
                FsOp::open(
                    0,
                    "out.txt",
                    OpenOptions {
                        write: true,
                        truncate: true,
                        ..OpenOptions::read()
                    },
                ),
                FsOp::fd(4, FdCall::Write("new out".into(), 0)),
            ],
        )
        .await;
        for i in [1, 2, 3, 4, 5, 7, 8, 9, 10, 11] {
            access(&out, i);
        }
        slot(&out, 6, 3);
        slot(&out, 12, 4);
        assert_eq!(out[13], FsOutcome::Written(7));
        let (ro_path, out_path) = (fx.s("sf/ro.txt"), fx.s("sf/out.txt"));
        denied(
            &audit,
            None,
            "link",
            &format!("{ro_path} -> {}", fx.s("sf/copy.txt")),
        );
        denied(&audit, None, "link", &format!("{ro_path} -> {out_path}"));
        denied(&audit, None, "rename", &format!("{ro_path} -> {out_path}"));
        denied(&audit, WRITE, "open", &ro_path);
        denied(&audit, WRITE, "create", &fx.s("sf/new.txt"));
        denied(&audit, WRITE, "set-size", &ro_path);
        denied(&audit, WRITE, "set-times", &ro_path);
        assert!(
            denials(&audit, "write", &ro_path) >= 3,
            "{:#?}",
            audit.events
        );
        assert_eq!(snap(&fx.p("sf/ro.txt")), ro);
        assert!(!fx.exists("sf/copy.txt") && !fx.exists("sf/new.txt"));
        assert_eq!(
            std::fs::read_to_string(fx.p("sf/out.txt")).unwrap(),
            "new out"
        );
    }

    #[tokio::test]
    async fn a_read_only_file_cannot_take_the_name_of_a_missing_single_file_grant() {
        // The granted file does not exist yet: linking or renaming the
        // read-only neighbour to its name would make the neighbour writable.
        let fx = Fx::new();
        fx.file("sf/ro.txt", "MARK-sf-ro");
        let ro = snap(&fx.p("sf/ro.txt"));
        let policy = SecurityPolicy::strict()
            .allow(Capability::FileRead(fx.p("sf")))
            .allow(Capability::FileWrite(fx.p("sf/out.txt")));
        let sandbox = burglar(policy).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("sf")),
                link_at(0, false, "ro.txt", 0, "out.txt"),
                rename_at(0, "ro.txt", 0, "out.txt"),
                symlink_at(0, "ro.txt", "out.txt"),
                // If any of the above had worked, this would write ro.txt.
                FsOp::open(
                    0,
                    "out.txt",
                    OpenOptions {
                        write: true,
                        ..OpenOptions::read()
                    },
                ),
                FsOp::fd(1, FdCall::Write("EVIL".into(), 0)),
                // Creating the granted file itself works.
                FsOp::open(0, "out.txt", OpenOptions::create()),
                FsOp::fd(2, FdCall::Write("fresh".into(), 0)),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        let (ro_path, out_path) = (fx.s("sf/ro.txt"), fx.s("sf/out.txt"));
        denied(&audit, None, "link", &format!("{ro_path} -> {out_path}"));
        denied(&audit, None, "rename", &format!("{ro_path} -> {out_path}"));
        // A symlink named out.txt may be made (it is a name the plugin may
        // write), but writing through it must not reach ro.txt.
        assert!(
            matches!(&out[3], FsOutcome::Done | FsOutcome::Failed(_)),
            "{out:#?}"
        );
        if out[3] == FsOutcome::Done {
            access(&out, 4);
            denied(&audit, WRITE, "open", &ro_path);
        } else {
            assert_eq!(out[4], FsOutcome::Failed("no-entry".into()), "{out:#?}");
            slot(&out, 6, 2);
            assert_eq!(out[7], FsOutcome::Written(5));
            assert_eq!(
                std::fs::read_to_string(fx.p("sf/out.txt")).unwrap(),
                "fresh"
            );
        }
        assert_eq!(
            snap(&fx.p("sf/ro.txt")),
            ro,
            "contents, link count and ctime"
        );
    }
}

/// Class 3: a directory holding a denied path is neither moved, nor
/// removed, nor replaced.
mod ancestors {
    use super::*;

    fn boxes() -> (Fx, SecurityPolicy) {
        let fx = Fx::new();
        fx.file("rw/box/secret/s.txt", "MARK-box-secret")
            .file("rw/box/other.txt", "other")
            .dir("rw/empty")
            .file("rw/mine/f.txt", "mine")
            .dir("rw/sub");
        let policy = SecurityPolicy::strict()
            .allow(Capability::FileWrite(fx.p("rw")))
            .deny(Capability::FileRead(fx.p("rw/box/secret")))
            // Denials of paths that do not exist (yet).
            .deny(Capability::FileRead(fx.p("rw/empty/ghost")))
            .deny(Capability::FileRead(fx.p("rw/ghost/secret")));
        (fx, policy)
    }

    #[tokio::test]
    async fn an_ancestor_of_a_denial_is_not_renamed() {
        let (fx, policy) = boxes();
        let before = snap(&fx.p("rw/box/secret/s.txt"));
        let sandbox = burglar(policy).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                rename_at(0, "box", 0, "box2"),
                rename_at(0, "./box", 0, "box3"),
                rename_at(0, "sub/../box", 0, "sub/box4"),
                rename_at(0, "box/secret", 0, "stolen"),
                rename_at(0, "empty", 0, "empty2"),
            ],
        )
        .await;
        for i in 1..=5 {
            access(&out, i);
        }
        let bx = fx.s("rw/box");
        denied(
            &audit,
            None,
            "rename",
            &format!("{bx} -> {}", fx.s("rw/box2")),
        );
        denied(
            &audit,
            None,
            "rename",
            &format!("{bx} -> {}", fx.s("rw/box3")),
        );
        denied(
            &audit,
            None,
            "rename",
            &format!("{bx} -> {}", fx.s("rw/sub/box4")),
        );
        denied(
            &audit,
            None,
            "rename",
            &format!("{} -> {}", fx.s("rw/box/secret"), fx.s("rw/stolen")),
        );
        denied(
            &audit,
            None,
            "rename",
            &format!("{} -> {}", fx.s("rw/empty"), fx.s("rw/empty2")),
        );
        assert_eq!(snap(&fx.p("rw/box/secret/s.txt")), before);
        assert!(fx.exists("rw/empty"));
        for gone in [
            "rw/box2",
            "rw/box3",
            "rw/sub/box4",
            "rw/stolen",
            "rw/empty2",
        ] {
            assert!(!fx.exists(gone), "{gone}");
        }
    }

    #[tokio::test]
    async fn nothing_is_renamed_onto_an_ancestor_of_a_denial() {
        let (fx, policy) = boxes();
        let sandbox = burglar(policy).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                // rw/ghost does not exist; rw/ghost/secret is denied.
                rename_at(0, "mine", 0, "ghost"),
                // rw/empty exists and is empty; rw/empty/ghost is denied.
                rename_at(0, "mine", 0, "empty"),
                rename_at(0, "mine/f.txt", 0, "ghost"),
            ],
        )
        .await;
        access(&out, 1);
        access(&out, 2);
        access(&out, 3);
        let mine = fx.s("rw/mine");
        denied(
            &audit,
            None,
            "rename",
            &format!("{mine} -> {}", fx.s("rw/ghost")),
        );
        denied(
            &audit,
            None,
            "rename",
            &format!("{mine} -> {}", fx.s("rw/empty")),
        );
        denied(
            &audit,
            None,
            "rename",
            &format!("{} -> {}", fx.s("rw/mine/f.txt"), fx.s("rw/ghost")),
        );
        assert!(!fx.exists("rw/ghost"));
        assert_eq!(
            std::fs::read_to_string(fx.p("rw/mine/f.txt")).unwrap(),
            "mine"
        );
        assert_eq!(std::fs::read_dir(fx.p("rw/empty")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn an_ancestor_of_a_denial_is_not_removed() {
        let (fx, policy) = boxes();
        let sandbox = burglar(policy).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                FsOp::at(0, AtCall::RemoveDirectoryAt("empty".into())),
                FsOp::at(0, AtCall::RemoveDirectoryAt("box".into())),
                FsOp::at(0, AtCall::RemoveDirectoryAt("box/secret".into())),
                FsOp::at(0, AtCall::UnlinkFileAt("box/secret/s.txt".into())),
            ],
        )
        .await;
        for i in 1..=4 {
            access(&out, i);
        }
        denied(&audit, None, "remove", &fx.s("rw/empty"));
        denied(&audit, None, "remove", &fx.s("rw/box"));
        denied(&audit, None, "remove", &fx.s("rw/box/secret"));
        denied(&audit, None, "remove", &fx.s("rw/box/secret/s.txt"));
        assert!(fx.exists("rw/empty") && fx.exists("rw/box/secret/s.txt"));
    }

    #[tokio::test]
    async fn directories_without_denials_are_still_renamed_and_removed() {
        let (fx, policy) = boxes();
        let sandbox = burglar(policy).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                rename_at(0, "mine", 0, "mine2"),
                FsOp::at(0, AtCall::CreateDirectoryAt("fresh".into())),
                FsOp::at(0, AtCall::RemoveDirectoryAt("fresh".into())),
                rename_at(0, "box/other.txt", 0, "other.txt"),
            ],
        )
        .await;
        for i in 1..=4 {
            assert_eq!(out[i], FsOutcome::Done, "operation {i}: {out:#?}");
        }
        assert!(audit.violations.is_empty(), "{:#?}", audit.violations);
        allowed(
            &audit,
            "rename",
            &format!("{} -> {}", fx.s("rw/mine"), fx.s("rw/mine2")),
        );
        allowed(&audit, "mkdir", &fx.s("rw/fresh"));
        allowed(&audit, "remove", &fx.s("rw/fresh"));
        assert!(fx.exists("rw/mine2/f.txt") && !fx.exists("rw/fresh"));
        assert!(fx.exists("rw/other.txt"));
    }
}

/// Class 4: descriptor-level functions are decided on the descriptor's real
/// object, whatever the descriptor was opened for.
mod descriptors {
    use super::*;

    /// Every write-like function on a descriptor opened for reading
    /// `rel` (relative to the preopen `dir`) is refused; reads and neutral
    /// functions work.
    async fn read_only_descriptor(dir: &str, rel: &str, content: &str) {
        let fx = tree();
        let file = fx.p(&format!("{dir}/{rel}"));
        let target = s(&file);
        let before = snap(&file);
        let dir_before = snap(&fx.p(dir));
        let sandbox = burglar(policy(&fx)).await;

        // Allowed descriptor-level calls leave no event of their own: the
        // open covers them.
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p(dir)),
                FsOp::open(0, rel, OpenOptions::read()),
                FsOp::fd(1, FdCall::Read(100, 0)),
                FsOp::fd(1, FdCall::ReadViaStream(0)),
                FsOp::fd(1, FdCall::Stat),
                FsOp::fd(1, FdCall::MetadataHash),
                FsOp::fd(1, FdCall::Advise(0, 4, FsAdvice::Random)),
                FsOp::fd(1, FdCall::Sync),
                FsOp::fd(1, FdCall::SyncData),
                FsOp::fd(1, FdCall::GetFlags),
                FsOp::fd(1, FdCall::GetType),
                FsOp::fd(1, FdCall::IsSameObject(0)),
            ],
        )
        .await;
        slot(&out, 1, 1);
        assert!(out.iter().all(|o| o.error().is_none()), "{out:#?}");
        assert_eq!(out[11], FsOutcome::Same(false));
        allowed(&audit, "open", &target);
        assert!(
            audit.events.iter().all(|e| e.operation == "open"),
            "{:#?}",
            audit.events
        );

        // Every function that writes is refused.
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p(dir)),
                FsOp::open(0, rel, OpenOptions::read()),
                FsOp::fd(1, FdCall::SetTimes(LONG_AGO, LONG_AGO)),
                FsOp::fd(1, FdCall::SetTimes(FsTime::Now, FsTime::NoChange)),
                FsOp::fd(1, FdCall::SetSize(0)),
                FsOp::fd(1, FdCall::Write("EVIL".into(), 0)),
                FsOp::fd(1, FdCall::WriteViaStream(0, "EVIL".into())),
                FsOp::fd(1, FdCall::AppendViaStream("EVIL".into())),
                // Reads of a readable object work.
                FsOp::fd(1, FdCall::Read(100, 0)),
                FsOp::fd(1, FdCall::ReadViaStream(0)),
                FsOp::fd(1, FdCall::Stat),
                // Neutral functions work on any descriptor.
                FsOp::fd(1, FdCall::Advise(0, 4, FsAdvice::Sequential)),
                FsOp::fd(1, FdCall::Sync),
                FsOp::fd(1, FdCall::SyncData),
                FsOp::fd(1, FdCall::GetFlags),
                FsOp::fd(1, FdCall::GetType),
                FsOp::fd(1, FdCall::IsSameObject(1)),
                FsOp::fd(1, FdCall::MetadataHash),
            ],
        )
        .await;
        slot(&out, 1, 1);
        for i in 2..=7 {
            access(&out, i);
        }
        assert!(
            denials(&audit, "set-times", &target) >= 2,
            "{:#?}",
            audit.events
        );
        denied(&audit, WRITE, "set-times", &target);
        denied(&audit, WRITE, "set-size", &target);
        assert!(
            denials(&audit, "write", &target) >= 3,
            "{:#?}",
            audit.events
        );
        denied(&audit, WRITE, "write", &target);
        assert_eq!(out[8], FsOutcome::Data(content.into()));
        assert_eq!(out[9], FsOutcome::Data(content.into()));
        match &out[10] {
            FsOutcome::Stat(st) => {
                assert_eq!(st.size, content.len() as u64);
                assert_eq!(st.kind, "regular-file");
            }
            other => panic!("stat: {other:?}"),
        }
        assert_eq!(out[11], FsOutcome::Done, "advise");
        assert_eq!(out[12], FsOutcome::Done, "sync");
        assert_eq!(out[13], FsOutcome::Done, "sync-data");
        assert_eq!(out[14], FsOutcome::DescriptorFlags(vec!["read".into()]));
        assert_eq!(out[15], FsOutcome::Kind("regular-file".into()));
        assert_eq!(out[16], FsOutcome::Same(true));
        assert!(matches!(out[17], FsOutcome::Hash(..)), "{:?}", out[17]);
        // Exactly the refusals are violations.
        assert!(
            audit.violations.iter().all(|e| e.target == target),
            "{:#?}",
            audit.violations
        );
        assert_eq!(snap(&file), before, "contents, size, mtime and ctime");
        assert_eq!(snap(&fx.p(dir)), dir_before);
    }

    #[tokio::test]
    async fn a_read_only_grant_file_descriptor_writes_nothing() {
        read_only_descriptor("pub", "a.txt", "MARK-pub-a").await;
    }

    #[tokio::test]
    async fn a_write_denied_file_descriptor_writes_nothing() {
        read_only_descriptor("rw", "locked/l.txt", "MARK-rw-locked").await;
    }

    #[tokio::test]
    async fn directory_descriptors_of_read_only_objects_change_no_times() {
        let fx = tree();
        let (pub_before, locked_before) = (snap(&fx.p("pub")), snap(&fx.p("rw/locked")));
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                pre(&fx.p("rw")),
                FsOp::fd(0, FdCall::SetTimes(LONG_AGO, LONG_AGO)),
                FsOp::open(1, "locked", OpenOptions::dir()),
                FsOp::fd(2, FdCall::SetTimes(LONG_AGO, LONG_AGO)),
                FsOp::fd(2, FdCall::SetTimes(FsTime::NoChange, FsTime::Now)),
            ],
        )
        .await;
        access(&out, 2);
        slot(&out, 3, 2);
        access(&out, 4);
        access(&out, 5);
        denied(&audit, WRITE, "set-times", &fx.s("pub"));
        assert!(denials(&audit, "set-times", &fx.s("rw/locked")) >= 2);
        assert_eq!(snap(&fx.p("pub")), pub_before);
        assert_eq!(snap(&fx.p("rw/locked")), locked_before);
    }

    #[tokio::test]
    async fn a_directory_it_may_not_read_is_not_read_through_its_descriptor() {
        let fx = Fx::new();
        fx.file("sf2/a.txt", "MARK-sf2-a")
            .file("sf2/b.txt", "MARK-sf2-b");
        let policy = SecurityPolicy::strict().allow(Capability::FileWrite(fx.p("sf2/a.txt")));
        let sandbox = burglar(policy).await;
        let dir = fx.s("sf2");
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("sf2")),
                FsOp::fd(0, FdCall::Read(100, 0)),
                FsOp::fd(0, FdCall::ReadViaStream(0)),
                FsOp::fd(0, FdCall::SetSize(0)),
                FsOp::fd(0, FdCall::Write("EVIL".into(), 0)),
                // The single-file write grant makes nothing else writable.
                FsOp::at(0, AtCall::CreateDirectoryAt("newdir".into())),
                symlink_at(0, "a.txt", "l"),
                FsOp::at(0, AtCall::UnlinkFileAt("b.txt".into())),
            ],
        )
        .await;
        slot(&out, 0, 0);
        for i in 1..=7 {
            access(&out, i);
        }
        denied(&audit, WRITE, "mkdir", &fx.s("sf2/newdir"));
        denied(&audit, WRITE, "symlink", &fx.s("sf2/l"));
        denied(&audit, WRITE, "remove", &fx.s("sf2/b.txt"));
        assert!(!fx.p("sf2/newdir").exists() && !fx.p("sf2/l").exists());
        assert!(fx.p("sf2/b.txt").exists());
        assert!(denials(&audit, "read", &dir) >= 2, "{:#?}", audit.events);
        denied(&audit, READ, "read", &dir);
        denied(&audit, WRITE, "set-size", &dir);
        denied(&audit, WRITE, "write", &dir);
    }

    #[tokio::test]
    async fn the_preopen_of_a_single_file_grant_reveals_nothing() {
        let fx = Fx::new();
        fx.file("sf1/a.txt", "MARK-sf1-a")
            .file("sf1/b.txt", "MARK-sf1-b");
        let dir_before = snap(&fx.p("sf1"));
        let policy = SecurityPolicy::strict().allow(Capability::FileRead(fx.p("sf1/a.txt")));
        let sandbox = burglar(policy).await;
        let dir = fx.s("sf1");
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("sf1")),
                FsOp::fd(0, FdCall::Stat),
                FsOp::fd(0, FdCall::MetadataHash),
                FsOp::fd(0, FdCall::ReadDirectory),
                FsOp::fd(0, FdCall::SetTimes(LONG_AGO, LONG_AGO)),
                stat_at(0, false, "b.txt"),
                FsOp::open(0, "b.txt", OpenOptions::read()),
                // The granted file itself.
                FsOp::open(0, "a.txt", OpenOptions::read()),
                FsOp::fd(2, FdCall::Read(100, 0)),
                FsOp::fd(2, FdCall::Stat),
            ],
        )
        .await;
        slot(&out, 0, 0);
        for i in 1..=6 {
            access(&out, i);
        }
        slot(&out, 7, 2);
        assert_eq!(out[8], FsOutcome::Data("MARK-sf1-a".into()));
        assert!(
            matches!(&out[9], FsOutcome::Stat(st) if st.size == 10),
            "{:?}",
            out[9]
        );
        assert!(denials(&audit, "stat", &dir) >= 2, "{:#?}", audit.events);
        denied(&audit, READ, "stat", &dir);
        denied(&audit, READ, "list", &dir);
        denied(&audit, WRITE, "set-times", &dir);
        denied(&audit, READ, "stat", &fx.s("sf1/b.txt"));
        denied(&audit, READ, "open", &fx.s("sf1/b.txt"));
        not_leaked(&out, "b.txt");
        not_leaked(&out, "MARK-sf1-b");
        assert_eq!(snap(&fx.p("sf1")), dir_before);
    }
}

/// Positive controls: what the policy grants still works, so the attacks
/// above are refused for their own sake.
mod granted {
    use super::*;

    #[tokio::test]
    async fn every_function_works_inside_a_write_grant() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("rw")),
                FsOp::at(0, AtCall::CreateDirectoryAt("d".into())),
                FsOp::open(0, "d/f.txt", OpenOptions::create()),
                FsOp::fd(1, FdCall::Write("HELLO".into(), 0)),
                FsOp::fd(1, FdCall::WriteViaStream(5, " WORLD".into())),
                FsOp::fd(1, FdCall::AppendViaStream("!".into())),
                FsOp::fd(1, FdCall::Read(100, 0)),
                FsOp::fd(1, FdCall::ReadViaStream(6)),
                FsOp::fd(1, FdCall::SetSize(11)),
                FsOp::fd(1, FdCall::SetTimes(LONG_AGO, LONG_AGO)),
                FsOp::fd(1, FdCall::Stat),
                symlink_at(0, "d/f.txt", "ln"),
                FsOp::at(0, AtCall::ReadlinkAt("ln".into())),
                link_at(0, false, "d/f.txt", 0, "hard"),
                stat_at(0, false, "hard"),
                rename_at(0, "hard", 0, "hard2"),
                FsOp::at(0, AtCall::UnlinkFileAt("hard2".into())),
                FsOp::at(0, AtCall::UnlinkFileAt("ln".into())),
                set_times_at(0, false, "d/f.txt", FsTime::At(5000, 0)),
                FsOp::fd(0, FdCall::ReadDirectory),
                FsOp::fd(0, FdCall::Stat),
            ],
        )
        .await;
        // Nothing is refused (the listing may audit leaving out `secret`).
        let secret = fx.s("rw/secret");
        assert!(
            audit
                .violations
                .iter()
                .all(|e| e.target.starts_with(&secret)),
            "{:#?}",
            audit.violations
        );
        slot(&out, 0, 0);
        assert_eq!(out[1], FsOutcome::Done);
        slot(&out, 2, 1);
        assert_eq!(out[3], FsOutcome::Written(5));
        assert_eq!(out[4], FsOutcome::Written(6));
        assert_eq!(out[5], FsOutcome::Written(1));
        assert_eq!(out[6], FsOutcome::Data("HELLO WORLD!".into()));
        assert_eq!(out[7], FsOutcome::Data("WORLD!".into()));
        assert_eq!(out[8], FsOutcome::Done, "set-size");
        assert_eq!(out[9], FsOutcome::Done, "set-times");
        match &out[10] {
            FsOutcome::Stat(st) => {
                assert_eq!((st.size, st.modified_ns), (11, Some(1000 * 1_000_000_000)));
            }
            other => panic!("stat: {other:?}"),
        }
        assert_eq!(out[11], FsOutcome::Done, "symlink");
        assert_eq!(out[12], FsOutcome::Link("d/f.txt".into()));
        assert_eq!(out[13], FsOutcome::Done, "link");
        assert!(
            matches!(&out[14], FsOutcome::Stat(st) if st.link_count == 2),
            "{:?}",
            out[14]
        );
        for i in 15..=18 {
            assert_eq!(out[i], FsOutcome::Done, "operation {i}: {out:#?}");
        }
        match &out[19] {
            FsOutcome::Entries(names) => {
                for name in ["d", "w.txt", "locked", "lk"] {
                    assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
                }
                assert!(!names.iter().any(|n| n == "secret"), "{names:?}");
            }
            other => panic!("listing: {other:?}"),
        }
        assert!(
            matches!(&out[20], FsOutcome::Stat(st) if st.kind == "directory"),
            "{:?}",
            out[20]
        );
        let f = fx.s("rw/d/f.txt");
        allowed(&audit, "mkdir", &fx.s("rw/d"));
        allowed(&audit, "create", &f);
        allowed(&audit, "symlink", &fx.s("rw/ln"));
        allowed(&audit, "link", &format!("{f} -> {}", fx.s("rw/hard")));
        allowed(
            &audit,
            "rename",
            &format!("{} -> {}", fx.s("rw/hard"), fx.s("rw/hard2")),
        );
        allowed(&audit, "remove", &fx.s("rw/hard2"));
        allowed(&audit, "set-times", &f);
        assert_eq!(
            std::fs::read_to_string(fx.p("rw/d/f.txt")).unwrap(),
            "HELLO WORLD"
        );
        let m = std::fs::metadata(fx.p("rw/d/f.txt")).unwrap();
        assert_eq!((m.mtime(), m.nlink()), (5000, 1));
        assert!(!fx.exists("rw/ln") && !fx.exists("rw/hard") && !fx.exists("rw/hard2"));
    }

    #[tokio::test]
    async fn reads_work_inside_a_read_grant() {
        let fx = tree();
        let sandbox = burglar(policy(&fx)).await;
        let (out, audit) = run(
            &sandbox,
            vec![
                pre(&fx.p("pub")),
                FsOp::open(0, "a.txt", OpenOptions::read()),
                FsOp::fd(1, FdCall::Read(100, 0)),
                FsOp::fd(1, FdCall::ReadViaStream(5)),
                stat_at(0, true, "sub/b.txt"),
                FsOp::at(0, AtCall::ReadlinkAt("c4".into())),
                FsOp::fd(0, FdCall::ReadDirectory),
                FsOp::open(0, "sub", OpenOptions::dir()),
                FsOp::fd(2, FdCall::ReadDirectory),
                FsOp::fd(0, FdCall::Stat),
                FsOp::fd(2, FdCall::IsSameObject(0)),
            ],
        )
        .await;
        slot(&out, 1, 1);
        assert_eq!(out[2], FsOutcome::Data("MARK-pub-a".into()));
        assert_eq!(out[3], FsOutcome::Data("pub-a".into()));
        assert!(
            matches!(&out[4], FsOutcome::Stat(st) if st.size == 10),
            "{:?}",
            out[4]
        );
        assert_eq!(out[5], FsOutcome::Link("c5".into()));
        match &out[6] {
            FsOutcome::Entries(names) => {
                for name in ["a.txt", "sub", "data"] {
                    assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
                }
                assert!(!names.iter().any(|n| n == "secret"), "{names:?}");
            }
            other => panic!("listing: {other:?}"),
        }
        slot(&out, 7, 2);
        match &out[8] {
            FsOutcome::Entries(names) => {
                let mut names = names.clone();
                names.sort();
                assert_eq!(names, ["b.txt", "up"]);
            }
            other => panic!("listing: {other:?}"),
        }
        assert!(
            matches!(&out[9], FsOutcome::Stat(st) if st.kind == "directory"),
            "{:?}",
            out[9]
        );
        assert_eq!(out[10], FsOutcome::Same(false));
        allowed(&audit, "open", &fx.s("pub/a.txt"));
        allowed(&audit, "stat", &fx.s("pub/sub/b.txt"));
        allowed(&audit, "readlink", &fx.s("pub/c4"));
        allowed(&audit, "open", &fx.s("pub/sub"));
        assert!(
            audit
                .violations
                .iter()
                .all(|e| e.target.starts_with(&fx.s("pub/secret"))
                    || e.target.starts_with(&fx.s("pub/data/hidden"))),
            "{:#?}",
            audit.violations
        );
    }
}

/// `ViolationAction::AbortCall`: the first refused filesystem operation ends
/// the call; nothing after it runs, and the next call gets a new instance.
mod abort {
    use super::*;
    use wasm_sandbox::{Error, ViolationAction};

    #[tokio::test]
    async fn the_first_refusal_ends_the_script() {
        let fx = Fx::new();
        fx.dir("w").file("w/secret.txt", "MARK-abort-secret");
        let policy = SecurityPolicy::strict()
            .allow(Capability::FileWrite(fx.p("w")))
            .deny(Capability::FileRead(fx.p("w/secret.txt")))
            .on_violation(ViolationAction::AbortCall);
        let sandbox = burglar(policy).await;
        let ops = vec![
            pre(&fx.p("w")),
            FsOp::open(0, "secret.txt", OpenOptions::read()),
            // Never reached: the call ended at the refusal above.
            FsOp::open(0, "after.txt", OpenOptions::create()),
        ];
        let err = sandbox
            .call::<(Vec<FsOp>,), Vec<FsOutcome>>("plugin#run", (ops,))
            .await
            .unwrap_err();
        match &err {
            Error::SecurityViolation {
                target, capability, ..
            } => {
                assert_eq!(target, &fx.s("w/secret.txt"), "{err}");
                assert!(capability.contains("FileRead"), "{err}");
            }
            other => panic!("expected a security violation, got {other}"),
        }
        assert!(!fx.p("w/after.txt").exists());
        let violations = sandbox.audit_log().violations();
        assert_eq!(violations.len(), 1, "{violations:#?}");
        assert_eq!(violations[0].target, fx.s("w/secret.txt"));
        // The instance was replaced: the next call works.
        let (out, _) = run(
            &sandbox,
            vec![
                pre(&fx.p("w")),
                FsOp::open(0, "after.txt", OpenOptions::create()),
            ],
        )
        .await;
        slot(&out, 1, 1);
        assert!(fx.p("w/after.txt").exists());
    }
}
