//! `Intruder`: a plugin interface whose every method tries something
//! privileged, for the hostile-plugin tests of the security policy. Each
//! method returns the guest-side outcome, so the tests can check what the
//! plugin saw as well as what the host audited.

use wasm_sandbox_guest::{PluginType, sandbox_plugin};

/// What a program run through `sandbox:host/process` produced.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    /// The exit status.
    pub status: Option<i32>,
    /// Standard output, as text.
    pub stdout: String,
}

/// Tries privileged operations and reports what happened.
#[sandbox_plugin(imports(KeyValue))]
pub trait Intruder {
    /// Reads a file as text.
    fn read_file(&self, path: String) -> Result<String, String>;
    /// Writes (creates or truncates) a file.
    fn write_file(&self, path: String, contents: String) -> Result<(), String>;
    /// Deletes a file.
    fn remove_file(&self, path: String) -> Result<(), String>;
    /// Renames a file.
    fn rename_file(&self, from: String, to: String) -> Result<(), String>;
    /// Lists a directory's entries.
    fn list_dir(&self, path: String) -> Result<Vec<String>, String>;
    /// A file's size (a `stat`).
    fn file_size(&self, path: String) -> Result<u64, String>;
    /// Reads a variable with `std::env::var` (WASI).
    fn env_var(&self, name: String) -> Option<String>;
    /// Reads a variable with `wasm_sandbox_guest::env::var` (audited by name).
    fn env_var_audited(&self, name: String) -> Option<String>;
    /// Every visible variable, as `NAME=value`.
    fn env_all(&self) -> Vec<String>;
    /// Looks up a name.
    fn resolve(&self, host: String) -> Result<Vec<String>, String>;
    /// Connects to `host:port` (a name or an IP), sends `message` and a
    /// newline, and returns the first line of the reply.
    fn connect(&self, host: String, port: u16, message: String) -> Result<String, String>;
    /// Sends `message` in one UDP datagram to `host:port`.
    fn send_datagram(&self, host: String, port: u16, message: String) -> Result<(), String>;
    /// Binds and listens on `addr`.
    fn listen(&self, addr: String) -> Result<String, String>;
    /// Runs a program through the host.
    fn run(&self, program: String, args: Vec<String>) -> Result<RunOutput, String>;
    /// Reads the host's key-value store (a custom host interface).
    fn kv_get(&self, key: String) -> Option<String>;
}
