//! What the filesystem guard remembers per instance: the preopens, and the
//! real object behind each descriptor the plugin holds.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};

use crate::policy::FileId;

/// What a descriptor stands for on the host.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// The real host path of the object (`/` for the decoy).
    pub(crate) path: PathBuf,
    /// The identities of the directories from `/` down to the object, the
    /// object itself last.
    pub(crate) chain: Arc<[FileId]>,
    pub(crate) is_dir: bool,
    /// The empty directory behind the plugin's `/`.
    pub(crate) decoy: bool,
}

impl Node {
    /// The directories that contain the object.
    pub(crate) fn containers(&self) -> &[FileId] {
        &self.chain[..self.chain.len().saturating_sub(1)]
    }

    pub(crate) fn id(&self) -> Option<FileId> {
        self.chain.last().copied()
    }
}

/// A descriptor the plugin holds, and the handle it was made with (a weak
/// reference, so a descriptor number reused for another file is never
/// taken for this one).
#[derive(Debug)]
pub(crate) struct Tracked {
    pub(crate) node: Node,
    pub(crate) handle: Weak<std::fs::File>,
}

/// Per-instance filesystem state: preopens and what each open descriptor is.
#[derive(Debug, Default)]
pub(crate) struct FsState {
    /// Guest path of each preopen -> host node.
    pub(crate) preopens: Vec<(String, Node)>,
    pub(crate) descriptors: HashMap<u32, Tracked>,
    /// Directory listings in progress -> the directory.
    pub(crate) listings: HashMap<u32, (Node, Arc<std::fs::File>)>,
    /// Size of `descriptors` after the last sweep of closed ones.
    pub(crate) swept_at: usize,
}
