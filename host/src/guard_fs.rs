//! Filesystem enforcement: WASI preopens built from the policy, and a check
//! in front of every `wasi:filesystem` function that takes a path.
//!
//! wasmtime-wasi (through cap-std) already confines a plugin to its
//! preopened directories. This layer adds what the policy needs on top:
//! single-file grants, denied subtrees inside grants, symlink resolution
//! against the grants, and an audit event for every path operation, allowed
//! or denied. Paths outside every grant reach the host too: the plugin's `/`
//! is an empty decoy directory, so an attempt to open `/etc/passwd` arrives
//! here, is denied, and is audited with its real target.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::preopens::Host as _;
use wasmtime_wasi::p2::bindings::filesystem::types::DirectoryEntryStream as ReaddirIterator;
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self as fs, DescriptorFlags, DirectoryEntry, ErrorCode, HostDescriptor,
    HostDirectoryEntryStream, NewTimestamp, OpenFlags, PathFlags,
};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::audit::CapabilityKind;
use crate::policy::{Compiled, Verdict, lexical};
use crate::store::HostState;

/// What a descriptor stands for on the host.
#[derive(Clone, Debug)]
struct Node {
    /// Absolute host path (canonical for real directories; `/` for the decoy).
    path: PathBuf,
    /// The empty directory behind the plugin's `/`.
    decoy: bool,
}

/// Per-instance filesystem state: preopens and what each open descriptor is.
#[derive(Debug, Default)]
pub(crate) struct FsState {
    /// Guest path of each preopen -> host node.
    preopens: Vec<(String, Node)>,
    descriptors: HashMap<u32, Node>,
    /// Directory listings in progress -> the directory.
    listings: HashMap<u32, PathBuf>,
}

/// An empty, read-only directory, the host side of the plugin's `/` when no
/// grant covers `/`.
fn decoy_root() -> Option<&'static Path> {
    static DECOY: OnceLock<Option<PathBuf>> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            let dir = std::env::temp_dir()
                .join(format!("wasm-sandbox-empty-root-{}", std::process::id()));
            std::fs::create_dir_all(&dir).ok()?;
            Some(dir)
        })
        .as_deref()
}

impl FsState {
    /// Adds the preopens the policy calls for to `wasi`.
    pub(crate) fn setup(policy: &Compiled, wasi: &mut WasiCtxBuilder) -> FsState {
        let mut state = FsState::default();
        // guest path -> (host dir, writable)
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
            if wasi.preopened_dir(&host, &guest, perms).is_ok() {
                state.preopens.push((
                    guest,
                    Node {
                        path: host,
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
                    decoy: true,
                },
            ));
        }
        state
    }
}

/// The outcome of checking a path.
struct Checked {
    /// The path as the plugin named it, made absolute.
    asked: PathBuf,
}

/// Follows symlinks in `path` as far as it exists; the final component is
/// kept as is when `follow_last` is false (unlink, readlink, lstat).
fn resolve(path: &Path, follow_last: bool) -> PathBuf {
    if follow_last && let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => match std::fs::canonicalize(parent) {
            Ok(p) => p.join(name),
            Err(_) => resolve(parent, true).join(name),
        },
        _ => path.to_path_buf(),
    }
}

