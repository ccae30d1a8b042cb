//! The `resolver` example plugin: implements `example_interfaces::Resolver`
//! by calling the host's `Directory`, whose functions the host runs as
//! futures. In the plugin they are plain calls: the plugin waits for the
//! answer like for any import.

// ANCHOR: plugin
use example_interfaces::{Directory, DirectoryHost, Resolver};

#[derive(Default)]
struct ByDirectory;

impl Resolver for ByDirectory {
    fn resolve(&self, name: String) -> String {
        DirectoryHost.note(&name);
        match DirectoryHost.lookup(name.clone()) {
            Some(address) => format!("{name}={address}"),
            None => format!("{name} unknown"),
        }
    }

    fn resolve_all(&self, names: Vec<String>) -> Vec<String> {
        names.into_iter().map(|name| self.resolve(name)).collect()
    }

    fn answered(&self) -> u32 {
        DirectoryHost.answered()
    }
}

wasm_sandbox_guest::export!(ByDirectory: example_interfaces::Resolver);
// ANCHOR_END: plugin
