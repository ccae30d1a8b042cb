//! A model-based property test of the filesystem guard: random directory
//! trees (files, directories, symlinks to anything including `.`, `..` and
//! outside the tree, hard links), random policies (read and write grants of
//! directories and single files, read and write denials, some of paths that
//! do not exist), and random scripts of raw `wasi:filesystem/types` calls
//! run by the `burglar` plugin. After each script the REAL file system is
//! compared with a snapshot taken before it, object by object (by inode):
//!
//! - an object the plugin may not write (denied, read-only, or outside every
//!   grant) keeps its names, link count, contents, size, mode, mtime and
//!   ctime; a directory none of whose entries may be written keeps its
//!   entries and times too;
//! - every name that did not exist before is one the policy lets the plugin
//!   write;
//! - when this file system updates access times, a file the plugin may not
//!   read was not read (its atime, set to 1 s after the epoch, is unchanged);
//! - no outcome contains the content marker of a file the plugin may not
//!   read, and no listing contains the name of an object it may not read.
//!
//! The oracle is the policy applied to the real paths of the snapshot, so it
//! does not depend on how the guard resolves paths. A separate test binary,
//! so its time shows on its own in CI. 5 000 cases by default (about
//! 100 s on a 2-core machine);
//! `PROPTEST_CASES=20000 cargo test -p wasm-sandbox-tests --test fs_model`
//! for a long run. A failure prints the tree, policy and script of the
//! smallest failing case.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use example_interfaces::{AtCall, FdCall, FsAdvice, FsOp, FsOutcome, FsTime, OpenOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner, contextualize_config};
use wasm_sandbox::{Capability, ImportCheck, SecurityPolicy, WasmSandbox};

/// Cases run when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 5000;

/// One object the host makes before the script runs; `path` is relative to
/// the tree's top directory `t`.
#[derive(Clone, Debug)]
enum Node {
    /// A directory.
    Dir(String),
    /// A file whose content is its marker.
    File(String, String),
    /// A symlink and its text (`@ROOT@` stands for the temporary root).
    Symlink(String, String),
    /// A second name for a file (in the same directory).
    HardLink(String, String),
}

/// One rule of the policy; `path` is relative to the temporary root.
#[derive(Clone, Debug)]
struct Rule {
    allow: bool,
    write: bool,
    path: String,
}

/// A generated case: what the failure message shows.
#[derive(Clone, Debug)]
struct Case {
    tree: Vec<Node>,
    rules: Vec<Rule>,
    /// The directories the policy preopens (relative to the temporary
    /// root): slots 0.. of the script, then `/` (the decoy).
    preopens: Vec<String>,
    ops: Vec<FsOp>,
}

/// The marker of `outside/secret.txt`, outside the tree.
const OUTSIDE_MARKER: &str = "<MOUTM>";