impl HostState {
    /// Decides one path operation, without recording it: the path as the
    /// plugin named it (made absolute) and the verdict.
    fn evaluate_path(
        &self,
        base: u32,
        rel: &str,
        write: bool,
        follow: bool,
    ) -> Result<(PathBuf, Verdict), ErrorCode> {
        let Some(node) = self.fs.descriptors.get(&base) else {
            return Err(ErrorCode::BadDescriptor);
        };
        let rel_path = Path::new(rel);
        // `..` that climbs above the directory the plugin holds.
        let mut depth: i64 = 0;
        let mut escapes = rel_path.is_absolute();
        for c in rel_path.components() {
            match c {
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                _ => {}
            }
            if depth < 0 {
                escapes = true;
            }
        }
        let asked = lexical(
            &node
                .path
                .join(rel_path.strip_prefix("/").unwrap_or(rel_path)),
        );
        let verdict = if escapes {
            Verdict::deny(format!(
                "`{rel}` leaves the directory it is relative to ({})",
                node.path.display()
            ))
        } else if node.decoy {
            Verdict::deny("outside every granted path")
        } else {
            let resolved = resolve(&asked, follow);
            let lexical_verdict = self.policy.check_path(&asked, write);
            if !lexical_verdict.allowed {
                lexical_verdict
            } else if resolved != asked {
                let v = self.policy.check_path(&resolved, write);
                if v.allowed {
                    v
                } else {
                    Verdict::deny(format!(
                        "a symlink resolves it to {}: {}",
                        resolved.display(),
                        v.rule
                    ))
                }
            } else {
                lexical_verdict
            }
        };
        Ok((asked, verdict))
    }

    /// Checks one path operation against the policy and audits it.
    /// Checks one path operation against the policy and audits it. A refused
    /// operation never reaches WASI (where host calls are counted), so it is
    /// counted here.
    fn check_path(
        &mut self,
        base: u32,
        rel: &str,
        write: bool,
        operation: &str,
        follow: bool,
    ) -> Result<Checked, ErrorCode> {
        let checked = self.check_path_uncounted(base, rel, write, operation, follow);
        if checked.is_err() {
            self.count_host_call("wasi");
        }
        checked
    }

    fn check_path_uncounted(
        &mut self,
        base: u32,
        rel: &str,
        write: bool,
        operation: &str,
        follow: bool,
    ) -> Result<Checked, ErrorCode> {
        let capability = if write {
            CapabilityKind::FileWrite
        } else {
            CapabilityKind::FileRead
        };
        let (asked, verdict) = self.evaluate_path(base, rel, write, follow)?;
        self.audit.record(
            capability,
            operation,
            asked.to_string_lossy().into_owned(),
            &verdict,
        );
        if verdict.allowed {
            Ok(Checked { asked })
        } else {
            Err(ErrorCode::Access)
        }
    }

    fn track(&mut self, rep: u32, path: PathBuf) {
        self.fs.descriptors.insert(rep, Node { path, decoy: false });
    }
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

/// Replaces the path-taking functions of `wasi:filesystem` with checked,
/// audited versions that call wasmtime-wasi's implementation when allowed.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = add_wrappers(linker);
    linker.allow_shadowing(false);
    result
}

