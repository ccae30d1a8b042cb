//! Filesystem enforcement: WASI preopens built from the policy, and a
//! decided check on every function of `wasi:filesystem/types`.
//!
//! wasmtime-wasi opens the preopened directories and implements the
//! functions that work on a descriptor the plugin already holds (reading,
//! writing, streams, listings). Everything that takes a path is ours: the
//! path is resolved by [`walk`] the way the kernel resolves it — component
//! by component from the descriptor's real directory, symlinks followed one
//! at a time — and the policy decides on what was reached (its real path
//! and the device/inode identity of it and of every directory above it).
//! The operation is then performed relative to the very directory handle
//! the walk ended in, on the final name, without following anything again,
//! so the object that was checked is the object that is changed. Every
//! descriptor remembers the real object it holds, and the functions that
//! act on a descriptor are checked against that object.
//!
//! The plugin's `/` is an empty decoy directory when no grant covers `/`,
//! so an attempt to open `/etc/passwd` arrives here, is denied, and is
//! audited. The function-by-function table is in the security chapter of
//! the guide.

pub(crate) mod state;
mod walk;

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use rustix::fs::{AtFlags, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime;
use wasmtime_wasi::p2::bindings::filesystem::preopens::Host as _;
use wasmtime_wasi::p2::bindings::filesystem::types::DirectoryEntryStream as ReaddirIterator;
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self as fs, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode,
    HostDescriptor, HostDirectoryEntryStream, MetadataHashValue, NewTimestamp, OpenFlags,
    PathFlags,
};
use wasmtime_wasi::{FsPerms, OpenMode, WasiCtxBuilder};

use crate::audit::CapabilityKind;
use crate::guard::store::HostState;
use crate::policy::{Compiled, Verdict};
use state::{FsState, Node, Tracked};

use crate::policy::FileId;
use walk::{Dir, Last, OwnedFdOrFile, Reached, Stop};

/// An empty, read-only directory, the host side of the plugin's `/` when no
/// grant covers `/`.
///
/// Made by this process with an unpredictable name, and only if nothing is
/// there yet (`mkdir` does not follow a symlink or reuse a directory), so
/// no one can plant a directory or a link at the path beforehand and have
/// it become every plugin's `/`.
fn decoy_root() -> Option<&'static Path> {
    static DECOY: OnceLock<Option<PathBuf>> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            use std::hash::{BuildHasher as _, Hasher as _};
            use std::os::unix::fs::DirBuilderExt as _;
            for _ in 0..16 {
                let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
                hasher.write_u32(std::process::id());
                let dir = std::env::temp_dir().join(format!(
                    "wasm-sandbox-empty-root-{}-{:016x}",
                    std::process::id(),
                    hasher.finish()
                ));
                match std::fs::DirBuilder::new().mode(0o500).create(&dir) {
                    Ok(()) => return Some(dir),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(_) => return None,
                }
            }
            None
        })
        .as_deref()
}

impl FsState {
    /// Adds the preopens the policy calls for to `wasi`: each granted
    /// directory, and the directory of each granted file. Permissions on
    /// them are decided here, object by object, not by the preopen.
    pub(crate) fn setup(policy: &Compiled, wasi: &mut WasiCtxBuilder) -> FsState {
        let mut state = FsState::default();
        let mut dirs: Vec<(String, PathBuf, bool)> = Vec::new();
        for (granted, writable) in policy.file_grants() {
            let dir = if granted.is_dir() {
                granted.clone()
            } else {
                granted
                    .parent()
                    .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
            };
            let guest = dir.to_string_lossy().into_owned();
            match dirs.iter_mut().find(|(g, _, _)| *g == guest) {
                Some(entry) => entry.2 |= *writable,
                None => dirs.push((guest, dir, *writable)),
            }
        }
        let root_granted = dirs.iter().any(|(g, _, _)| g == "/");
        for (guest, host, writable) in dirs {
            let perms = if writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            let Some(chain) = walk::chain_of(&host) else {
                continue;
            };
            if wasi.preopened_dir(&host, &guest, perms).is_ok() {
                state.preopens.push((
                    guest,
                    Node {
                        path: host,
                        chain: chain.into(),
                        is_dir: true,
                        decoy: false,
                    },
                ));
            }
        }
        if !root_granted
            && let Some(decoy) = decoy_root()
            && wasi.preopened_dir(decoy, "/", FsPerms::ReadOnly).is_ok()
        {
            state.preopens.push((
                "/".to_string(),
                Node {
                    path: PathBuf::from("/"),
                    chain: Arc::from(Vec::new()),
                    is_dir: true,
                    decoy: true,
                },
            ));
        }
        state
    }

    fn track(&mut self, rep: u32, node: Node, handle: &Arc<std::fs::File>) {
        // Forget descriptors the plugin closed, now and then, so that a
        // plugin opening files in a loop cannot grow this map.
        if self.descriptors.len() >= 2 * self.swept_at.max(64) {
            self.descriptors.retain(|_, t| t.handle.strong_count() > 0);
            self.listings
                .retain(|_, (_, dir)| Arc::strong_count(dir) > 1);
            self.swept_at = self.descriptors.len();
        }
        self.descriptors.insert(
            rep,
            Tracked {
                node,
                handle: Arc::downgrade(handle),
            },
        );
    }
}

/// The handle wasmtime-wasi holds for a descriptor.
fn handle_of(d: &Descriptor) -> &Arc<std::fs::File> {
    match d {
        Descriptor::File(f) => &f.file,
        Descriptor::Dir(d) => &d.dir,
    }
}

