//! Path resolution the way the kernel does it, one component at a time, on
//! real directory handles.
//!
//! A plugin's path is never cleaned as text. [`walk`] starts from the
//! directory a descriptor holds and, for each component, asks the kernel
//! what the name is (`fstatat` without following), follows a symlink by
//! reading it and splicing its target in front of the rest of the path,
//! descends into a directory by opening it (`O_PATH`, `O_NOFOLLOW`), and
//! takes `..` to the directory it really came from. What comes out is the
//! directory that holds the final name, as an open handle, with the real
//! path and the (device, inode) identity of every directory on the way:
//! the guard decides on that, and then performs the operation relative to
//! that same handle, so the checked object is the one the operation
//! reaches.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::policy::FileId;

/// How many symlinks one path may go through (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// The longest path a plugin may pass, in bytes (Linux's `PATH_MAX`).
pub(crate) const MAX_PATH: usize = 4096;

/// A directory the walk is in: an open handle, its real path, and the
/// identities of every directory from `/` down to it (itself last).
#[derive(Clone, Debug)]
pub(crate) struct Dir {
    pub(crate) fd: Arc<OwnedFdOrFile>,
    pub(crate) path: PathBuf,
    pub(crate) chain: Arc<[FileId]>,
}

/// A directory handle: one the walk opened (`O_PATH`), or the file
/// wasmtime-wasi holds for a descriptor.
#[derive(Debug)]
pub(crate) enum OwnedFdOrFile {
    Owned(OwnedFd),
    File(Arc<std::fs::File>),
}

impl AsFd for OwnedFdOrFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            OwnedFdOrFile::Owned(fd) => fd.as_fd(),
            OwnedFdOrFile::File(f) => f.as_fd(),
        }
    }
}

/// What a path named: the directory that holds it and the name in that
/// directory (`.` when the path names the directory itself), with what is
/// there now (`None`: nothing yet).
#[derive(Debug)]
pub(crate) struct Reached {
    pub(crate) parent: Dir,
    pub(crate) name: OsString,
    pub(crate) stat: Option<rustix::fs::Stat>,
}

impl Reached {
    /// The real path of the object.
    pub(crate) fn path(&self) -> PathBuf {
        if self.name == "." {
            self.parent.path.clone()
        } else {
            self.parent.path.join(&self.name)
        }
    }

    /// The object's identity, if it exists.
    pub(crate) fn id(&self) -> Option<FileId> {
        self.stat.as_ref().map(FileId::of)
    }
}

/// Why a walk stopped before reaching an object.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The path leaves the directory it is relative to (`..` above it, an
    /// absolute path, a symlink to an absolute path). `toward` is the real
    /// path the walk reached, continued lexically with the rest.
    Escape { toward: PathBuf, why: String },
    /// The walk would enter `dir`, which `enter` refused; `toward` is where
    /// the path was headed (`dir` and the rest, lexically).
    Refused {
        dir: PathBuf,
        toward: PathBuf,
        rule: String,
    },
    /// An operating-system error (no such directory, not a directory, too
    /// many symlinks, ...); `at` is the real path where it happened.
    Os { errno: Errno, at: PathBuf },
}

/// How to treat the final component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Last {
    /// Follow it if it is a symlink (`symlink-follow`).
    Follow,
    /// Keep it as is: the operation applies to a symlink itself.
    NoFollow,
}

