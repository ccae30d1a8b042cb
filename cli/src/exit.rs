//! Exit statuses, and failures with what to do about them.

use std::fmt;

use wasm_sandbox::{Error, Limit};

/// The exit status of a command; see `wasm-sandbox --help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success.
    Success,
    /// The plugin returned `err(..)`; for `policy diff`, the new policy widens.
    PluginError,
    /// Bad flags, function name, arguments or policy.
    Usage,
    /// The plugin could not be loaded.
    Load,
    /// The policy refused something.
    Denied,
    /// The plugin trapped.
    Trap,
    /// A resource limit was hit.
    Limit,
    /// Anything else.
    Other,
    /// A command component's own exit status (`run PLUGIN -- ARGS`).
    Program(u8),
}

impl Exit {
    /// The status as a process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::PluginError => 1,
            Exit::Usage => 2,
            Exit::Load => 3,
            Exit::Denied => 4,
            Exit::Trap => 5,
            Exit::Limit => 6,
            Exit::Other => 7,
            Exit::Program(code) => code,
        }
    }

    /// A one-word name for `--json` output.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::PluginError => "plugin-error",
            Exit::Usage => "usage",
            Exit::Load => "load",
            Exit::Denied => "denied",
            Exit::Trap => "trap",
            Exit::Limit => "limit",
            Exit::Other => "other",
            Exit::Program(_) => "program-exit",
        }
    }
}

/// A command that could not do its job: the exit status, what happened, and
/// what to do.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    /// The message may quote the plugin (a failed call's error names what
    /// the plugin asked for, and has its stderr): printed with control
    /// characters escaped, on one line.
    pub(crate) quotes_plugin: bool,
}

impl Failure {
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
            hint: None,
            quotes_plugin: false,
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, message)
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// As JSON, for `--json`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.exit.kind(),
            "message": self.message,
            "hint": self.hint,
        })
    }
}