/// Where a path operation starts.
enum Base {
    /// The empty directory behind the plugin's `/`.
    Decoy,
    Dir(Dir),
}

/// The capability an operation needs, as the audit log and the policy
/// name it.
fn capability(write: bool) -> (CapabilityKind, &'static str) {
    if write {
        (CapabilityKind::FileWrite, "Capability::FileWrite")
    } else {
        (CapabilityKind::FileRead, "Capability::FileRead")
    }
}

impl HostState {
    /// The node a descriptor number stands for, checked against the handle
    /// wasmtime-wasi holds for it.
    fn node(&mut self, rep: u32) -> Result<(Node, Arc<std::fs::File>), ErrorCode> {
        let (table, _) = self.table_and_http();
        let handle = table
            .get(&Resource::<Descriptor>::new_borrow(rep))
            .map(|d| handle_of(d).clone())
            .map_err(|_| ErrorCode::BadDescriptor)?;
        match self.fs.descriptors.get(&rep) {
            Some(t) if t.handle.upgrade().is_some_and(|h| Arc::ptr_eq(&h, &handle)) => {
                Ok((t.node.clone(), handle))
            }
            _ => Err(ErrorCode::BadDescriptor),
        }
    }

    /// Where a path relative to descriptor `rep` starts.
    fn base(&mut self, rep: u32) -> Result<Base, ErrorCode> {
        let (node, handle) = self.node(rep)?;
        if node.decoy {
            return Ok(Base::Decoy);
        }
        if !node.is_dir {
            return Err(ErrorCode::NotDirectory);
        }
        Ok(Base::Dir(Dir {
            fd: Arc::new(OwnedFdOrFile::File(handle)),
            path: node.path,
            chain: node.chain,
        }))
    }

    /// Records a decision and, for a refusal, lets the violation mode end
    /// the call. Returns whether the operation may go ahead.
    fn decided(
        &mut self,
        write: bool,
        operation: &str,
        target: &str,
        verdict: &Verdict,
    ) -> wasmtime::Result<bool> {
        let (kind, grant) = capability(write);
        self.audit
            .record(kind, operation, target.to_string(), verdict);
        if !verdict.allowed {
            // The grant that would allow it names the object written first
            // (a rename or link names two).
            let object = target.split(" -> ").next().unwrap_or(target);
            self.refused(&format!("{grant}({object:?})"), target, &verdict.rule)?;
        }
        Ok(verdict.allowed)
    }

    /// Checks an operation on the object a descriptor holds. Refusals are
    /// audited; allowed operations are audited only when `audit_allowed`
    /// (the open that made the descriptor already was).
    fn check_descriptor(
        &mut self,
        rep: u32,
        write: bool,
        operation: &str,
        audit_allowed: bool,
    ) -> wasmtime::Result<Result<(), ErrorCode>> {
        self.count_host_call("wasi");
        let (node, _) = match self.node(rep) {
            Ok(n) => n,
            Err(code) => return Ok(Err(code)),
        };
        let verdict = if node.decoy {
            if write {
                Verdict::deny("outside every granted path")
            } else {
                // The decoy is an empty directory of ours, not a host object.
                return Ok(Ok(()));
            }
        } else {
            self.policy
                .check_object(&node.path, node.containers(), node.id(), write)
        };
        if verdict.allowed && !audit_allowed {
            return Ok(Ok(()));
        }
        let target = node.path.to_string_lossy().into_owned();
        if self.decided(write, operation, &target, &verdict)? {
            Ok(Ok(()))
        } else {
            Ok(Err(ErrorCode::Access))
        }
    }
}

/// The outcome of resolving one path and deciding on it.
struct Decision {
    /// The real object, for the audit log.
    target: String,
    verdict: Verdict,
    /// What was reached, when the walk got there.
    reached: Option<Reached>,
    /// The error the walk stopped with, when the policy allowed the place
    /// where it stopped (a missing directory, a loop, ...).
    errno: Option<Errno>,
}

/// How an operation treats the object it reaches.
#[derive(Clone, Copy)]
struct Need {
    write: bool,
    /// Renaming or removing it: refused when it contains a denied path.
    structural: bool,
}

/// Resolves `path` from `base` and decides on what it reaches.
fn decide(policy: &Compiled, base: &Base, path: &str, last: Last, need: Need) -> Decision {
    if path.len() > walk::MAX_PATH {
        return Decision {
            target: format!("(a path of {} bytes)", path.len()),
            verdict: Verdict::deny(format!(
                "paths longer than {} bytes are refused",
                walk::MAX_PATH
            )),
            reached: None,
            errno: None,
        };
    }
    let dir = match base {
        Base::Decoy => {
            return Decision {
                target: walk_lexically("/", path),
                verdict: Verdict::deny("outside every granted path"),
                reached: None,
                errno: None,
            };
        }
        Base::Dir(dir) => dir,
    };
    let enter = |p: &Path, id: FileId| policy.may_enter(p, id);
    match walk::walk(dir, path, last, &enter) {
        Err(Stop::Escape { toward, why }) => Decision {
            target: toward.to_string_lossy().into_owned(),
            verdict: Verdict::deny(format!(
                "the path leaves the directory it is relative to ({}): {why}",
                dir.path.display()
            )),
            reached: None,
            errno: None,
        },
        Err(Stop::Refused { dir, toward, rule }) => Decision {
            target: toward.to_string_lossy().into_owned(),
            // A path that ends inside the refused directory is refused by
            // its rule; one that only passes through says so.
            verdict: {
                let here = policy.check_object(&toward, &[], None, need.write);
                if toward.starts_with(&dir) && !here.allowed {
                    here
                } else {
                    Verdict::deny(format!("{rule} (the path goes through {})", dir.display()))
                }
            },
            reached: None,
            errno: None,
        },
        Err(Stop::Os { errno, at }) => {
            // Nothing was reached; a refusal for the place keeps the plugin
            // from learning what exists where it may not look.
            let verdict = policy.check_object(&at, &[], None, need.write);
            Decision {
                target: at.to_string_lossy().into_owned(),
                errno: verdict.allowed.then_some(errno),
                verdict,
                reached: None,
            }
        }
        Ok(reached) => {
            let path = reached.path();
            let mut verdict =
                policy.check_object(&path, &reached.parent.chain, reached.id(), need.write);
            if verdict.allowed
                && need.structural
                && let Some(v) = policy.holds_denial(&path, reached.id())
            {
                verdict = v;
            }
            Decision {
                target: path.to_string_lossy().into_owned(),
                verdict,
                reached: Some(reached),
                errno: None,
            }
        }
    }
}

