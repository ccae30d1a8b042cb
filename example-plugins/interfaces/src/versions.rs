//! Two versions of the greeter interface, and the host's enum that serves
//! both: `Greeter` is `example-interfaces:greeter@0.1.0`, `GreeterNext` is
//! `@0.2.0`.

use wasm_sandbox_guest::sandbox_plugin;

// ANCHOR: greeter_next
/// Version 0.2.0 of the greeter: `greet` as in 0.1.0, and `greet-all`.
/// Its own package version makes its exports
/// `example-interfaces:greeter/plugin@0.2.0#..`, distinct from 0.1.0's.
#[sandbox_plugin(package = "example-interfaces:greeter@0.2.0", world = "greeter")]
pub trait GreeterNext {
    /// Returns a greeting for `name`.
    fn greet(&self, name: String) -> String;
    /// Greets each name, in order (new in 0.2.0).
    fn greet_all(&self, names: Vec<String>) -> Vec<String>;
}
// ANCHOR_END: greeter_next

#[cfg(not(target_family = "wasm"))]
use crate::GreeterPlugin;

// ANCHOR: any_greeter
#[cfg(not(target_family = "wasm"))]
wasm_sandbox::plugin_versions! {
    /// A greeter built against any version this host serves, newest first.
    pub enum AnyGreeter {
        /// `example-interfaces:greeter@0.2.0`
        V0_2(GreeterNextPlugin),
        /// `example-interfaces:greeter@0.1.0`
        V0_1(GreeterPlugin),
    }
}
// ANCHOR_END: any_greeter
