//! Plugin interfaces shared by the example host programs and the example
//! plugins: the *interface crate* of the guide.
//!
//! Built for the host it provides typed proxies (`GreeterPlugin`,
//! `TextFilterPlugin`, ...); built for `wasm32-wasip2` it provides the export
//! glue plugins use with `wasm_sandbox_guest::export!`. The WIT of each trait
//! is checked into `wit/example-interfaces/` by a test.

// ANCHOR: greeter
use wasm_sandbox_guest::{host_interface, sandbox_plugin};

/// The smallest useful plugin: one string in, one string out.
#[sandbox_plugin]
pub trait Greeter {
    /// Returns a greeting for `name`.
    fn greet(&self, name: String) -> String;
}
// ANCHOR_END: greeter

pub mod text;
pub use text::*;

pub mod probe;
pub use probe::*;

pub mod calculator;
pub use calculator::*;

pub mod intruder;
pub use intruder::*;

pub mod directory;
pub use directory::*;

pub mod painter;
pub use painter::*;

pub mod versions;
pub use versions::*;

pub mod tally;
pub use tally::*;

pub mod adder;
pub use adder::*;

pub mod workspace;
pub use workspace::*;

// ANCHOR: key_value
/// A key-value store the host offers plugins.
#[host_interface]
pub trait KeyValue {
    /// The value stored under `key`.
    fn get(&self, key: String) -> Option<String>;
    /// Stores `value` under `key`.
    fn set(&self, key: String, value: String);
    /// The keys that start with `prefix`, sorted.
    fn keys(&self, prefix: &str) -> Vec<String>;
}
// ANCHOR_END: key_value

pub mod hog;
pub use hog::*;

pub mod bench;
pub use bench::*;

pub mod files;
pub use files::*;

pub mod fetch;
pub use fetch::*;

pub mod fs_script;
pub use fs_script::*;