/// `/` + `path`, `..` taken lexically: only to name a path under the decoy,
/// where nothing real exists.
fn walk_lexically(root: &str, path: &str) -> String {
    let mut out = PathBuf::from(root);
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.to_string_lossy().into_owned()
}

/// Runs filesystem work off the async executor, as wasmtime-wasi does.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// One path operation: resolve, decide, audit, perform.
async fn path_op<T: Send + 'static, E: Into<Failed>>(
    cx: &mut StoreContextMut<'_, HostState>,
    fd: u32,
    path: String,
    last: Last,
    need: Need,
    operation: &'static str,
    perform: impl FnOnce(&Reached) -> Result<T, E> + Send + 'static,
) -> wasmtime::Result<Result<T, ErrorCode>> {
    let state = cx.data_mut();
    state.count_host_call("wasi");
    let base = match state.base(fd) {
        Ok(b) => b,
        Err(code) => return Ok(Err(code)),
    };
    let policy = state.policy.clone();
    let (target, verdict, outcome) = blocking(move || {
        let d = decide(&policy, &base, &path, last, need);
        let mut verdict = d.verdict;
        let outcome = match (&d.reached, d.errno) {
            (_, Some(errno)) => Err(errno),
            (Some(reached), None) if verdict.allowed => {
                match perform(reached).map_err(Into::into) {
                    Ok(v) => Ok(v),
                    Err(Failed::Os(errno)) => Err(errno),
                    Err(Failed::Denied(v)) => {
                        verdict = v;
                        Err(Errno::ACCESS)
                    }
                }
            }
            _ => Err(Errno::ACCESS),
        };
        (d.target, verdict, outcome)
    })
    .await;
    if !cx
        .data_mut()
        .decided(need.write, operation, &target, &verdict)?
    {
        return Ok(Err(ErrorCode::Access));
    }
    Ok(outcome.map_err(errno_code))
}

/// Why an operation that was allowed did not happen.
enum Failed {
    /// The operating system refused it.
    Os(Errno),
    /// The object in hand turned out not to be the one decided on, and the
    /// policy refuses the one in hand.
    Denied(Verdict),
}

impl From<Errno> for Failed {
    fn from(errno: Errno) -> Failed {
        Failed::Os(errno)
    }
}

/// The WASI error for an operating-system error.
fn errno_code(errno: Errno) -> ErrorCode {
    match errno {
        Errno::ACCESS => ErrorCode::Access,
        Errno::AGAIN => ErrorCode::WouldBlock,
        Errno::ALREADY => ErrorCode::Already,
        Errno::BADF => ErrorCode::BadDescriptor,
        Errno::BUSY => ErrorCode::Busy,
        Errno::DEADLK => ErrorCode::Deadlock,
        Errno::DQUOT => ErrorCode::Quota,
        Errno::EXIST => ErrorCode::Exist,
        Errno::FBIG => ErrorCode::FileTooLarge,
        Errno::ILSEQ => ErrorCode::IllegalByteSequence,
        Errno::INPROGRESS => ErrorCode::InProgress,
        Errno::INTR => ErrorCode::Interrupted,
        Errno::INVAL => ErrorCode::Invalid,
        Errno::IO => ErrorCode::Io,
        Errno::ISDIR => ErrorCode::IsDirectory,
        Errno::LOOP => ErrorCode::Loop,
        Errno::MLINK => ErrorCode::TooManyLinks,
        Errno::MSGSIZE => ErrorCode::MessageSize,
        Errno::NAMETOOLONG => ErrorCode::NameTooLong,
        Errno::NODEV => ErrorCode::NoDevice,
        Errno::NOENT => ErrorCode::NoEntry,
        Errno::NOLCK => ErrorCode::NoLock,
        Errno::NOMEM => ErrorCode::InsufficientMemory,
        Errno::NOSPC => ErrorCode::InsufficientSpace,
        Errno::NOSYS | Errno::NOTSUP => ErrorCode::Unsupported,
        Errno::NOTDIR => ErrorCode::NotDirectory,
        Errno::NOTEMPTY => ErrorCode::NotEmpty,
        Errno::NOTRECOVERABLE => ErrorCode::NotRecoverable,
        Errno::NOTTY => ErrorCode::NoTty,
        Errno::NXIO => ErrorCode::NoSuchDevice,
        Errno::OVERFLOW => ErrorCode::Overflow,
        Errno::PERM => ErrorCode::NotPermitted,
        Errno::PIPE => ErrorCode::Pipe,
        Errno::ROFS => ErrorCode::ReadOnly,
        Errno::SPIPE => ErrorCode::InvalidSeek,
        Errno::TXTBSY => ErrorCode::TextFileBusy,
        Errno::XDEV => ErrorCode::CrossDevice,
        _ => ErrorCode::Io,
    }
}

