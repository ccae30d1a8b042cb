//! Command components: programs with a `main`, which export `wasi:cli/run`
//! (what `cargo build --target wasm32-wasip2` makes from a binary crate).
//!
//! A command run gets an instance of its own, made for that run: its
//! arguments, the environment the policy grants, the stdin bytes the caller
//! gave, and a stdout and stderr that are captured (up to the output
//! limits) or forwarded to the caller's writers. `exit(n)` ends the run
//! with status `n`; a trap or a limit ends it with the error. The instance
//! is dropped afterwards: a program runs once, from the start.

use std::sync::Arc;

use wasmtime::component::Val;

use crate::audit::CapabilityKind;
use crate::error::{Error, Result};
use crate::guard::stdio::{CommandStream, GuestStderr, Sink};
use crate::plugin::Plugin;
use crate::plugin::exports::ExportFunction;
use crate::plugin::instance::{CommandIo, Live};

/// The interface a command exports, without its version.
const RUN_INTERFACE: &str = "wasi:cli/run@0.2";

/// Whether `export` is the `run` function of `wasi:cli/run@0.2.x`.
pub(crate) fn is_run(export: &ExportFunction) -> bool {
    export.function() == "run"
        && export
            .interface()
            .is_some_and(|i| i.starts_with(RUN_INTERFACE))
}

/// How a command run ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum CommandStatus {
    /// The program returned from `main` (status 0) or called `exit` with
    /// this status. WASI 0.2's `exit` carries only success or failure, so
    /// `std::process::exit(3)` arrives as 1; a program that imports
    /// `exit-with-code` gives its exact code.
    Exited(i32),
    /// The program trapped (a Rust panic, for instance) or hit a limit. The
    /// error's message has the program's last stderr lines.
    Failed(Error),
}

impl CommandStatus {
    /// Whether the program exited with status 0.
    pub fn success(&self) -> bool {
        matches!(self, CommandStatus::Exited(0))
    }

    /// The exit status, if the program exited (not when it failed).
    pub fn code(&self) -> Option<i32> {
        match self {
            CommandStatus::Exited(code) => Some(*code),
            CommandStatus::Failed(_) => None,
        }
    }
}

/// What a command run produced: its status and its captured output.
#[derive(Debug)]
#[non_exhaustive]
pub struct CommandOutput {
    /// How the program ended.
    pub status: CommandStatus,
    /// What it wrote to stdout, up to
    /// [`max_output`](crate::SandboxBuilder::max_output) bytes (empty when
    /// stdout was forwarded with [`CommandRun::stdout_to`]).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr, up to
    /// [`log_output`](crate::SandboxBuilder::log_output_limit) bytes (empty when
    /// stderr was forwarded with [`CommandRun::stderr_to`]).
    pub stderr: Vec<u8>,
    /// Whether stdout went past its limit (the rest was dropped).
    pub stdout_truncated: bool,
    /// Whether stderr went past its limit (the rest was dropped).
    pub stderr_truncated: bool,
}

impl CommandOutput {
    /// The captured stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The captured stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// One run of a command component, being set up: see
/// [`Plugin::command`].
#[must_use = "a command does nothing until `run` is awaited"]
pub struct CommandRun<'p> {
    plugin: &'p Plugin,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    stdout: Option<Box<dyn std::io::Write + Send>>,
    stderr: Option<Box<dyn std::io::Write + Send>>,
}