fn name(i: usize) -> String {
    format!("n{i}z")
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if name.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn depth(dir: &str) -> usize {
    if dir.is_empty() {
        0
    } else {
        dir.split('/').count()
    }
}

/// Raw node: (kind, parent choice, target choice, link kind).
type RawNode = (u8, u16, u16, u8);
/// Raw rule: (allow, write, target choice, ghost).
type RawRule = (bool, bool, u16, bool);
/// Raw op: (kind, slot, other slot, flags, targets, first path, second
/// path).
type RawOp = (u8, u16, u16, u16, u16, Vec<u8>, Vec<u8>);

fn build_tree(raw: &[RawNode]) -> Vec<Node> {
    let mut dirs = vec![String::new()];
    let mut files: Vec<String> = Vec::new();
    let mut all: Vec<String> = vec![String::new()];
    let mut nodes = Vec::new();
    for (i, &(kind, parent_sel, target_sel, link_kind)) in raw.iter().enumerate() {
        let dir = dirs[parent_sel as usize % dirs.len()].clone();
        let path = join(&dir, &name(i));
        match kind % 4 {
            0 => {
                dirs.push(path.clone());
                nodes.push(Node::Dir(path.clone()));
            }
            2 => {
                let up = "../".repeat(depth(&dir));
                let text = match link_kind % 7 {
                    0 => {
                        let target = &all[target_sel as usize % all.len()];
                        if target.is_empty() {
                            format!("{up}.")
                        } else {
                            format!("{up}{target}")
                        }
                    }
                    1 => ".".to_string(),
                    2 => "..".to_string(),
                    3 => format!("../{up}outside/secret.txt"),
                    4 => format!("@ROOT@/t/{}", all[target_sel as usize % all.len()]),
                    5 => "missing".to_string(),
                    _ => name(i),
                };
                nodes.push(Node::Symlink(path.clone(), text));
            }
            3 if files.iter().any(|f| parent(f) == dir) => {
                let same_dir: Vec<&String> = files.iter().filter(|f| parent(f) == dir).collect();
                let original = same_dir[target_sel as usize % same_dir.len()].clone();
                nodes.push(Node::HardLink(path.clone(), original));
            }
            _ => {
                files.push(path.clone());
                nodes.push(Node::File(path.clone(), format!("<M{i}M>")));
            }
        }
        all.push(path);
    }
    nodes
}

fn build_rules(tree: &[Node], raw: &[RawRule]) -> Vec<Rule> {
    // Rules name the tree's top, directories and files that have a single
    // name: with two names a file's own rule would be ambiguous.
    let linked: BTreeSet<&str> = tree
        .iter()
        .filter_map(|n| match n {
            Node::HardLink(_, original) => Some(original.as_str()),
            _ => None,
        })
        .collect();
    let mut targets = vec![(String::new(), true)];
    for n in tree {
        match n {
            Node::Dir(p) => targets.push((p.clone(), true)),
            Node::File(p, _) if !linked.contains(p.as_str()) => targets.push((p.clone(), false)),
            _ => {}
        }
    }
    let mut first_target = String::new();
    raw.iter()
        .enumerate()
        .map(|(i, &(allow, write, target_sel, ghost))| {
            // The first rule is always a grant of a directory, so that most
            // scripts have somewhere to work; most later rules deny
            // something inside it.
            let allow = i == 0 || (allow && target_sel.is_multiple_of(4));
            let (target, is_dir) = if i == 0 {
                let dirs: Vec<&(String, bool)> = targets.iter().filter(|t| t.1).collect();
                dirs[target_sel as usize % dirs.len()]
            } else {
                let first = &first_target;
                let inside: Vec<&(String, bool)> = targets
                    .iter()
                    .filter(|t| first.is_empty() || t.0.starts_with(&format!("{first}/")))
                    .collect();
                if !target_sel.is_multiple_of(8) && !inside.is_empty() {
                    inside[target_sel as usize / 8 % inside.len()]
                } else {
                    &targets[target_sel as usize % targets.len()]
                }
            };
            if i == 0 {
                first_target = target.clone();
            }
            let mut path = join("t", target);
            if ghost && !allow {
                path = if *is_dir {
                    join(&path, "ghost")
                } else {
                    join(parent(&path), "ghost")
                };
            }
            Rule { allow, write, path }
        })
        .collect()
}

fn build_preopens(tree: &[Node], rules: &[Rule]) -> Vec<String> {
    let dirs: BTreeSet<String> = std::iter::once("t".to_string())
        .chain(tree.iter().filter_map(|n| match n {
            Node::Dir(p) => Some(join("t", p)),
            _ => None,
        }))
        .collect();
    let mut preopens: Vec<String> = Vec::new();
    for r in rules.iter().filter(|r| r.allow) {
        let dir = if dirs.contains(&r.path) {
            r.path.clone()
        } else {
            parent(&r.path).to_string()
        };
        if !preopens.contains(&dir) {
            preopens.push(dir);
        }
    }
    preopens
}

/// Paths relative to a slot's directory: mostly names of real objects (so
/// that scripts reach deep into the tree), reached plainly or with a twist
/// (`./`, a detour through `..`, through a symlink, absolute), sometimes
/// random text.
struct Paths {
    /// Root-relative paths of objects the script may aim at: the tree, the
    /// outside file, fresh names in every directory, denied ghosts.
    targets: Vec<String>,
    /// Root-relative paths of the tree's symlinks.
    links: Vec<String>,
    /// Last components, for random paths.
    alphabet: Vec<String>,
}

/// `target` relative to `base` (both relative to the temporary root).
fn relative(base: &str, target: &str) -> String {
    let b: Vec<&str> = base.split('/').filter(|c| !c.is_empty()).collect();
    let t: Vec<&str> = target.split('/').filter(|c| !c.is_empty()).collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len() - common];
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

impl Paths {
    fn new(tree: &[Node], rules: &[Rule]) -> Paths {
        let mut targets = vec!["t".to_string(), "outside/secret.txt".to_string()];
        let mut links = Vec::new();
        let mut alphabet: Vec<String> = Vec::new();
        let mut dirs = vec!["t".to_string()];
        for n in tree {
            let (Node::Dir(p) | Node::File(p, _) | Node::Symlink(p, _) | Node::HardLink(p, _)) = n;
            let full = join("t", p);
            targets.push(full.clone());
            alphabet.push(p.rsplit('/').next().unwrap_or(p).to_string());
            match n {
                Node::Dir(_) => dirs.push(full),
                Node::Symlink(..) => links.push(full),
                _ => {}
            }
        }
        for d in &dirs {
            targets.push(join(d, "p0"));
        }
        targets.extend(rules.iter().filter(|r| !r.allow).map(|r| r.path.clone()));
        for extra in [".", "..", "..", "ghost", "p0", "p1"] {
            alphabet.push(extra.to_string());
        }
        Paths {
            targets,
            links,
            alphabet,
        }
    }

    /// A path relative to a slot whose directory is `base` (`None`: not
    /// known, or the decoy `/`), and the root-relative path it aims at when
    /// it names it plainly.
    fn pick(&self, base: Option<&str>, sel: u16, raw: &[u8]) -> (String, Option<String>) {
        let random = || {
            raw.iter()
                .map(|c| self.alphabet[*c as usize % self.alphabet.len()].as_str())
                .collect::<Vec<_>>()
                .join("/")
        };
        let Some(base) = base else {
            return (random(), None);
        };
        let twist = raw.first().copied().unwrap_or(0) % 20;
        // Mostly something below the slot's directory.
        let below: Vec<&String> = self
            .targets
            .iter()
            .filter(|t| t.starts_with(&format!("{base}/")))
            .collect();
        let target = if !sel.is_multiple_of(8) && !below.is_empty() {
            below[sel as usize / 8 % below.len()]
        } else {
            &self.targets[sel as usize % self.targets.len()]
        };
        let rel = relative(base, target);
        let path = match twist {
            0..=11 => return (rel, Some(target.clone())),
            12 | 13 => format!("./{rel}"),
            14 | 15 => match rel.split_once('/') {
                Some((first, _)) if first != ".." => format!("{first}/../{rel}"),
                _ => format!("{rel}/."),
            },
            16 | 17 if !self.links.is_empty() => {
                let link = &self.links[sel as usize % self.links.len()];
                let tail = self.alphabet[raw.len() * 7 % self.alphabet.len()].as_str();
                format!("{}/{tail}", relative(base, link))
            }
            18 => format!("/{target}"),
            _ => random(),
        };
        (path, None)
    }
}

fn build_ops(tree: &[Node], rules: &[Rule], preopens: &[String], raw: &[RawOp]) -> Vec<FsOp> {
    let paths = Paths::new(tree, rules);
    // The directory of each slot, when known: the preopens, then `/`.
    let mut slot_dirs: Vec<Option<String>> = preopens.iter().cloned().map(Some).collect();
    slot_dirs.push(None);
    let dirs: BTreeSet<String> = std::iter::once("t".to_string())
        .chain(tree.iter().filter_map(|n| match n {
            Node::Dir(p) => Some(join("t", p)),
            _ => None,
        }))
        .collect();
    let mut ops = Vec::new();
    let decoy = preopens.len();
    for (kind, a, b, n, m, p1, p2) in raw {
        let kind = kind % 26;
        // Descriptor calls mostly on descriptors the script opened; the
        // decoy `/` now and then.
        let opened = slot_dirs.len() - decoy - 1;
        let pick_slot = |x: u16, fd: bool| -> u32 {
            let x = usize::from(x);
            let slot = if x.is_multiple_of(16) {
                decoy
            } else if fd && opened > 0 && !x.is_multiple_of(4) {
                // Half the time the descriptor opened last.
                if x % 8 < 4 {
                    slot_dirs.len() - 1
                } else {
                    decoy + 1 + x / 16 % opened
                }
            } else {
                let choices = slot_dirs.len() - 1;
                let i = x / 16 % choices;
                if i >= decoy { i + 1 } else { i }
            };
            slot as u32
        };
        let slot = pick_slot(*a, (5..=14).contains(&kind));
        let other = pick_slot(*b, false);
        let (path, aimed) = paths.pick(slot_dirs[slot as usize].as_deref(), *m, p1);
        let (path2, _) = paths.pick(slot_dirs[other as usize].as_deref(), m.rotate_left(8), p2);
        let follow = n & 1 == 1;
        let time = if n & 2 == 2 {
            FsTime::Now
        } else {
            FsTime::At(2, 0)
        };
        let op = match kind {
            0..=4 => {
                slot_dirs.push(aimed.filter(|a| dirs.contains(a)));
                let bit = |i: u16| n & (1 << i) != 0;
                FsOp::open(
                    slot,
                    path,
                    OpenOptions {
                        symlink_follow: bit(0),
                        create: bit(1) && bit(2),
                        directory: bit(3) && bit(11),
                        exclusive: bit(4) && bit(5) && bit(12),
                        truncate: bit(6) && bit(7),
                        read: !bit(8) || !bit(13),
                        write: bit(9) && bit(14),
                        mutate_directory: bit(10) && bit(15),
                        ..OpenOptions::default()
                    },
                )
            }
            5 => FsOp::fd(slot, FdCall::Read(256, u64::from(n % 3))),
            6 => FsOp::fd(slot, FdCall::ReadViaStream(0)),
            7 => FsOp::fd(slot, FdCall::Write("W".into(), u64::from(n % 3))),
            8 => FsOp::fd(slot, FdCall::WriteViaStream(0, "WS".into())),
            9 => FsOp::fd(slot, FdCall::AppendViaStream("AS".into())),
            10 => FsOp::fd(slot, FdCall::SetSize(u64::from(n % 4))),
            11 => FsOp::fd(slot, FdCall::SetTimes(time, time)),
            12 if follow => FsOp::fd(slot, FdCall::Stat),
            12 => FsOp::fd(slot, FdCall::MetadataHash),
            13 => FsOp::fd(slot, FdCall::ReadDirectory),
            14 => FsOp::fd(
                slot,
                match n % 6 {
                    0 => FdCall::Advise(0, 16, FsAdvice::WillNeed),
                    1 => FdCall::Sync,
                    2 => FdCall::SyncData,
                    3 => FdCall::GetFlags,
                    4 => FdCall::GetType,
                    _ => FdCall::IsSameObject(other),
                },
            ),
            15 if n & 4 == 4 => FsOp::at(slot, AtCall::MetadataHashAt { follow, path }),
            15 => FsOp::at(slot, AtCall::StatAt { follow, path }),
            16 => FsOp::at(slot, AtCall::ReadlinkAt(path)),
            17 => FsOp::at(
                slot,
                AtCall::SetTimesAt {
                    follow,
                    path,
                    atime: time,
                    mtime: time,
                },
            ),
            18 => FsOp::at(slot, AtCall::CreateDirectoryAt(path)),
            19 => FsOp::at(slot, AtCall::RemoveDirectoryAt(path)),
            20 => FsOp::at(slot, AtCall::UnlinkFileAt(path)),
            21 | 22 => FsOp::at(
                slot,
                AtCall::RenameAt {
                    old_path: path,
                    new_slot: other,
                    new_path: path2,
                },
            ),
            23 => FsOp::at(
                slot,
                AtCall::LinkAt {
                    follow,
                    old_path: path,
                    new_slot: other,
                    new_path: path2,
                },
            ),
            24 => FsOp::at(
                slot,
                AtCall::SymlinkAt {
                    target: path2,
                    path,
                },
            ),
            _ => FsOp::Close(slot),
        };
        ops.push(op);
    }
    ops
}

fn case() -> impl Strategy<Value = Case> {
    let nodes = prop::collection::vec((0u8..4, any::<u16>(), any::<u16>(), 0u8..7), 1..10);
    let rules = prop::collection::vec(
        (any::<bool>(), any::<bool>(), any::<u16>(), any::<bool>()),
        1..5,
    );
    let path = prop::collection::vec(any::<u8>(), 1..4);
    let ops = prop::collection::vec(
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            path.clone(),
            path,
        ),
        2..16,
    );
    (nodes, rules, ops).prop_map(|(nodes, rules, ops)| {
        let tree = build_tree(&nodes);
        let rules = build_rules(&tree, &rules);
        let preopens = build_preopens(&tree, &rules);
        let ops = build_ops(&tree, &rules, &preopens, &ops);
        Case {
            tree,
            rules,
            preopens,
            ops,
        }
    })
}