/// Resolves `path` from `base` as the kernel would. `enter` is asked
/// before the walk goes into each directory (with its real path and
/// identity) and may refuse it.
pub(crate) fn walk(
    base: &Dir,
    path: &str,
    last: Last,
    enter: &dyn Fn(&Path, FileId) -> Result<(), String>,
) -> Result<Reached, Stop> {
    if path.is_empty() {
        return Err(Stop::Os {
            errno: Errno::NOENT,
            at: base.path.clone(),
        });
    }
    if path.len() > MAX_PATH {
        return Err(Stop::Os {
            errno: Errno::NAMETOOLONG,
            at: base.path.clone(),
        });
    }
    if path.starts_with('/') {
        return Err(Stop::Escape {
            toward: lexical_join(&base.path, path),
            why: "it is an absolute path".to_string(),
        });
    }
    let mut stack: Vec<Dir> = vec![base.clone()];
    let mut pending: VecDeque<OsString> = components(path.as_bytes());
    // A trailing `/` (or `/.`) means the final object must be a directory,
    // and a symlink there is followed.
    let mut must_be_dir = path.ends_with('/');
    let mut links = 0usize;
    loop {
        let Some(name) = pending.pop_front() else {
            // The path ended on `.` or `..`: it names the directory itself.
            let top = stack.last().expect("the stack keeps the base").clone();
            let stat = rustix::fs::fstat(top.fd.as_fd()).map_err(|errno| Stop::Os {
                errno,
                at: top.path.clone(),
            })?;
            return Ok(Reached {
                parent: top,
                name: OsString::from("."),
                stat: Some(stat),
            });
        };
        let top = stack.last().expect("the stack keeps the base");
        if name == "." {
            if pending.is_empty() {
                must_be_dir = true;
            }
            continue;
        }
        if name == ".." {
            if stack.len() == 1 {
                let mut toward = top.path.clone();
                toward.pop();
                return Err(Stop::Escape {
                    toward: rest_lexically(toward, &pending),
                    why: "`..` climbs above it".to_string(),
                });
            }
            stack.pop();
            continue;
        }
        let is_last = pending.is_empty();
        let here = top.path.join(&name);
        let stat =
            match rustix::fs::statat(top.fd.as_fd(), name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => Some(stat),
                Err(Errno::NOENT) if is_last => None,
                Err(errno) => {
                    return Err(Stop::Os {
                        errno,
                        at: rest_lexically(here, &pending),
                    });
                }
            };
        let kind = stat.as_ref().map(|s| FileType::from_raw_mode(s.st_mode));
        let follow_here = !is_last || last == Last::Follow || must_be_dir;
        if kind == Some(FileType::Symlink) && follow_here {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Stop::Os {
                    errno: Errno::LOOP,
                    at: here,
                });
            }
            let target = rustix::fs::readlinkat(top.fd.as_fd(), name.as_os_str(), Vec::new())
                .map_err(|errno| Stop::Os {
                    errno,
                    at: here.clone(),
                })?;
            let target = target.as_bytes();
            if target.first() == Some(&b'/') {
                let absolute = PathBuf::from(std::ffi::OsStr::from_bytes(target));
                return Err(Stop::Escape {
                    why: format!(
                        "the symlink {} points to the absolute path {}",
                        here.display(),
                        absolute.display()
                    ),
                    toward: rest_lexically(absolute, &pending),
                });
            }
            if target.last() == Some(&b'/') && is_last {
                must_be_dir = true;
            }
            for c in components(target).into_iter().rev() {
                pending.push_front(c);
            }
            continue;
        }
        if is_last && !(must_be_dir && kind == Some(FileType::Directory)) {
            if must_be_dir && kind.is_some() && kind != Some(FileType::Directory) {
                return Err(Stop::Os {
                    errno: Errno::NOTDIR,
                    at: here,
                });
            }
            return Ok(Reached {
                parent: top.clone(),
                name,
                stat,
            });
        }
        if kind != Some(FileType::Directory) {
            return Err(Stop::Os {
                errno: Errno::NOTDIR,
                at: here,
            });
        }
        // Descend: open the directory itself, and take its identity from
        // the handle (not from the name, which could change meanwhile).
        let fd = rustix::fs::openat(top.fd.as_fd(), name.as_os_str(), dir_flags(), Mode::empty())
            .map_err(|errno| Stop::Os {
            errno,
            at: here.clone(),
        })?;
        let opened = rustix::fs::fstat(&fd).map_err(|errno| Stop::Os {
            errno,
            at: here.clone(),
        })?;
        let id = FileId::of(&opened);
        enter(&here, id).map_err(|rule| Stop::Refused {
            dir: here.clone(),
            toward: rest_lexically(here.clone(), &pending),
            rule,
        })?;
        let mut chain: Vec<FileId> = top.chain.to_vec();
        chain.push(id);
        stack.push(Dir {
            fd: Arc::new(OwnedFdOrFile::Owned(fd)),
            path: here,
            chain: chain.into(),
        });
        if is_last {
            // A final directory named with a trailing `/`: the object is the
            // directory itself.
            let top = stack.last().expect("just pushed").clone();
            return Ok(Reached {
                parent: top,
                name: OsString::from("."),
                stat: Some(opened),
            });
        }
    }
}

/// Flags for the handles the walk opens on directories: enough to resolve
/// names relative to them, nothing more.
fn dir_flags() -> OFlags {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let access = OFlags::PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let access = OFlags::RDONLY;
    access | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// The components of a path, empty ones (from `//`) left out.
fn components(path: &[u8]) -> VecDeque<OsString> {
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| OsString::from_vec(c.to_vec()))
        .collect()
}