fn io_errno(e: &std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::IO, Errno::from_raw_os_error)
}

/// The object a walk reached, opened without following anything
/// (`O_PATH` where the platform has it) to read its metadata.
fn metadata_of(reached: &Reached) -> Result<std::fs::Metadata, Errno> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = rustix::fs::openat(
        reached.parent.fd.as_fd(),
        &reached.name,
        flags,
        Mode::empty(),
    )?;
    std::fs::File::from(fd).metadata().map_err(|e| io_errno(&e))
}

fn datetime(t: std::io::Result<SystemTime>) -> Option<Datetime> {
    let d = t.ok()?.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    Some(Datetime {
        seconds: d.as_secs(),
        nanoseconds: d.subsec_nanos(),
    })
}

/// The WASI stat of an object, as wasmtime-wasi reports it for a
/// descriptor.
fn descriptor_stat(meta: &std::fs::Metadata) -> DescriptorStat {
    let ft = meta.file_type();
    let type_ = if ft.is_dir() {
        DescriptorType::Directory
    } else if ft.is_file() {
        DescriptorType::RegularFile
    } else if ft.is_symlink() {
        DescriptorType::SymbolicLink
    } else if ft.is_block_device() {
        DescriptorType::BlockDevice
    } else if ft.is_char_device() {
        DescriptorType::CharacterDevice
    } else if ft.is_fifo() {
        DescriptorType::Fifo
    } else if ft.is_socket() {
        DescriptorType::Socket
    } else {
        DescriptorType::Unknown
    };
    DescriptorStat {
        type_,
        link_count: meta.nlink(),
        size: meta.len(),
        data_access_timestamp: datetime(meta.accessed()),
        data_modification_timestamp: datetime(meta.modified()),
        status_change_timestamp: datetime(meta.created()),
    }
}

/// The metadata hash of an object, computed the way wasmtime-wasi computes
/// it for a descriptor, so that `metadata-hash-at` and `metadata-hash` agree.
fn metadata_hash(meta: &std::fs::Metadata) -> MetadataHashValue {
    use std::hash::{Hash as _, Hasher as _};
    #[allow(
        deprecated,
        reason = "the same fixed-key hasher as wasmtime-wasi, for matching values"
    )]
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (meta.dev(), meta.ino()).hash(&mut hasher);
    let lower = hasher.finish();
    MetadataHashValue {
        lower,
        upper: lower ^ 0x4009_21fb_5444_2d18,
    }
}

fn timespec(t: NewTimestamp) -> Timespec {
    match t {
        NewTimestamp::NoChange => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        NewTimestamp::Now => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        },
        NewTimestamp::Timestamp(d) => Timespec {
            tv_sec: i64::try_from(d.seconds).unwrap_or(i64::MAX),
            tv_nsec: i64::from(d.nanoseconds.min(999_999_999)),
        },
    }
}

/// What `open-at` opened, before it becomes a descriptor.
struct Opened {
    fd: OwnedFd,
    is_dir: bool,
    node: Node,
    writable: bool,
}

/// Opens the object a walk reached, as `open-at` asked, and decides again
/// on what was actually opened (its identity, taken from the new handle).
fn open_reached(
    policy: &Compiled,
    reached: &Reached,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> Result<Opened, Failed> {
    let os_write = flags.contains(DescriptorFlags::WRITE)
        || oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE);
    let os_read = flags.contains(DescriptorFlags::READ) || !flags.contains(DescriptorFlags::WRITE);
    let mut o = match (os_read, os_write) {
        (true, true) => OFlags::RDWR,
        (false, true) => OFlags::WRONLY,
        _ => OFlags::RDONLY,
    };
    o |= OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if oflags.contains(OpenFlags::CREATE) {
        o |= OFlags::CREATE;
        if oflags.contains(OpenFlags::EXCLUSIVE) {
            o |= OFlags::EXCL;
        }
    }
    if oflags.contains(OpenFlags::DIRECTORY) {
        o |= OFlags::DIRECTORY;
    }
    // Opening a FIFO would wait for a writer, holding a host thread.
    if reached.stat.as_ref().is_some_and(|s| {
        rustix::fs::FileType::from_raw_mode(s.st_mode) == rustix::fs::FileType::Fifo
    }) {
        o |= OFlags::NONBLOCK;
    }
    // Truncation waits until the opened object has been checked.
    let fd = rustix::fs::openat(
        reached.parent.fd.as_fd(),
        &reached.name,
        o,
        Mode::from_raw_mode(0o666),
    )?;
    let stat = rustix::fs::fstat(&fd)?;
    let id = FileId::of(&stat);
    let path = reached.path();
    let is_dir =
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Directory;
    let containers = &reached.parent.chain;
    // The object opened may not be the one the walk saw (another process
    // renamed something in between): decide on the one in hand.
    let write_needed = os_write
        || flags.contains(DescriptorFlags::MUTATE_DIRECTORY)
        || oflags.contains(OpenFlags::TRUNCATE);
    let verdict = policy.check_object(&path, containers, Some(id), write_needed);
    if !verdict.allowed {
        return Err(Failed::Denied(Verdict::deny(format!(
            "the object opened is not the one the path named a moment before: {}",
            verdict.rule
        ))));
    }
    if oflags.contains(OpenFlags::TRUNCATE) && !is_dir {
        rustix::fs::ftruncate(&fd, 0)?;
    }
    let mut chain: Vec<FileId> = if reached.name == "." {
        // The path named the directory the walk ended in.
        containers[..containers.len().saturating_sub(1)].to_vec()
    } else {
        containers.to_vec()
    };
    chain.push(id);
    let writable = policy
        .check_object(&path, containers, Some(id), true)
        .allowed;
    Ok(Opened {
        fd,
        is_dir,
        writable,
        node: Node {
            path,
            chain: chain.into(),
            is_dir,
            decoy: false,
        },
    })
}