/// What the policy lets the plugin do with one real path (relative to the
/// temporary root).
struct Oracle<'a> {
    rules: &'a [Rule],
}

fn covers(rule: &str, path: &str) -> bool {
    path == rule || path.starts_with(&format!("{rule}/"))
}

impl Oracle<'_> {
    fn readable(&self, path: &str) -> bool {
        self.rules.iter().any(|r| r.allow && covers(&r.path, path))
            && !self
                .rules
                .iter()
                .any(|r| !r.allow && !r.write && covers(&r.path, path))
    }

    fn writable(&self, path: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.allow && r.write && covers(&r.path, path))
            && !self.rules.iter().any(|r| !r.allow && covers(&r.path, path))
    }

    /// Whether an entry of directory `dir` may be added, removed or
    /// renamed: some name directly in it, or `dir` itself, is writable.
    fn entries_mutable(&self, dir: &str) -> bool {
        self.writable(dir)
            || self
                .rules
                .iter()
                .any(|r| r.allow && r.write && parent(&r.path) == dir && self.writable(&r.path))
    }
}

/// One object on the host, found by walking the temporary root without
/// following symlinks.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Object {
    kind: &'static str,
    paths: BTreeSet<String>,
    mode: u32,
    nlink: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    atime: (i64, i64),
    /// Contents, link text, or sorted entry names.
    content: Vec<u8>,
}