fn add_wrappers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut preopens = linker.instance("wasi:filesystem/preopens@0.2.12")?;
    preopens.func_wrap(
        "get-directories",
        |mut cx: StoreContextMut<'_, HostState>, (): ()| {
            let dirs = cx.data_mut().filesystem().get_directories()?;
            let state = cx.data_mut();
            for (fd, guest) in &dirs {
                if let Some((_, node)) = state.fs.preopens.iter().find(|(g, _)| g == guest) {
                    state.fs.descriptors.insert(fd.rep(), node.clone());
                }
            }
            Ok((dirs,))
        },
    )?;

    let mut types = linker.instance("wasi:filesystem/types@0.2.12")?;
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
                let write = oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE)
                    || flags.intersects(DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY);
                let op = if oflags.contains(OpenFlags::CREATE) {
                    "create"
                } else {
                    "open"
                };
                let follow = path_flags.contains(PathFlags::SYMLINK_FOLLOW);
                let checked = match cx.data_mut().check_path(fd.rep(), &path, write, op, follow) {
                    Ok(c) => c,
                    Err(code) => return Ok((Err(code),)),
                };
                let r: Result<Resource<Descriptor>, ErrorCode> = delegate!(cx, |view| {
                    HostDescriptor::open_at(&mut view, fd, path_flags, path, oflags, flags)
                });
                if let Ok(new) = &r {
                    let path = resolve(&checked.asked, true);
                    cx.data_mut().track(new.rep(), path);
                }
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.read-directory",
        |mut cx: StoreContextMut<'_, HostState>, (fd,): (Resource<Descriptor>,)| {
            Box::new(async move {
                let checked = match cx.data_mut().check_path(fd.rep(), ".", false, "list", true) {
                    Ok(c) => c,
                    Err(code) => return Ok((Err(code),)),
                };
                let r: Result<Resource<ReaddirIterator>, ErrorCode> =
                    delegate!(cx, |view| HostDescriptor::read_directory(&mut view, fd));
                if let Ok(stream) = &r {
                    cx.data_mut()
                        .fs
                        .listings
                        .insert(stream.rep(), checked.asked);
                }
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]directory-entry-stream.read-directory-entry",
        |mut cx: StoreContextMut<'_, HostState>, (stream,): (Resource<ReaddirIterator>,)| {
            Box::new(async move {
                let dir = cx.data_mut().fs.listings.get(&stream.rep()).cloned();
                loop {
                    let entry: Result<Option<DirectoryEntry>, ErrorCode> = delegate!(cx, |view| {
                        HostDirectoryEntryStream::read_directory_entry(
                            &mut view,
                            Resource::<ReaddirIterator>::new_borrow(stream.rep()),
                        )
                    });
                    // Entries the plugin may not read are left out, so a
                    // listing does not reveal denied names.
                    if let (Ok(Some(e)), Some(dir)) = (&entry, &dir)
                        && !cx
                            .data_mut()
                            .policy
                            .check_path(&dir.join(&e.name), false)
                            .allowed
                    {
                        continue;
                    }
                    return Ok((entry,));
                }
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.stat-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, path_flags, path): (Resource<Descriptor>, PathFlags, String)| {
            Box::new(async move {
                let follow = path_flags.contains(PathFlags::SYMLINK_FOLLOW);
                if let Err(code) = cx
                    .data_mut()
                    .check_path(fd.rep(), &path, false, "stat", follow)
                {
                    return Ok((Err(code),));
                }
                let r: Result<fs::DescriptorStat, ErrorCode> = delegate!(cx, |view| {
                    HostDescriptor::stat_at(&mut view, fd, path_flags, path)
                });
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.metadata-hash-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, path_flags, path): (Resource<Descriptor>, PathFlags, String)| {
            Box::new(async move {
                let follow = path_flags.contains(PathFlags::SYMLINK_FOLLOW);
                if let Err(code) = cx
                    .data_mut()
                    .check_path(fd.rep(), &path, false, "stat", follow)
                {
                    return Ok((Err(code),));
                }
                let r: Result<fs::MetadataHashValue, ErrorCode> = delegate!(cx, |view| {
                    HostDescriptor::metadata_hash_at(&mut view, fd, path_flags, path)
                });
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.readlink-at",
        |mut cx: StoreContextMut<'_, HostState>, (fd, path): (Resource<Descriptor>, String)| {
            Box::new(async move {
                if let Err(code) =
                    cx.data_mut()
                        .check_path(fd.rep(), &path, false, "readlink", false)
                {
                    return Ok((Err(code),));
                }
                let r: Result<String, ErrorCode> =
                    delegate!(cx, |view| HostDescriptor::readlink_at(&mut view, fd, path));
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.create-directory-at",
        |mut cx: StoreContextMut<'_, HostState>, (fd, path): (Resource<Descriptor>, String)| {
            Box::new(async move {
                if let Err(code) = cx
                    .data_mut()
                    .check_path(fd.rep(), &path, true, "mkdir", false)
                {
                    return Ok((Err(code),));
                }
                let r: Result<(), ErrorCode> =
                    delegate!(cx, |view| HostDescriptor::create_directory_at(
                        &mut view, fd, path
                    ));
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.remove-directory-at",
        |mut cx: StoreContextMut<'_, HostState>, (fd, path): (Resource<Descriptor>, String)| {
            Box::new(async move {
                if let Err(code) = cx
                    .data_mut()
                    .check_path(fd.rep(), &path, true, "remove", false)
                {
                    return Ok((Err(code),));
                }
                let r: Result<(), ErrorCode> =
                    delegate!(cx, |view| HostDescriptor::remove_directory_at(
                        &mut view, fd, path
                    ));
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.unlink-file-at",
        |mut cx: StoreContextMut<'_, HostState>, (fd, path): (Resource<Descriptor>, String)| {
            Box::new(async move {
                if let Err(code) = cx
                    .data_mut()
                    .check_path(fd.rep(), &path, true, "remove", false)
                {
                    return Ok((Err(code),));
                }
                let r: Result<(), ErrorCode> = delegate!(
                    cx,
                    |view| HostDescriptor::unlink_file_at(&mut view, fd, path)
                );
                Ok((r,))
            })
        },
    )?;

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
                let follow = path_flags.contains(PathFlags::SYMLINK_FOLLOW);
                if let Err(code) =
                    cx.data_mut()
                        .check_path(fd.rep(), &path, true, "set-times", follow)
                {
                    return Ok((Err(code),));
                }
                let r: Result<(), ErrorCode> = delegate!(cx, |view| {
                    HostDescriptor::set_times_at(&mut view, fd, path_flags, path, atime, mtime)
                });
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.rename-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, old, new_fd, new): (Resource<Descriptor>, String, Resource<Descriptor>, String)| {
            Box::new(async move {
                if let Err(code) = check_pair(cx.data_mut(), fd.rep(), &old, new_fd.rep(), &new, "rename", true) {
                    return Ok((Err(code),));
                }
                let r: Result<(), ErrorCode> = delegate!(cx, |view| {
                    HostDescriptor::rename_at(&mut view, fd, old, new_fd, new)
                });
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
                if let Err(code) = check_pair(
                    cx.data_mut(),
                    fd.rep(),
                    &old,
                    new_fd.rep(),
                    &new,
                    "link",
                    false,
                ) {
                    return Ok((Err(code),));
                }
                let r: Result<(), ErrorCode> = delegate!(cx, |view| {
                    HostDescriptor::link_at(&mut view, fd, old_flags, old, new_fd, new)
                });
                Ok((r,))
            })
        },
    )?;

    types.func_wrap_async(
        "[method]descriptor.symlink-at",
        |mut cx: StoreContextMut<'_, HostState>,
         (fd, old, new): (Resource<Descriptor>, String, String)| {
            Box::new(async move {
                if let Err(code) = cx
                    .data_mut()
                    .check_path(fd.rep(), &new, true, "symlink", false)
                {
                    return Ok((Err(code),));
                }
                let r: Result<(), ErrorCode> = delegate!(cx, |view| HostDescriptor::symlink_at(
                    &mut view, fd, old, new
                ));
                Ok((r,))
            })
        },
    )?;
    Ok(())
}

/// Rename and link: both paths are checked; one event names both. A rename
/// needs write on both, a link needs read on the source and write on the
/// new name.
fn check_pair(
    state: &mut HostState,
    fd: u32,
    old: &str,
    new_fd: u32,
    new: &str,
    operation: &str,
    source_write: bool,
) -> Result<(), ErrorCode> {
    let (old_path, first) = state.evaluate_path(fd, old, source_write, false)?;
    let (new_path, second) = state.evaluate_path(new_fd, new, true, false)?;
    let target = format!("{} -> {}", old_path.display(), new_path.display());
    let verdict = if !first.allowed {
        first
    } else if !second.allowed {
        second
    } else {
        Verdict::allow(format!("{}; {}", first.rule, second.rule))
    };
    let allowed = verdict.allowed;
    state
        .audit
        .record(CapabilityKind::FileWrite, operation, target, &verdict);
    if allowed {
        Ok(())
    } else {
        Err(ErrorCode::Access)
    }
}
