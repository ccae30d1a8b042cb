//! A host interface with `async fn`s, and a plugin that uses it: the host
//! answers from I/O (a database, a service), so its methods are futures the
//! plugin waits for without holding a thread of the host.

use wasm_sandbox_guest::{host_interface, sandbox_plugin};

// ANCHOR: directory
/// A directory the host looks names up in. Its answers come from somewhere
/// slow, so the host implements them as `async fn`: while one waits, the
/// host's runtime goes on with other work, other plugin calls included.
#[host_interface]
pub trait Directory {
    /// The address registered for `name`, if any.
    async fn lookup(&self, name: String) -> Option<String>;
    /// Records that `name` was asked for.
    async fn note(&self, name: &str);
    /// How many lookups the host has answered. A plain `fn` answers at once.
    fn answered(&self) -> u32;
}
// ANCHOR_END: directory

/// A plugin that resolves names through the host's [`Directory`].
#[sandbox_plugin(imports(Directory))]
pub trait Resolver {
    /// `name=address`, or `name unknown`, from the host's directory.
    fn resolve(&self, name: String) -> String;
    /// Resolves each name in turn (one host call after another).
    fn resolve_all(&self, names: Vec<String>) -> Vec<String>;
    /// The host's count of answered lookups.
    fn answered(&self) -> u32;
}