impl fmt::Display for Failure {
    /// `error: ..` and `hint: ..` lines. A message that may quote the
    /// plugin (a path it asked for, its stderr) has its control characters
    /// escaped: it cannot end its line and print one that looks like ours.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quotes_plugin {
            write!(f, "error: {}", OneLine(&self.message))?;
        } else {
            write!(f, "error: {}", self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

/// Text printed on one line, its control characters escaped (`\n`,
/// `\x1b`, ...).
pub(crate) struct OneLine<'a>(pub(crate) &'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\u{2028}' | '\u{2029}' => write!(f, "\\u{{{:x}}}", c as u32)?,
                c if c.is_control() => write!(f, "{}", c.escape_unicode())?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

/// The exit status for a host error.
pub(crate) fn exit_for(error: &Error) -> Exit {
    match error {
        Error::Io { .. }
        | Error::NotAComponent { .. }
        | Error::InvalidBinary { .. }
        | Error::Compile { .. }
        | Error::MissingImport { .. }
        | Error::Instantiate { .. }
        | Error::InvalidArtifact { .. }
        | Error::NotARegularFile { .. }
        | Error::InputTooLarge { .. }
        | Error::ComponentModelAsync { .. } => Exit::Load,
        Error::UnsatisfiableImport { .. } | Error::SecurityViolation { .. } => Exit::Denied,
        Error::Trap { .. } | Error::Exited { .. } => Exit::Trap,
        Error::NotACommand { .. } => Exit::Usage,
        // Too many core instances is a limit hit while loading.
        Error::ResourceLimitExceeded(_) => Exit::Limit,
        Error::ExportNotFound { .. } | Error::TypeMismatch { .. } | Error::Policy { .. } => {
            Exit::Usage
        }
        _ => Exit::Other,
    }
}

/// How to grant a capability from the command line, for a capability as
/// the host names it in `UnsatisfiableImport` and `SecurityViolation`.
pub(crate) fn how_to_grant(capability: &str) -> String {
    if capability.contains("FileRead") || capability.contains("FileWrite") {
        "grant it with --allow-read=PATH (or --allow-write=PATH)".to_string()
    } else if capability.contains("NetworkAccess") {
        "grant it with --allow-net=HOST:PORT".to_string()
    } else if capability.contains("EnvironmentRead") {
        "grant it with --allow-env=VAR".to_string()
    } else if capability.contains("ProcessSpawn") {
        "grant it with --allow-run=PROGRAM".to_string()
    } else {
        // A host interface registered by an application: the CLI registers
        // none.
        "an application's host interface: only a host program that provides it can grant it"
            .to_string()
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let exit = exit_for(&error);
        let hint = match &error {
            Error::UnsatisfiableImport { capability, .. } => Some(format!(
                "{}, or load the plugin anyway with --imports=warn (each use is then refused at \
                 run time); `wasm-sandbox inspect PLUGIN` lists what each import needs",
                how_to_grant(capability)
            )),
            Error::SecurityViolation { capability, .. } => Some(how_to_grant(capability)),
            Error::ResourceLimitExceeded(limit) => Some(limit_hint(limit)),
            Error::ExportNotFound { .. } => {
                Some("`wasm-sandbox inspect PLUGIN` lists the exported functions".to_string())
            }
            Error::MissingImport { import, .. } if !import.starts_with("wasi:") => Some(
                "the CLI provides WASI 0.2 and the sandbox:host interfaces only; a plugin that \
                 imports an application's host interface runs in that application"
                    .to_string(),
            ),
            Error::InvalidArtifact { .. } => Some(
                "make it again with `wasm-sandbox compile -o DIR` (same wasm-sandbox version), \
                 or run the .wasm it was made from"
                    .to_string(),
            ),
            _ => None,
        };
        // The host's messages speak to a Rust caller (`list_exports()`);
        // these are rebuilt from the error's fields for the command line.
        let message = match &error {
            Error::ExportNotFound {
                name,
                suggestions,
                available,
            } => export_not_found(name, suggestions, *available),
            Error::TypeMismatch {
                function,
                expected,
                given,
                detail,
            } => format!(
                "type mismatch calling `{function}`: the plugin exports `{expected}`, but the \
                 call used {given}{}; `wasm-sandbox inspect PLUGIN` shows every signature",
                detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            // The setting that raises the limit is a flag here.
            Error::InputTooLarge {
                what,
                path,
                size,
                limit,
                ..
            } => format!(
                "{what} `{}` is {size} bytes, more than the limit of {limit} bytes, so it was not \
                 loaded; if the file is genuine, raise the limit with --max-plugin-size, \
                 otherwise check the path",
                path.display()
            ),
            _ => error.to_string(),
        };
        Failure {
            exit,
            message,
            hint,
            quotes_plugin: true,
        }
    }
}

fn limit_hint(limit: &Limit) -> String {
    match limit {
        Limit::Memory { .. } => "raise it with --memory (e.g. --memory 256MiB)".to_string(),
        Limit::Time { .. } => "raise it with --timeout (e.g. --timeout 30s)".to_string(),
        Limit::Fuel { .. } => "raise it with --fuel".to_string(),
        _ => "raise it in the [limits] table of a --policy file (max_stack, table_elements, \
              instances, max_output)"
            .to_string(),
    }
}

/// `ExportNotFound` for the command line: the hint names
/// `wasm-sandbox inspect PLUGIN`, so the message only says what is missing.
fn export_not_found(name: &str, suggestions: &[String], available: usize) -> String {
    let mut msg = format!("the plugin exports no function named `{name}`");
    if !suggestions.is_empty() {
        let quoted: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
        msg.push_str(&format!("; did you mean {}?", quoted.join(", ")));
    } else if available == 0 {
        msg.push_str("; it exports no functions at all");
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_has_its_flag() {
        let grant = how_to_grant;
        assert!(grant("Capability::FileRead or Capability::FileWrite").contains("--allow-read"));
        assert!(grant("Capability::NetworkAccess { .. }").contains("--allow-net"));
        assert!(grant("Capability::EnvironmentRead(..)").contains("--allow-env"));
        assert!(grant("Capability::ProcessSpawn(..)").contains("--allow-run"));
        assert!(grant("Capability::Custom(\"acme:kv/store\")").contains("host program"));
    }

    #[test]
    fn failures_print_on_one_line_each() {
        let failure = Failure::from(Error::SecurityViolation {
            function: "f".to_string(),
            target: "/x\naudit: <time> allowed file-read open /y\u{1b}[2K".to_string(),
            rule: "r".to_string(),
            capability: "Capability::FileRead(\"/x\")".to_string(),
        });
        let text = failure.to_string();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.starts_with(
                "error: security violation in `f`: the plugin called \
                 `/x\\naudit: <time> allowed file-read open /y\\u{1b}[2K`"
            ),
            "{text}"
        );
        assert!(text.ends_with("\nhint: grant it with --allow-read=PATH (or --allow-write=PATH)"));
        // Our own messages keep their layout (a caret under a WAVE error).
        let ours = Failure::usage("bad value\n    [3, x]\n        ^").to_string();
        assert_eq!(ours.lines().count(), 3, "{ours}");
    }

    #[test]
    fn limits_point_at_their_flag() {
        let failure = Failure::from(Error::ResourceLimitExceeded(Limit::Time {
            deadline: std::time::Duration::from_millis(100),
        }));
        assert_eq!(failure.exit, Exit::Limit);
        assert!(failure.hint.unwrap().contains("--timeout"));
    }
}
