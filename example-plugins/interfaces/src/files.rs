//! `FileReader`: the smallest plugin that touches the file system, written
//! in every supported language to show that policies and audit apply to all
//! of them alike.

use wasm_sandbox_guest::sandbox_plugin;

/// Reads files through WASI, under the host's policy.
#[sandbox_plugin]
pub trait FileReader {
    /// Reads the file at `path` (an absolute path) as UTF-8 text, or says
    /// why it could not.
    fn read_file(&self, path: String) -> Result<String, String>;
}
