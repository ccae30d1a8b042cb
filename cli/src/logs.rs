//! What plugins log, on the terminal: their `log` calls and the lines they
//! write to stderr reach the host as `tracing` events with target
//! `wasm_sandbox::guest`; the CLI prints them on its stderr, each prefixed
//! with the plugin's name, as they happen.
//!
//! Which are shown: `RUST_LOG` when it is set (for example
//! `RUST_LOG=wasm_sandbox::guest=trace,wasm_sandbox=debug`); otherwise the
//! plugin's `info` and above (stderr lines are `warn`), `-v` adds its
//! `debug` and the host's own `info` events, `-vv` everything, and `-q`
//! only the plugin's errors.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// The target of plugin log events.
const GUEST: &str = "wasm_sandbox::guest";

/// Whether a plugin's stderr lines are shown as they are written (then an
/// error need not repeat them).
static STDERR_SHOWN: AtomicBool = AtomicBool::new(false);

/// `error` without the plugin's stderr lines when they are already on the
/// terminal (a trap's message repeats the last few otherwise).
pub(crate) fn without_shown_stderr(mut error: wasm_sandbox::Error) -> wasm_sandbox::Error {
    if STDERR_SHOWN.load(Ordering::Relaxed)
        && let wasm_sandbox::Error::Trap { guest_stderr, .. } = &mut error
    {
        guest_stderr.clear();
    }
    error
}

/// Installs the subscriber for `-v` (`verbose` times) or `-q`.
pub(crate) fn init(verbose: u8, quiet: bool) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = match (&from_env, quiet, verbose) {
        (Some(env), _, _) => env.clone(),
        (None, true, _) => format!("{GUEST}=error"),
        (None, false, 0) => format!("{GUEST}=info"),
        (None, false, 1) => format!("{GUEST}=debug,wasm_sandbox=info"),
        (None, false, _) => format!("{GUEST}=trace,wasm_sandbox=trace"),
    };
    // A `RUST_LOG` that does not parse: say so, and show the default.
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!(
            "wasm-sandbox: RUST_LOG={directives:?} is not a valid filter ({e}); using the default"
        );
        EnvFilter::new(format!("{GUEST}=info"))
    });
    let host_events = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() != GUEST
        }));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(GuestLines)
        .with(host_events)
        .try_init();
    // Asked of the subscriber itself, with the target stderr lines use.
    STDERR_SHOWN.store(
        tracing::enabled!(target: "wasm_sandbox::guest", Level::WARN),
        Ordering::Relaxed,
    );
}

/// Prints plugin events as `[plugin] message` (stderr lines as
/// `[plugin stderr] line`, levels other than info named), control
/// characters escaped so that a plugin cannot write a line that looks like
/// one of ours.
struct GuestLines;

impl<S: Subscriber> Layer<S> for GuestLines {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() != GUEST {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = String::new();
        let plugin = escape(&fields.plugin);
        if fields.stream == "stderr" {
            let _ = write!(line, "[{plugin} stderr] ");
        } else if *meta.level() == Level::INFO {
            let _ = write!(line, "[{plugin}] ");
        } else {
            let _ = write!(
                line,
                "[{plugin}] {}: ",
                meta.level().as_str().to_lowercase()
            );
        }
        line.push_str(&escape(&fields.message));
        eprintln!("{line}");
    }
}

#[derive(Default)]
struct Fields {
    plugin: String,
    stream: String,
    message: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "plugin" => self.plugin = value.to_string(),
            "stream" => self.stream = value.to_string(),
            "message" => self.message = value.to_string(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            // `plugin = %name` arrives as Display through Debug.
            "plugin" => self.plugin = text,
            "stream" => self.stream = text.trim_matches('"').to_string(),
            "message" => self.message = text,
            _ => {}
        }
    }
}

/// `text` on one line: control characters escaped, as in our own error
/// lines.
fn escape(text: &str) -> String {
    crate::exit::OneLine(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_text_cannot_start_a_line_of_its_own() {
        assert_eq!(
            escape("ok\naudit: allowed everything\x1b[2K"),
            "ok\\naudit: allowed everything\\u{1b}[2K"
        );
    }
}