impl std::fmt::Debug for CommandRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandRun")
            .field("plugin", &self.plugin.name())
            .field("args", &self.args)
            .field("stdin_bytes", &self.stdin.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl<'p> CommandRun<'p> {
    pub(crate) fn new(plugin: &'p Plugin) -> Self {
        CommandRun {
            plugin,
            args: Vec::new(),
            stdin: Some(Vec::new()),
            stdout: None,
            stderr: None,
        }
    }

    /// Adds one argument. The program's name (the plugin's name) comes
    /// first in its `argv`, as for a native program.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// What the program reads from stdin (by default nothing: stdin is at
    /// its end at once).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Lets the program read this process's own stdin, as it reads (a
    /// program that never reads it leaves it untouched). For a command-line
    /// host such as `wasm-sandbox run`; an application serving requests
    /// gives each run its bytes with [`stdin`](Self::stdin) instead.
    pub fn inherit_stdin(mut self) -> Self {
        self.stdin = None;
        self
    }

    /// Writes the program's stdout to `writer` as it is written, instead of
    /// capturing it. The CLI forwards to the terminal this way.
    pub fn stdout_to(mut self, writer: impl std::io::Write + Send + 'static) -> Self {
        self.stdout = Some(Box::new(writer));
        self
    }

    /// Writes the program's stderr to `writer` as it is written, instead of
    /// capturing it.
    pub fn stderr_to(mut self, writer: impl std::io::Write + Send + 'static) -> Self {
        self.stderr = Some(Box::new(writer));
        self
    }

    /// Runs the program to its end on a fresh instance.
    ///
    /// # Errors
    ///
    /// Only when the program could not start: [`Error::NotACommand`] when
    /// the plugin exports no `wasi:cli/run`, or the errors of making an
    /// instance. How the program itself ended, failures included, is the
    /// output's [`status`](CommandOutput::status).
    pub async fn run(self) -> Result<CommandOutput> {
        let plugin = self.plugin;
        let exports = plugin.exports();
        let position = exports
            .list()
            .iter()
            .find(|export| is_run(export))
            .map(ExportFunction::position)
            .ok_or_else(|| Error::NotACommand {
                plugin: plugin.name().to_string(),
            })?;
        let setup = &plugin.setup;
        let limits = &setup.limits;
        let name: Arc<str> = setup.plugin.clone();
        let lines = GuestStderr::quiet(name.clone(), usize::MAX);
        let stream = |writer: Option<Box<dyn std::io::Write + Send>>, limit: usize| match writer {
            Some(writer) => Sink::Forward(writer),
            None => Sink::Capture {
                bytes: Vec::new(),
                limit,
                truncated: false,
            },
        };
        let stdout = CommandStream::new(stream(self.stdout, limits.max_output), None);
        let stderr =
            CommandStream::new(stream(self.stderr, limits.log_output), Some(lines.clone()));
        let mut args = Vec::with_capacity(self.args.len() + 1);
        args.push(name.to_string());
        args.extend(self.args);
        let io = CommandIo {
            args,
            stdin: self.stdin,
            stdout: stdout.clone(),
            stderr: stderr.clone(),
            lines,
        };
        // At most `max_instances` runs at once: each makes an instance.
        let _slot = plugin
            .command_runs
            .acquire()
            .await
            .map_err(|_| Error::Config {
                detail: "the plugin is shutting down".to_string(),
            })?;
        // An instance of its own, recording into the plugin's audit log.
        let audit = Arc::new(setup.audit.sibling());
        let mut live = Live::with_io(setup, audit.clone(), 0, Some(io)).await?;
        let outcome = live.call_dynamic(setup, exports, position, &[]).await;
        let status = match outcome {
            // `run: func() -> result`: ok is status 0, err is 1.
            Ok(results) => match results.first() {
                Some(Val::Result(Err(_))) => CommandStatus::Exited(1),
                _ => CommandStatus::Exited(0),
            },
            Err(Error::Exited { code, .. }) => CommandStatus::Exited(code),
            Err(other) => CommandStatus::Failed(other),
        };
        drop(live);
        let (stdout, stdout_truncated) = stdout.take();
        let (stderr, stderr_truncated) = stderr.take();
        for (truncated, stream, limit) in [
            (stdout_truncated, "stdout", limits.max_output),
            (stderr_truncated, "stderr", limits.log_output),
        ] {
            if truncated {
                audit.record(
                    CapabilityKind::Limit,
                    "limit",
                    format!("command-{stream}"),
                    &crate::policy::Verdict::deny(format!(
                        "the command's {stream} went past {limit} bytes; the rest was dropped"
                    )),
                );
            }
        }
        Ok(CommandOutput {
            status,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
        })
    }
}