/// Runs the wrapped wasmtime-wasi function and turns its error into the
/// WASI error code the plugin sees.
macro_rules! delegate {
    ($cx:expr, |$view:ident| $call:expr) => {{
        let mut $view = $cx.data_mut().filesystem();
        match $call.await {
            Ok(v) => Ok(v),
            Err(e) => Err(fs::Host::convert_error_code(&mut $view, e)?),
        }
    }};
}

/// Registers a method of a descriptor that acts on the object it holds
/// (`set-size`, `set-times`, `read`, `write`, `stat`, `metadata-hash`): the
/// object is checked (`write` or read; audited as `operation`, allowed ones
/// too when `audit_allowed`), then wasmtime-wasi's implementation `call`
/// runs.
macro_rules! descriptor_fn {
    ($types:ident, $name:literal, write: $write:expr, $op:literal, audit_allowed: $audit:expr,
     ($($arg:ident: $ty:ty),*) -> $ret:ty, |$view:ident, $fd:ident| $call:expr) => {
        $types.func_wrap_async(
            $name,
            |mut cx: StoreContextMut<'_, HostState>, ($fd, $($arg,)*): (Resource<Descriptor>, $($ty,)*)| {
                Box::new(async move {
                    if let Err(code) = cx.data_mut().check_descriptor($fd.rep(), $write, $op, $audit)? {
                        return Ok((Err(code),));
                    }
                    let r: Result<$ret, ErrorCode> = delegate!(cx, |$view| $call);
                    Ok((r,))
                })
            },
        )?;
    };
}

/// Registers a stream function of a descriptor (`read-via-stream`,
/// `write-via-stream`, `append-via-stream`): the descriptor's object is
/// checked (`write` or read; refusals audited as `operation`), then
/// wasmtime-wasi's implementation `call` runs.
macro_rules! stream_fn {
    ($types:ident, $name:literal, $write:expr, $op:literal, ($($arg:ident: $ty:ty)?), |$view:ident, $fd:ident| $call:expr) => {
        $types.func_wrap(
            $name,
            |mut cx: StoreContextMut<'_, HostState>, ($fd, $($arg,)?): (Resource<Descriptor>, $($ty,)?)| {
                if let Err(code) = cx.data_mut().check_descriptor($fd.rep(), $write, $op, false)? {
                    return Ok((Err(code),));
                }
                let mut view = cx.data_mut().filesystem();
                let $view = &mut view;
                let r = match $call {
                    Ok(v) => Ok(v),
                    Err(e) => Err(fs::Host::convert_error_code(&mut view, e)?),
                };
                Ok((r,))
            },
        )?;
    };
}

/// Registers a `*-at` function of `wasi:filesystem/types` that takes a
/// descriptor and a path (`flags`: and path flags before the path, which
/// say whether the last name is followed; otherwise it never is), as
/// [`path_op`] with `perform` on what the path reached.
macro_rules! at_path {
    ($types:ident, $name:literal, flags, $need:expr, $op:literal, $perform:expr) => {
        $types.func_wrap_async(
            $name,
            |mut cx: StoreContextMut<'_, HostState>,
             (fd, path_flags, path): (Resource<Descriptor>, PathFlags, String)| {
                Box::new(async move {
                    let r = path_op(
                        &mut cx,
                        fd.rep(),
                        path,
                        last(path_flags),
                        $need,
                        $op,
                        $perform,
                    )
                    .await?;
                    Ok((r,))
                })
            },
        )?;
    };
    ($types:ident, $name:literal, $last:expr, $need:expr, $op:literal, $perform:expr) => {
        $types.func_wrap_async(
            $name,
            |mut cx: StoreContextMut<'_, HostState>, (fd, path): (Resource<Descriptor>, String)| {
                Box::new(async move {
                    let r = path_op(&mut cx, fd.rep(), path, $last, $need, $op, $perform).await?;
                    Ok((r,))
                })
            },
        )?;
    };
}

/// Replaces the functions of `wasi:filesystem` with checked, audited
/// versions.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    crate::guard::shadow(linker, add_wrappers)
}

const READ: Need = Need {
    write: false,
    structural: false,
};
const WRITE: Need = Need {
    write: true,
    structural: false,
};
const STRUCTURAL: Need = Need {
    write: true,
    structural: true,
};

fn last(flags: PathFlags) -> Last {
    if flags.contains(PathFlags::SYMLINK_FOLLOW) {
        Last::Follow
    } else {
        Last::NoFollow
    }
}

