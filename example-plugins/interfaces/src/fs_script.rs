//! `FsScript`: a plugin interface that runs a script of raw
//! `wasi:filesystem/types` calls, for the attack tests of the filesystem
//! guard. Every function of the interface can be called exactly as a hostile
//! plugin would, with any flags; every call reports one [`FsOutcome`].
//!
//! The plugin keeps a table of descriptors for the length of one
//! [`run`](FsScript::run): each [`FsOp::Preopen`] and each `open-at`
//! ([`AtCall::OpenAt`]) fills the next *slot* (numbered from 0), with the new
//! descriptor, reported as [`FsOutcome::Slot`], or left empty when the call
//! failed, so slot numbers never depend on which calls succeeded. The other
//! operations name the slots they act on.
//!
//! ```
//! use example_interfaces::{AtCall, FdCall, FsOp, OpenOptions};
//!
//! let script = vec![
//!     FsOp::Preopen("/srv/data".into()),                 // slot 0
//!     FsOp::open(0, "notes/today.txt", OpenOptions::read()), // slot 1
//!     FsOp::fd(1, FdCall::Read(4096, 0)),
//!     FsOp::at(0, AtCall::UnlinkFileAt("notes/old.txt".into())),
//! ];
//! # drop(script);
//! ```

use wasm_sandbox_guest::{PluginType, sandbox_plugin};

/// The flags of `open-at`, one boolean each: `path-flags`, `open-flags` and
/// `descriptor-flags`.
#[derive(PluginType, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// `path-flags::symlink-follow`: follow a symlink in the final component.
    pub symlink_follow: bool,
    /// `open-flags::create`.
    pub create: bool,
    /// `open-flags::directory`.
    pub directory: bool,
    /// `open-flags::exclusive`.
    pub exclusive: bool,
    /// `open-flags::truncate`.
    pub truncate: bool,
    /// `descriptor-flags::read`.
    pub read: bool,
    /// `descriptor-flags::write`.
    pub write: bool,
    /// `descriptor-flags::file-integrity-sync`.
    pub file_integrity_sync: bool,
    /// `descriptor-flags::data-integrity-sync`.
    pub data_integrity_sync: bool,
    /// `descriptor-flags::requested-write-sync`.
    pub requested_write_sync: bool,
    /// `descriptor-flags::mutate-directory`.
    pub mutate_directory: bool,
}

impl OpenOptions {
    /// Read only, following a final symlink.
    pub fn read() -> Self {
        OpenOptions {
            symlink_follow: true,
            read: true,
            ..OpenOptions::default()
        }
    }

    /// A directory, read only, following a final symlink.
    pub fn dir() -> Self {
        OpenOptions {
            directory: true,
            ..OpenOptions::read()
        }
    }

    /// A directory whose contents may be changed (`mutate-directory`).
    pub fn dir_mut() -> Self {
        OpenOptions {
            mutate_directory: true,
            ..OpenOptions::dir()
        }
    }

    /// Read and write, following a final symlink.
    pub fn read_write() -> Self {
        OpenOptions {
            write: true,
            ..OpenOptions::read()
        }
    }

    /// Write, creating the file if it does not exist and truncating it.
    pub fn create() -> Self {
        OpenOptions {
            create: true,
            truncate: true,
            ..OpenOptions::read_write()
        }
    }
}

/// A `new-timestamp`.
#[derive(PluginType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsTime {
    /// `no-change`.
    NoChange,
    /// `now`.
    Now,
    /// `timestamp`: seconds and nanoseconds since the Unix epoch.
    At(u64, u32),
}

/// An `advice` for `advise`.
#[derive(PluginType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsAdvice {
    /// `normal`.
    Normal,
    /// `sequential`.
    Sequential,
    /// `random`.
    Random,
    /// `will-need`.
    WillNeed,
    /// `dont-need`.
    DontNeed,
    /// `no-reuse`.
    NoReuse,
}

/// One step of a script: a call of `wasi:filesystem/types` (or
/// `preopens`). `slot` names a descriptor made earlier in the same script.
///
/// (The calls are split in two variants, [`FdCall`] and [`AtCall`], because
/// a WIT variant made by `#[derive(PluginType)]` has at most 16 cases.)
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub enum FsOp {
    /// Puts the preopen whose guest path is exactly this in a new slot
    /// (`wasi:filesystem/preopens.get-directories`).
    Preopen(String),
    /// Drops the descriptor in a slot (the slot stays empty).
    Close(u32),
    /// A method of the descriptor in `slot` that takes no path.
    Fd {
        /// The descriptor.
        slot: u32,
        /// The method.
        call: FdCall,
    },
    /// A method of the descriptor in `slot` that takes a path relative to it.
    At {
        /// The directory the paths are relative to.
        slot: u32,
        /// The method.
        call: AtCall,
    },
}

impl FsOp {
    /// A descriptor-level call on `slot`.
    pub fn fd(slot: u32, call: FdCall) -> FsOp {
        FsOp::Fd { slot, call }
    }

    /// A path call relative to `slot`.
    pub fn at(slot: u32, call: AtCall) -> FsOp {
        FsOp::At { slot, call }
    }

    /// `open-at(slot, path, options)`.
    pub fn open(slot: u32, path: impl Into<String>, options: OpenOptions) -> FsOp {
        FsOp::at(
            slot,
            AtCall::OpenAt {
                path: path.into(),
                options,
            },
        )
    }
}