type Snapshot = BTreeMap<u64, Object>;

/// Stats every object under `root` (without reading anything), then, with
/// `contents`, reads file contents: the order keeps the access times the
/// stat saw.
fn snapshot(root: &Path, contents: bool) -> Snapshot {
    let mut found: Vec<(String, std::fs::Metadata)> = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let path = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let Ok(m) = path.symlink_metadata() else {
            continue;
        };
        if m.is_dir() {
            for e in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                stack.push(join(&rel, &e.file_name().to_string_lossy()));
            }
        }
        found.push((rel, m));
    }
    let mut snap = Snapshot::new();
    for (rel, m) in found {
        let path = root.join(&rel);
        let (kind, content) = if m.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(&path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            ("dir", names.join("\n").into_bytes())
        } else if m.file_type().is_symlink() {
            let text = std::fs::read_link(&path).unwrap_or_default();
            ("symlink", text.to_string_lossy().into_owned().into_bytes())
        } else {
            ("file", Vec::new())
        };
        let entry = snap.entry(m.ino()).or_insert_with(|| Object {
            kind,
            paths: BTreeSet::new(),
            mode: m.mode(),
            nlink: m.nlink(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            atime: (m.atime(), m.atime_nsec()),
            content,
        });
        entry.paths.insert(rel);
    }
    // File contents last, after every stat.
    for o in snap.values_mut() {
        if contents && o.kind == "file" {
            let path = root.join(o.paths.iter().next().expect("an object has a path"));
            o.content = std::fs::read(path).unwrap_or_default();
        }
    }
    snap
}