#[allow(
    clippy::too_many_lines,
    reason = "one registration per WASI function, each short, in the order of the WIT"
)]
fn add_wrappers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut preopens = linker.instance("wasi:filesystem/preopens@0.2.12")?;
    preopens.func_wrap(
        "get-directories",
        |mut cx: StoreContextMut<'_, HostState>, (): ()| {
            let dirs = cx.data_mut().filesystem().get_directories()?;
            let state = cx.data_mut();
            for (fd, guest) in &dirs {
                let Some((_, node)) = state.fs.preopens.iter().find(|(g, _)| g == guest) else {
                    continue;
                };
                let mut node = node.clone();
                let (table, _) = state.table_and_http();
                let Ok(handle) = table.get(fd).map(|d| handle_of(d).clone()) else {
                    continue;
                };
                // The identity of the directory actually opened.
                if !node.decoy
                    && let Ok(stat) = rustix::fs::fstat(handle.as_fd())
                {
                    let mut chain = node.containers().to_vec();
                    chain.push(FileId::of(&stat));
                    node.chain = chain.into();
                }
                state.fs.track(fd.rep(), node, &handle);
            }
            Ok((dirs,))
        },
    )?;

    let mut types = linker.instance("wasi:filesystem/types@0.2.12")?;

    // The stream functions: checked against the descriptor's object, then
    // wasmtime-wasi's own (they are synchronous).
    stream_fn!(types, "[method]descriptor.read-via-stream", false, "read", (offset: u64), |view, fd| {
        HostDescriptor::read_via_stream(view, fd, offset)
    });
    stream_fn!(types, "[method]descriptor.write-via-stream", true, "write", (offset: u64), |view, fd| {
        HostDescriptor::write_via_stream(view, fd, offset)
    });
    stream_fn!(
        types,
        "[method]descriptor.append-via-stream",
        true,
        "write",
        (),
        |view, fd| { HostDescriptor::append_via_stream(view, fd) }
    );

    descriptor_fn!(
        types,
        "[method]descriptor.set-size",
        write: true,
        "set-size",
        audit_allowed: true,
        (size: u64) -> (),
        |view, fd| HostDescriptor::set_size(&mut view, fd, size)
    );

    descriptor_fn!(
        types,
        "[method]descriptor.set-times",
        write: true,
        "set-times",
        audit_allowed: true,
        (atime: NewTimestamp, mtime: NewTimestamp) -> (),
        |view, fd| HostDescriptor::set_times(&mut view, fd, atime, mtime)
    );

    descriptor_fn!(
        types,
        "[method]descriptor.read",
        write: false,
        "read",
        audit_allowed: false,
        (len: u64, offset: u64) -> (Vec<u8>, bool),
        |view, fd| HostDescriptor::read(&mut view, fd, len, offset)
    );

    descriptor_fn!(
        types,
        "[method]descriptor.write",
        write: true,
        "write",
        audit_allowed: false,
        (buf: Vec<u8>, offset: u64) -> u64,
        |view, fd| HostDescriptor::write(&mut view, fd, buf, offset)
    );

    types.func_wrap_async(
        "[method]descriptor.read-directory",
        |mut cx: StoreContextMut<'_, HostState>, (fd,): (Resource<Descriptor>,)| {
            Box::new(async move {
                let rep = fd.rep();
                if let Err(code) = cx.data_mut().check_descriptor(rep, false, "list", true)? {
                    return Ok((Err(code),));
                }
                let listed = cx.data_mut().node(rep).ok();
                let r: Result<Resource<ReaddirIterator>, ErrorCode> =
                    delegate!(cx, |view| HostDescriptor::read_directory(&mut view, fd));
                if let (Ok(stream), Some(listed)) = (&r, listed) {
                    cx.data_mut().fs.listings.insert(stream.rep(), listed);
                }
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]directory-entry-stream.read-directory-entry",
        |mut cx: StoreContextMut<'_, HostState>, (stream,): (Resource<ReaddirIterator>,)| {
            Box::new(async move {
                let listing = cx.data_mut().fs.listings.get(&stream.rep()).cloned();
                loop {
                    let entry: Result<Option<DirectoryEntry>, ErrorCode> = delegate!(cx, |view| {
                        HostDirectoryEntryStream::read_directory_entry(
                            &mut view,
                            Resource::<ReaddirIterator>::new_borrow(stream.rep()),
                        )
                    });
                    // Entries the plugin may not read are left out, so a
                    // listing does not reveal denied names.
                    if let (Ok(Some(e)), Some((node, dir))) = (&entry, &listing)
                        && !node.decoy
                    {
                        let id = rustix::fs::statat(
                            dir.as_fd(),
                            e.name.as_str(),
                            AtFlags::SYMLINK_NOFOLLOW,
                        )
                        .ok()
                        .map(|s| FileId::of(&s));
                        let verdict = cx.data().policy.check_object(
                            &node.path.join(&e.name),
                            &node.chain,
                            id,
                            false,
                        );
                        if !verdict.allowed {
                            continue;
                        }
                    }
                    return Ok((entry,));
                }
            })
        },
    )?;

    descriptor_fn!(
        types,
        "[method]descriptor.stat",
        write: false,
        "stat",
        audit_allowed: false,
        () -> DescriptorStat,
        |view, fd| HostDescriptor::stat(&mut view, fd)
    );

    descriptor_fn!(
        types,
        "[method]descriptor.metadata-hash",
        write: false,
        "stat",
        audit_allowed: false,
        () -> MetadataHashValue,
        |view, fd| HostDescriptor::metadata_hash(&mut view, fd)
    );

    types.func_wrap_async(
        "[method]descriptor.open-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, path_flags, path, oflags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            Box::new(async move {
                if oflags.contains(OpenFlags::DIRECTORY)
                    && oflags
                        .intersects(OpenFlags::CREATE | OpenFlags::EXCLUSIVE | OpenFlags::TRUNCATE)
                {
                    return Ok((Err(ErrorCode::Invalid),));
                }
                if flags.intersects(
                    DescriptorFlags::FILE_INTEGRITY_SYNC
                        | DescriptorFlags::DATA_INTEGRITY_SYNC
                        | DescriptorFlags::REQUESTED_WRITE_SYNC,
                ) {
                    return Ok((Err(ErrorCode::Unsupported),));
                }
                let write = oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE)
                    || flags.intersects(DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY);
                let op = if oflags.contains(OpenFlags::CREATE) {
                    "create"
                } else {
                    "open"
                };
                let need = if write { WRITE } else { READ };
                let policy = cx.data().policy.clone();
                let r = path_op(
                    &mut cx,
                    fd.rep(),
                    path,
                    last(path_flags),
                    need,
                    op,
                    move |reached| open_reached(&policy, reached, oflags, flags),
                )
                .await?;
                let opened = match r {
                    Ok(o) => o,
                    Err(code) => return Ok((Err(code),)),
                };
                let open_mode = {
                    let mut m = OpenMode::empty();
                    if flags.contains(DescriptorFlags::READ)
                        || !flags.contains(DescriptorFlags::WRITE)
                    {
                        m |= OpenMode::READ;
                    }
                    if flags.contains(DescriptorFlags::WRITE)
                        || oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE)
                    {
                        m |= OpenMode::WRITE;
                    }
                    m
                };
                let perms = if opened.writable {
                    FsPerms::ReadWrite
                } else {
                    FsPerms::ReadOnly
                };
                let file = std::fs::File::from(opened.fd);
                let descriptor = if opened.is_dir {
                    Descriptor::Dir(wasmtime_wasi::filesystem::Dir::new(
                        file, perms, open_mode, false,
                    ))
                } else {
                    Descriptor::File(wasmtime_wasi::filesystem::File::new(
                        file, perms, open_mode, false,
                    ))
                };
                let handle = handle_of(&descriptor).clone();
                let state = cx.data_mut();
                let (table, _) = state.table_and_http();
                let new = table.push(descriptor)?;
                state.fs.track(new.rep(), opened.node, &handle);
                Ok((Ok(new),))
            })
        },
    )?;

    // The `*-at` functions that take a descriptor and a path (and path
    // flags): resolve, decide, audit, then perform on what was reached.
    at_path!(
        types,
        "[method]descriptor.stat-at",
        flags,
        READ,
        "stat",
        |reached| { metadata_of(reached).map(|m| descriptor_stat(&m)) }
    );
    at_path!(
        types,
        "[method]descriptor.metadata-hash-at",
        flags,
        READ,
        "stat",
        |reached| { metadata_of(reached).map(|m| metadata_hash(&m)) }
    );
    at_path!(
        types,
        "[method]descriptor.readlink-at",
        Last::NoFollow,
        READ,
        "readlink",
        |reached| {
            let target =
                rustix::fs::readlinkat(reached.parent.fd.as_fd(), &reached.name, Vec::new())?;
            String::from_utf8(target.into_bytes()).map_err(|_| Errno::ILSEQ)
        }
    );
    at_path!(
        types,
        "[method]descriptor.create-directory-at",
        Last::NoFollow,
        WRITE,
        "mkdir",
        |reached| {
            rustix::fs::mkdirat(
                reached.parent.fd.as_fd(),
                &reached.name,
                Mode::from_raw_mode(0o777),
            )
        }
    );
    at_path!(
        types,
        "[method]descriptor.remove-directory-at",
        Last::NoFollow,
        STRUCTURAL,
        "remove",
        |reached| {
            rustix::fs::unlinkat(reached.parent.fd.as_fd(), &reached.name, AtFlags::REMOVEDIR)
        }
    );
    at_path!(
        types,
        "[method]descriptor.unlink-file-at",
        Last::NoFollow,
        STRUCTURAL,
        "remove",
        |reached| {
            rustix::fs::unlinkat(reached.parent.fd.as_fd(), &reached.name, AtFlags::empty())
        }
    );

    types.func_wrap_async(
        "[method]descriptor.set-times-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, path_flags, path, atime, mtime): (
            Resource<Descriptor>,
            PathFlags,
            String,
            NewTimestamp,
            NewTimestamp,
        )| {
            Box::new(async move {
                let times = Timestamps {
                    last_access: timespec(atime),
                    last_modification: timespec(mtime),
                };
                let r = path_op(
                    &mut cx,
                    fd.rep(),
                    path,
                    last(path_flags),
                    WRITE,
                    "set-times",
                    move |reached| {
                        rustix::fs::utimensat(
                            reached.parent.fd.as_fd(),
                            &reached.name,
                            &times,
                            AtFlags::SYMLINK_NOFOLLOW,
                        )
                    },
                )
                .await?;
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.symlink-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, old, new): (Resource<Descriptor>, String, String)| {
            Box::new(async move {
                if old.starts_with('/') {
                    // Where the link would be, named as well as the text allows.
                    let state = cx.data_mut();
                    state.count_host_call("wasi");
                    let target = match state.node(fd.rep()) {
                        Ok((node, _)) => walk_lexically(&node.path.to_string_lossy(), &new),
                        Err(code) => return Ok((Err(code),)),
                    };
                    let verdict = Verdict::deny(format!(
                        "a symlink to the absolute path `{old}`: plugins make relative symlinks only"
                    ));
                    state.decided(true, "symlink", &target, &verdict)?;
                    return Ok((Err(ErrorCode::Access),));
                }
                let r = path_op(&mut cx, fd.rep(), new, Last::NoFollow, WRITE, "symlink", move |reached| {
                    rustix::fs::symlinkat(old.as_str(), reached.parent.fd.as_fd(), &reached.name)
                })
                .await?;
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.rename-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, old, new_fd, new): (Resource<Descriptor>, String, Resource<Descriptor>, String)| {
            Box::new(async move {
                let r = pair_op(&mut cx, fd.rep(), old, Last::NoFollow, new_fd.rep(), new, "rename", |from, to| {
                    rustix::fs::renameat(
                        from.parent.fd.as_fd(),
                        &from.name,
                        to.parent.fd.as_fd(),
                        &to.name,
                    )
                })
                .await?;
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.link-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, old_flags, old, new_fd, new): (
            Resource<Descriptor>,
            PathFlags,
            String,
            Resource<Descriptor>,
            String,
        )| {
            Box::new(async move {
                let r = pair_op(
                    &mut cx,
                    fd.rep(),
                    old,
                    last(old_flags),
                    new_fd.rep(),
                    new,
                    "link",
                    link_checked,
                )
                .await?;
                Ok((r,))
            })
        },
    )?;
    Ok(())
}

/// Makes the hard link and checks that the new name holds the object that
/// was decided on; a link to anything else (the source was swapped in
/// between) is taken back.
fn link_checked(from: &Reached, to: &Reached) -> Result<(), Errno> {
    let Some(expected) = from.id() else {
        return Err(Errno::NOENT);
    };
    rustix::fs::linkat(
        from.parent.fd.as_fd(),
        &from.name,
        to.parent.fd.as_fd(),
        &to.name,
        AtFlags::empty(),
    )?;
    let made = rustix::fs::statat(to.parent.fd.as_fd(), &to.name, AtFlags::SYMLINK_NOFOLLOW)?;
    if FileId::of(&made) != expected {
        let _ = rustix::fs::unlinkat(to.parent.fd.as_fd(), &to.name, AtFlags::empty());
        return Err(Errno::AGAIN);
    }
    Ok(())
}

/// Rename and link: both paths are resolved and decided; one event names
/// both real objects. Both need write: the source because it gets a new
/// name (a hard link would otherwise give a read-only or denied object a
/// writable one), the new name because it is created. A rename of a
/// directory that contains a denied path, or onto one, is refused.
#[allow(
    clippy::too_many_arguments,
    reason = "the two (descriptor, path) pairs of the WASI call, the operation and its action"
)]
async fn pair_op(
    cx: &mut StoreContextMut<'_, HostState>,
    fd: u32,
    old: String,
    old_last: Last,
    new_fd: u32,
    new: String,
    operation: &'static str,
    perform: impl FnOnce(&Reached, &Reached) -> Result<(), Errno> + Send + 'static,
) -> wasmtime::Result<Result<(), ErrorCode>> {
    let state = cx.data_mut();
    state.count_host_call("wasi");
    let (from_base, to_base) = match (state.base(fd), state.base(new_fd)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(code), _) | (_, Err(code)) => return Ok(Err(code)),
    };
    let policy = state.policy.clone();
    let (target, verdict, outcome) = blocking(move || {
        let from = decide(&policy, &from_base, &old, old_last, STRUCTURAL);
        let to = decide(&policy, &to_base, &new, Last::NoFollow, STRUCTURAL);
        let target = format!("{} -> {}", from.target, to.target);
        let verdict = if !from.verdict.allowed {
            from.verdict.clone()
        } else if !to.verdict.allowed {
            to.verdict.clone()
        } else {
            Verdict::allow(format!("{}; {}", from.verdict.rule, to.verdict.rule))
        };
        let outcome = match (&from, &to) {
            (Decision { errno: Some(e), .. }, _) | (_, Decision { errno: Some(e), .. }) => Err(*e),
            (
                Decision {
                    reached: Some(a), ..
                },
                Decision {
                    reached: Some(b), ..
                },
            ) if verdict.allowed => perform(a, b),
            _ => Err(Errno::ACCESS),
        };
        (target, verdict, outcome)
    })
    .await;
    if !cx.data_mut().decided(true, operation, &target, &verdict)? {
        return Ok(Err(ErrorCode::Access));
    }
    Ok(outcome.map_err(errno_code))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    /// The plugin's `/` without a grant is a directory this process made:
    /// empty, read-only, ours, and at a name no one could guess to plant a
    /// directory or a symlink there first.
    #[test]
    fn the_decoy_root_is_fresh_empty_read_only_and_ours() {
        let dir = super::decoy_root().expect("a decoy root");
        let meta = std::fs::symlink_metadata(dir).unwrap();
        assert!(meta.is_dir(), "{}", dir.display());
        assert_eq!(meta.permissions().mode() & 0o777, 0o500);
        // `/proc/self` belongs to the user this process runs as.
        assert_eq!(meta.uid(), std::fs::metadata("/proc/self").unwrap().uid());
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
        let predictable = format!("wasm-sandbox-empty-root-{}", std::process::id());
        assert_ne!(
            dir.file_name().unwrap().to_str(),
            Some(predictable.as_str())
        );
        // The same directory for every plugin of the process.
        assert_eq!(super::decoy_root(), Some(dir));
    }
}