/// A descriptor method that takes no path.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub enum FdCall {
    /// `read-via-stream` from this offset, read to the end (at most 64 KiB).
    ReadViaStream(u64),
    /// `write-via-stream` at an offset, writing the text and flushing.
    WriteViaStream(u64, String),
    /// `append-via-stream`, writing the text and flushing.
    AppendViaStream(String),
    /// `advise(offset, length, advice)`.
    Advise(u64, u64, FsAdvice),
    /// `sync-data`.
    SyncData,
    /// `get-flags`.
    GetFlags,
    /// `get-type`.
    GetType,
    /// `set-size`.
    SetSize(u64),
    /// `set-times(atime, mtime)`.
    SetTimes(FsTime, FsTime),
    /// `read(length, offset)`, the length capped at 64 KiB.
    Read(u64, u64),
    /// `write(text, offset)`.
    Write(String, u64),
    /// `read-directory`, then `read-directory-entry` until the end (at most
    /// 10 000 entries).
    ReadDirectory,
    /// `sync`.
    Sync,
    /// `stat`.
    Stat,
    /// `is-same-object` with the descriptor in this slot.
    IsSameObject(u32),
    /// `metadata-hash`.
    MetadataHash,
}

/// A descriptor method that takes a path relative to the descriptor.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub enum AtCall {
    /// `create-directory-at`.
    CreateDirectoryAt(String),
    /// `stat-at`.
    StatAt {
        /// `path-flags::symlink-follow`.
        follow: bool,
        /// The path.
        path: String,
    },
    /// `set-times-at`.
    SetTimesAt {
        /// `path-flags::symlink-follow`.
        follow: bool,
        /// The path.
        path: String,
        /// The new access time.
        atime: FsTime,
        /// The new modification time.
        mtime: FsTime,
    },
    /// `link-at`: a new name `new-path` (relative to `new-slot`) for
    /// `old-path`.
    LinkAt {
        /// `path-flags::symlink-follow` for `old-path`.
        follow: bool,
        /// The existing name.
        old_path: String,
        /// The directory `new-path` is relative to.
        new_slot: u32,
        /// The new name.
        new_path: String,
    },
    /// `open-at`; the new descriptor goes in a new slot.
    OpenAt {
        /// The path.
        path: String,
        /// Every flag.
        options: OpenOptions,
    },
    /// `readlink-at`.
    ReadlinkAt(String),
    /// `remove-directory-at`.
    RemoveDirectoryAt(String),
    /// `rename-at`.
    RenameAt {
        /// The existing name.
        old_path: String,
        /// The directory `new-path` is relative to.
        new_slot: u32,
        /// The new name.
        new_path: String,
    },
    /// `symlink-at`: a symlink at `path` whose text is `target`.
    SymlinkAt {
        /// What the link points to (its text, not checked by the plugin).
        target: String,
        /// Where the link is made.
        path: String,
    },
    /// `unlink-file-at`.
    UnlinkFileAt(String),
    /// `metadata-hash-at`.
    MetadataHashAt {
        /// `path-flags::symlink-follow`.
        follow: bool,
        /// The path.
        path: String,
    },
}

/// What `stat` and `stat-at` returned.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub struct FsStat {
    /// The `descriptor-type` in kebab case (`regular-file`, `directory`,
    /// `symbolic-link`, ..).
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
    /// Number of hard links.
    pub link_count: u64,
    /// Modification time in nanoseconds since the Unix epoch, if known.
    pub modified_ns: Option<u64>,
}

/// The outcome of one [`FsOp`]. The plugin never traps on a WASI error: it
/// reports it as [`FsOutcome::Failed`].
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub enum FsOutcome {
    /// The call succeeded and returns nothing of interest.
    Done,
    /// The call failed with this `error-code`, in kebab case (`access`,
    /// `no-entry`, `not-permitted`, `bad-descriptor`, ..). Stream errors that
    /// carry no filesystem error code are `stream-closed` or
    /// `stream-error: <debug text>`; an operation on a slot that holds no
    /// descriptor is `no-such-slot`.
    Failed(String),
    /// A new descriptor is in this slot.
    Slot(u32),
    /// Bytes read (lossy UTF-8).
    Data(String),
    /// How many bytes were written.
    Written(u64),
    /// The names of a directory's entries, in the order they came.
    Entries(Vec<String>),
    /// A stat.
    Stat(FsStat),
    /// The text of a symlink.
    Link(String),
    /// The flags of `get-flags`, in kebab case.
    DescriptorFlags(Vec<String>),
    /// The `descriptor-type` of `get-type`, in kebab case.
    Kind(String),
    /// The answer of `is-same-object`.
    Same(bool),
    /// A metadata hash (lower, upper).
    Hash(u64, u64),
}

impl FsOutcome {
    /// The error code if the operation failed.
    pub fn error(&self) -> Option<&str> {
        match self {
            FsOutcome::Failed(code) => Some(code),
            _ => None,
        }
    }

    /// Whether the operation failed with `access`.
    pub fn is_access_denied(&self) -> bool {
        self.error() == Some("access")
    }
}

/// Runs scripts of raw filesystem calls.
#[sandbox_plugin]
pub trait FsScript {
    /// Runs every operation in order and returns one outcome per operation.
    fn run(&self, ops: Vec<FsOp>) -> Vec<FsOutcome>;
}