/// Whether this file system updates a file's access time when it is read
/// (it does not under `noatime`); checked once.
fn atime_is_updated() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probe");
        std::fs::write(&path, "probe").unwrap();
        set_atime(&path);
        let _ = std::fs::read(&path).unwrap();
        path.metadata().unwrap().atime() > 1
    })
}

fn set_atime(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    file.set_times(
        std::fs::FileTimes::new().set_accessed(SystemTime::UNIX_EPOCH + Duration::from_secs(1)),
    )
    .unwrap();
}

fn materialize(case: &Case, root: &Path) {
    let t = root.join("t");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::create_dir_all(root.join("outside")).unwrap();
    std::fs::write(root.join("outside/secret.txt"), OUTSIDE_MARKER).unwrap();
    let root_text = root.to_string_lossy();
    for n in &case.tree {
        match n {
            Node::Dir(p) => std::fs::create_dir(t.join(p)).unwrap(),
            Node::File(p, marker) => std::fs::write(t.join(p), marker).unwrap(),
            Node::Symlink(p, text) => {
                std::os::unix::fs::symlink(text.replace("@ROOT@", &root_text), t.join(p)).unwrap()
            }
            Node::HardLink(p, original) => std::fs::hard_link(t.join(original), t.join(p)).unwrap(),
        }
    }
}