/// `base` followed by `rest` as text: only for naming where a refused walk
/// was headed, never for deciding.
fn lexical_join(base: &Path, rest: &str) -> PathBuf {
    rest_lexically(base.to_path_buf(), &components(rest.as_bytes()))
}

fn rest_lexically(mut at: PathBuf, rest: &VecDeque<OsString>) -> PathBuf {
    for c in rest {
        if c == ".." {
            at.pop();
        } else if c != "." {
            at.push(c);
        }
    }
    at
}

/// The identities of `path` and each of its ancestors, from `/` down, for
/// a path the host named (a grant's directory); `None` if one of them
/// cannot be read.
pub(crate) fn chain_of(path: &Path) -> Option<Vec<FileId>> {
    let mut chain = Vec::new();
    let mut prefix = PathBuf::new();
    for c in path.components() {
        prefix.push(c);
        chain.push(FileId::of_path(&prefix)?);
    }
    Some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(path: &Path) -> Dir {
        let fd = rustix::fs::open(path, dir_flags(), Mode::empty()).unwrap();
        Dir {
            fd: Arc::new(OwnedFdOrFile::Owned(fd)),
            path: path.to_path_buf(),
            chain: chain_of(path).unwrap().into(),
        }
    }

    fn any(_: &Path, _: FileId) -> Result<(), String> {
        Ok(())
    }

    fn reach(base: &Dir, path: &str, last: Last) -> Result<PathBuf, Stop> {
        walk(base, path, last, &any).map(|r| r.path())
    }

    #[test]
    fn dotdot_after_a_symlink_goes_where_the_kernel_goes() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("g/pub")).unwrap();
        std::fs::create_dir_all(root.join("g/priv/x")).unwrap();
        std::fs::write(root.join("g/priv/y"), "secret").unwrap();
        std::os::unix::fs::symlink("../priv/x", root.join("g/pub/l")).unwrap();
        std::os::unix::fs::symlink(".", root.join("g/dot")).unwrap();
        let g = base(&root.join("g"));
        // Lexically `pub/l/../y` is `pub/y`; the kernel reaches `priv/y`.
        assert_eq!(
            reach(&g, "pub/l/../y", Last::Follow).unwrap(),
            root.join("g/priv/y")
        );
        // `dot/..` is the parent of `g`: outside the base.
        match reach(&g, "dot/../secret", Last::Follow) {
            Err(Stop::Escape { toward, .. }) => assert_eq!(toward, root.join("secret")),
            other => panic!("{other:?}"),
        }
        // `.`, `..` inside the base, repeated slashes.
        assert_eq!(
            reach(&g, "pub//./../priv/y", Last::NoFollow).unwrap(),
            root.join("g/priv/y")
        );
        assert_eq!(reach(&g, "pub/..", Last::NoFollow).unwrap(), root.join("g"));
    }

    #[test]
    fn loops_absolute_links_and_missing_names_stop_the_walk() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::os::unix::fs::symlink("b", root.join("a")).unwrap();
        std::os::unix::fs::symlink("a", root.join("b")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("abs")).unwrap();
        let b = base(&root);
        assert!(matches!(
            reach(&b, "a/x", Last::Follow),
            Err(Stop::Os {
                errno: Errno::LOOP,
                ..
            })
        ));
        assert!(matches!(
            reach(&b, "abs/passwd", Last::Follow),
            Err(Stop::Escape { .. })
        ));
        // A final symlink that is not followed is the object itself.
        assert_eq!(reach(&b, "abs", Last::NoFollow).unwrap(), root.join("abs"));
        // A missing final name is reached (for create); a missing directory
        // on the way is an error.
        let missing = walk(&b, "new.txt", Last::Follow, &any).unwrap();
        assert!(missing.stat.is_none());
        assert!(matches!(
            reach(&b, "nodir/x", Last::Follow),
            Err(Stop::Os {
                errno: Errno::NOENT,
                ..
            })
        ));
        assert!(matches!(
            reach(&b, "/etc/passwd", Last::Follow),
            Err(Stop::Escape { .. })
        ));
    }

    #[test]
    fn enter_can_refuse_a_directory_on_the_way() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("denied/inner")).unwrap();
        let b = base(&root);
        let denied = root.join("denied");
        let refuse = |p: &Path, _: FileId| {
            if p == denied {
                Err("denied".to_string())
            } else {
                Ok(())
            }
        };
        match walk(&b, "denied/inner/../x", Last::Follow, &refuse) {
            Err(Stop::Refused { dir, toward, .. }) => {
                assert_eq!(dir, denied);
                assert_eq!(toward, root.join("denied/x"));
            }
            other => panic!("{other:?}"),
        }
    }
}
