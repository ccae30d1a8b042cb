//! The network state of one instance, shared between its store and its
//! socket address check.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use crate::audit::AuditSink;
use crate::policy::Compiled;

/// Network state shared between an instance's store and its socket check.
#[derive(Debug)]
pub(crate) struct NetState {
    pub(super) policy: Arc<Compiled>,
    pub(super) audit: Arc<AuditSink>,
    /// Addresses returned by allowed lookups, and the names they came from.
    pub(super) resolved: Mutex<HashMap<IpAddr, BTreeSet<String>>>,
    /// Lookups in progress: stream -> name.
    pub(super) lookups: Mutex<HashMap<u32, String>>,
    /// How many times the check ran for an operation of the plugin (replies
    /// received in the background are not counted): a shadowed function
    /// that sees this unchanged knows wasmtime-wasi refused on its own.
    pub(super) checks: AtomicU64,
    /// Refusals the check audited, waiting for a shadowed function to pass
    /// them to `HostState::refused` (the check runs outside the store).
    pub(super) pending: Mutex<Vec<(String, String)>>,
}