fn policy(case: &Case, root: &Path) -> SecurityPolicy {
    let mut policy = SecurityPolicy::strict().import_check(ImportCheck::Warn);
    for r in &case.rules {
        let path = root.join(&r.path);
        let capability = if r.write {
            Capability::FileWrite(path)
        } else {
            Capability::FileRead(path)
        };
        policy = if r.allow {
            policy.allow(capability)
        } else {
            policy.deny(capability)
        };
    }
    policy
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// The last component of every name a script may create.
fn destination_names(ops: &[FsOp]) -> BTreeSet<String> {
    let last = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let mut names = BTreeSet::new();
    for op in ops {
        if let FsOp::At { call, .. } = op {
            match call {
                AtCall::OpenAt { path, options } if options.create => {
                    names.insert(last(path));
                }
                AtCall::CreateDirectoryAt(path) | AtCall::SymlinkAt { path, .. } => {
                    names.insert(last(path));
                }
                AtCall::RenameAt { new_path, .. } | AtCall::LinkAt { new_path, .. } => {
                    names.insert(last(new_path));
                }
                _ => {}
            }
        }
    }
    names
}

/// Runs one case and checks the real file system against the oracle.
fn check(case: &Case) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    materialize(case, &root);
    let oracle = Oracle { rules: &case.rules };
    // Contents first (reading sets atimes), then protected files' atimes to
    // 1 s after the epoch, then the metadata the script is judged against.
    let mut before = snapshot(&root, true);
    let use_atime = atime_is_updated();
    if use_atime {
        for o in before.values() {
            if o.kind == "file" && !o.paths.iter().all(|p| oracle.readable(p)) {
                set_atime(&root.join(o.paths.iter().next().unwrap()));
            }
        }
        let stats = snapshot(&root, false);
        for (ino, o) in &mut before {
            let content = std::mem::take(&mut o.content);
            *o = Object {
                content,
                ..stats[ino].clone()
            };
        }
    }

    let mut ops: Vec<FsOp> = case
        .preopens
        .iter()
        .map(|p| FsOp::Preopen(root.join(p).to_string_lossy().into_owned()))
        .collect();
    ops.push(FsOp::Preopen("/".into()));
    ops.extend(case.ops.iter().cloned());
    let outcomes = runtime().block_on(async {
        let sandbox = WasmSandbox::builder()
            .source(example_plugins::BURGLAR)
            .security_policy(policy(case, &root))
            .build()
            .await
            .map_err(|e| format!("the burglar plugin loads: {e}"))?;
        let call = sandbox.call::<(Vec<FsOp>,), Vec<FsOutcome>>("plugin#run", (ops,));
        match tokio::time::timeout(Duration::from_secs(30), call).await {
            Ok(Ok(outcomes)) => Ok(outcomes),
            Ok(Err(e)) => Err(format!("plugin#run failed: {e}")),
            Err(_) => Err("the script did not end within 30 s".to_string()),
        }
    })?;
    let after = snapshot(&root, true);
    let mut problems = Vec::new();

    for (ino, old) in &before {
        let writable = old.paths.iter().all(|p| oracle.writable(p));
        if writable {
            continue;
        }
        let Some(new) = after.get(ino) else {
            problems.push(format!("{:?} ({}) was removed", old.paths, old.kind));
            continue;
        };
        if new.paths != old.paths {
            problems.push(format!(
                "{} {:?} now has the names {:?}",
                old.kind, old.paths, new.paths
            ));
        }
        if old.kind == "dir" {
            let dir = old.paths.iter().next().unwrap();
            if oracle.entries_mutable(dir) {
                continue;
            }
        }
        let compare = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            let (a, b) = (format!("{a:?}"), format!("{b:?}"));
            (a != b).then(|| format!("{} {:?}: {what} {a} -> {b}", old.kind, old.paths))
        };
        problems.extend(
            [
                compare("mode", &old.mode, &new.mode),
                compare("link count", &old.nlink, &new.nlink),
                compare("size", &old.size, &new.size),
                compare("mtime", &old.mtime, &new.mtime),
                compare("ctime", &old.ctime, &new.ctime),
                (old.content != new.content).then(|| {
                    format!(
                        "{} {:?}: content {:?} -> {:?}",
                        old.kind,
                        old.paths,
                        String::from_utf8_lossy(&old.content),
                        String::from_utf8_lossy(&new.content)
                    )
                }),
            ]
            .into_iter()
            .flatten(),
        );
        let unreadable = !old.paths.iter().all(|p| oracle.readable(p));
        if use_atime && old.kind == "file" && unreadable && old.atime != new.atime {
            problems.push(format!(
                "file {:?} may not be read but was (atime {:?} -> {:?})",
                old.paths, old.atime, new.atime
            ));
        }
    }
    let old_paths: BTreeSet<&String> = before.values().flat_map(|o| &o.paths).collect();
    for new in after.values() {
        for p in &new.paths {
            if !old_paths.contains(p) && !oracle.writable(p) {
                problems.push(format!("{} {p:?} was made where it may not be", new.kind));
            }
        }
    }

    // Leaks: markers of unreadable files anywhere, names of unreadable
    // objects in listings.
    let text = format!("{outcomes:?}");
    let created = destination_names(&case.ops);
    for old in before.values() {
        if old.paths.iter().all(|p| oracle.readable(p)) {
            continue;
        }
        if old.kind == "file" {
            let marker = String::from_utf8_lossy(&old.content);
            if !marker.is_empty() && text.contains(marker.as_ref()) {
                problems.push(format!("the content of {:?} leaked", old.paths));
            }
        }
        for p in &old.paths {
            let name = p.rsplit('/').next().unwrap_or(p);
            let tree_name = name.starts_with('n') && name.ends_with('z');
            if !tree_name || created.contains(name) {
                continue;
            }
            let listed = outcomes.iter().any(|o| match o {
                FsOutcome::Entries(names) => names.iter().any(|n| n == name),
                _ => false,
            });
            if listed {
                problems.push(format!("the name of {p:?} was listed"));
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        let numbered: Vec<String> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| format!("  {i}: {o:?}"))
            .collect();
        Err(format!(
            "{}\nroot: {}\noutcomes (preopens first):\n{}",
            problems.join("\n"),
            root.display(),
            numbered.join("\n")
        ))
    }
}

#[test]
fn the_guard_keeps_every_protected_object_intact() {
    let config = contextualize_config(Config {
        cases: DEFAULT_CASES,
        // Each case builds a sandbox (the compile cache makes that cheap);
        // keep shrinking bounded.
        max_shrink_iters: 500,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| check(&case).map_err(TestCaseError::fail));
    eprintln!(
        "fs_model: {cases} cases in {:.1} s (access-time checks {})",
        started.elapsed().as_secs_f64(),
        if atime_is_updated() {
            "on"
        } else {
            "off: this file system does not update access times"
        }
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
