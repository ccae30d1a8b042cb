//! Tests of the `wasm-sandbox` binary: each runs the real program, as a
//! user would, against the example plugins (built for wasm32-wasip2 by
//! `example-plugins/build.rs`) and small hand-written components in `wat/`.
//!
//! One test binary, one module per command, plus `book`, which produces
//! the output shown in the guide's CLI chapter.

mod book;
mod command;
mod compile;
mod grants;
mod inspect;
mod learn;
mod logs;
mod policy;
mod run;
mod usage;
mod validate;
mod walkthrough;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The compile cache the tests share, so that each plugin is compiled once
/// per test run rather than once per test.
fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-cache")
}

/// The binary, with the shared compile cache.
fn wasm_sandbox() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasm-sandbox"));
    cmd.env("WASM_SANDBOX_CACHE_DIR", shared_cache());
    cmd
}

/// A hand-written component from `tests/cli/wat/`.
fn wat(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/wat")
        .join(name)
}

/// What a run of the binary printed, and its exit status.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Asserts the exit status, showing everything the program said when it
    /// is not the expected one.
    #[track_caller]
    fn expect(self, code: i32) -> Outcome {
        assert_eq!(self.code, Some(code), "{self:#?}");
        self
    }

    /// The stdout, parsed as JSON.
    #[track_caller]
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// Runs `cmd` and collects what it printed.
fn outcome(cmd: &mut Command) -> Outcome {
    let output = cmd.output().expect("the binary runs");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `wasm-sandbox ARGS...` with the shared cache.
fn run_cli<I, S>(args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    outcome(wasm_sandbox().args(args))
}

/// A directory with files for a plugin to read: `data/report.txt` and
/// `data/secrets/key.txt`.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("secrets")).unwrap();
        std::fs::write(data.join("report.txt"), "quarterly numbers\n").unwrap();
        std::fs::write(data.join("secrets/key.txt"), "hunter2\n").unwrap();
        Files { dir }
    }

    /// An absolute path in the directory, as a string.
    fn path(&self, relative: &str) -> String {
        self.dir.path().join(relative).display().to_string()
    }

    /// The directory, with symlinks resolved, as the audit log names paths.
    fn canonical(&self, relative: &str) -> String {
        std::fs::canonicalize(self.dir.path())
            .unwrap()
            .join(relative)
            .display()
            .to_string()
    }
}
