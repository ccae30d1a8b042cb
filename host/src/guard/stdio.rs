//! The guest's stderr, captured into `tracing`.
//!
//! A plugin never writes to the host's terminal. Each complete line it writes
//! to stderr becomes a `WARN` event with target `wasm_sandbox::guest`, tagged
//! with the plugin's name; the last few lines of a call are also kept so that
//! a trap can say what the guest printed just before it died (a Rust guest's
//! panic message, for instance).
//!
//! A command run (`plugin/command.rs`) gives the program its own stdout and
//! stderr instead: [`CommandStream`]s that capture what it writes (up to a
//! limit) or forward it to a writer the caller chose. Its stderr still
//! keeps the last lines for a trap's message, without the `tracing` events.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::limits::{LogLevel, LogLine, LogSource};
use wasmtime_wasi_io::bytes::Bytes;
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

/// Longest line kept; longer lines are cut and marked.
const MAX_LINE: usize = 4096;
/// Lines remembered for the error of a trapping call.
const RECENT_LINES: usize = 8;

/// A cloneable handle on one instance's stderr.
#[derive(Clone, Debug)]
pub(crate) struct GuestStderr {
    inner: Arc<Mutex<State>>,
    /// Set when the guest wrote anything since the last `start_call`, so
    /// that calls that write nothing never take the lock.
    dirty: Arc<AtomicBool>,
    /// Set while a call's log lines are collected (`call_with_report`).
    collecting: Arc<AtomicBool>,
}

#[derive(Debug)]
struct State {
    plugin: Arc<str>,
    partial: Vec<u8>,
    recent: VecDeque<String>,
    /// Bytes this call may still write.
    budget: usize,
    limit: usize,
    /// Whether the "output dropped" notice was given this call.
    cut: bool,
    /// Lines are only remembered, not sent to `tracing` (a command's
    /// stderr, which goes to the caller instead).
    quiet: bool,
    /// The current call's log lines (its `log` calls and stderr lines),
    /// while they are collected.
    collected: Option<Vec<LogLine>>,
}

impl GuestStderr {
    pub(crate) fn new(plugin: Arc<str>, limit: usize) -> Self {
        GuestStderr {
            inner: Arc::new(Mutex::new(State {
                plugin,
                partial: Vec::new(),
                recent: VecDeque::new(),
                budget: limit,
                limit,
                cut: false,
                quiet: false,
                collected: None,
            })),
            dirty: Arc::new(AtomicBool::new(false)),
            collecting: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts collecting the current call's log lines.
    pub(crate) fn start_collecting(&self) {
        self.lock().collected = Some(Vec::new());
        self.collecting.store(true, Ordering::Relaxed);
    }

    /// Stops collecting and returns the lines collected (an unterminated
    /// line of stderr included).
    pub(crate) fn take_collected(&self) -> Vec<LogLine> {
        if !self.collecting.swap(false, Ordering::Relaxed) {
            return Vec::new();
        }
        let mut state = self.lock();
        state.flush_partial();
        state.collected.take().unwrap_or_default()
    }

    /// Records one `log` call of the plugin, when lines are collected.
    #[inline]
    pub(crate) fn collect_log(&self, level: LogLevel, message: &str) {
        if self.collecting.load(Ordering::Relaxed)
            && let Some(lines) = &mut self.lock().collected
        {
            lines.push(LogLine {
                level,
                source: LogSource::Log,
                message: message.to_string(),
            });
        }
    }

    /// A stderr that only remembers the last lines, for the message of a
    /// trap: a command's stderr, whose bytes go to a [`CommandStream`].
    pub(crate) fn quiet(plugin: Arc<str>, limit: usize) -> Self {
        let stderr = GuestStderr::new(plugin, limit);
        stderr.lock().quiet = true;
        stderr
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a tracing subscriber panicked while we
        // held it; the buffered text is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets the lines of the previous call and refills its output budget.
    #[inline]
    pub(crate) fn start_call(&self) {
        // A plain load first: most calls write nothing, and a swap would be
        // a locked instruction on every call.
        if self.dirty.load(Ordering::Relaxed) {
            self.dirty.store(false, Ordering::Relaxed);
            let mut state = self.lock();
            state.recent.clear();
            state.budget = state.limit;
            state.cut = false;
        }
    }

    /// Whether output was dropped during the current call (past its
    /// budget). A load when the call wrote nothing.
    #[inline]
    pub(crate) fn was_cut(&self) -> bool {
        self.wrote() && self.lock().cut
    }

    /// Whether the guest wrote anything since the current call started.
    #[inline]
    pub(crate) fn wrote(&self) -> bool {
        self.dirty.load(Ordering::Relaxed)
    }

    /// Emits any unterminated line and returns the lines written during the
    /// call (at most the last few).
    pub(crate) fn take_recent(&self) -> Vec<String> {
        let mut state = self.lock();
        state.flush_partial();
        state.recent.drain(..).collect()
    }

    /// Takes what the guest wrote; never fails (for `output_stream!`).
    fn put(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.write(bytes);
        Ok(())
    }

    /// Nothing is buffered outside the lines (for `output_stream!`).
    fn flush_out(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn write(&self, bytes: &[u8]) {
        self.dirty.store(true, Ordering::Relaxed);
        let mut state = self.lock();
        // Past the per-call budget, output is dropped (once noted).
        let allowed = bytes.len().min(state.budget);
        state.budget -= allowed;
        if allowed < bytes.len() && !state.cut && !state.quiet {
            state.cut = true;
            let limit = state.limit;
            state.flush_partial();
            let plugin = state.plugin.clone();
            tracing::warn!(
                target: "wasm_sandbox::guest",
                plugin = %plugin,
                stream = "stderr",
                "[wasm-sandbox: this call reached its stderr limit of {limit} bytes; the rest is dropped]"
            );
        }
        let bytes = &bytes[..allowed];
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            state.push_partial(&rest[..pos]);
            state.flush_partial();
            rest = &rest[pos + 1..];
        }
        state.push_partial(rest);
        if state.partial.len() >= MAX_LINE {
            state.flush_partial();
        }
    }
}

impl State {
    fn push_partial(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn flush_partial(&mut self) {
        if self.partial.is_empty() {
            return;
        }
        let mut line = String::from_utf8_lossy(&self.partial).into_owned();
        if self.partial.len() >= MAX_LINE {
            line.push_str(" [line cut]");
        }
        self.partial.clear();
        let line = line.trim_end_matches('\r').to_string();
        if !self.quiet {
            tracing::warn!(target: "wasm_sandbox::guest", plugin = %self.plugin, stream = "stderr", "{line}");
        }
        if let Some(lines) = &mut self.collected {
            lines.push(LogLine {
                level: LogLevel::Warn,
                source: LogSource::Stderr,
                message: line.clone(),
            });
        }
        if self.recent.len() == RECENT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }
}

/// Where a command's stdout or stderr goes.
pub(crate) enum Sink {
    /// Kept in memory, up to `limit` bytes; past it the rest is dropped.
    Capture {
        bytes: Vec<u8>,
        limit: usize,
        truncated: bool,
    },
    /// Written to the caller's writer as the program writes.
    Forward(Box<dyn std::io::Write + Send>),
}

/// One output stream of a command run: what the program writes goes to the
/// [`Sink`] and, for stderr, to a quiet [`GuestStderr`] that remembers the
/// last lines for a trap's message.
#[derive(Clone)]
pub(crate) struct CommandStream {
    sink: Arc<Mutex<Sink>>,
    lines: Option<GuestStderr>,
}

impl std::fmt::Debug for CommandStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandStream").finish_non_exhaustive()
    }
}

impl CommandStream {
    pub(crate) fn new(sink: Sink, lines: Option<GuestStderr>) -> Self {
        CommandStream {
            sink: Arc::new(Mutex::new(sink)),
            lines,
        }
    }

    fn put(&self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(lines) = &self.lines {
            lines.write(bytes);
        }
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *sink {
            Sink::Capture {
                bytes: kept,
                limit,
                truncated,
            } => {
                let room = limit.saturating_sub(kept.len());
                let take = bytes.len().min(room);
                kept.extend_from_slice(&bytes[..take]);
                if take < bytes.len() {
                    *truncated = true;
                }
                Ok(())
            }
            Sink::Forward(writer) => writer.write_all(bytes),
        }
    }

    fn flush_out(&self) -> std::io::Result<()> {
        match &mut *self.sink.lock().unwrap_or_else(|e| e.into_inner()) {
            Sink::Capture { .. } => Ok(()),
            Sink::Forward(writer) => writer.flush(),
        }
    }

    /// What was captured, and whether bytes were dropped past the limit
    /// (empty for a forwarded stream).
    pub(crate) fn take(&self) -> (Vec<u8>, bool) {
        let _ = self.flush_out();
        match &mut *self.sink.lock().unwrap_or_else(|e| e.into_inner()) {
            Sink::Capture {
                bytes, truncated, ..
            } => (std::mem::take(bytes), *truncated),
            Sink::Forward(_) => (Vec::new(), false),
        }
    }
}

/// The WASI output-stream traits for a cloneable stream type whose
/// inherent `put(&self, &[u8]) -> io::Result<()>` takes what the guest
/// writes and `flush_out(&self) -> io::Result<()>` flushes it: never a
/// terminal, always ready, 64 KiB at a time.
macro_rules! output_stream {
    ($ty:ty) => {
        impl IsTerminal for $ty {
            fn is_terminal(&self) -> bool {
                false
            }
        }

        impl StdoutStream for $ty {
            fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
                Box::new(self.clone())
            }

            fn p2_stream(&self) -> Box<dyn OutputStream> {
                Box::new(self.clone())
            }
        }

        #[wasmtime_wasi_io::async_trait]
        impl Pollable for $ty {
            async fn ready(&mut self) {}
        }

        impl OutputStream for $ty {
            fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
                // A closed terminal or pipe on the caller's side ends the
                // stream for the program, as it would for a native one.
                self.put(&bytes).map_err(|e| {
                    wasmtime_wasi_io::streams::StreamError::LastOperationFailed(e.into())
                })
            }

            fn flush(&mut self) -> StreamResult<()> {
                self.flush_out().map_err(|e| {
                    wasmtime_wasi_io::streams::StreamError::LastOperationFailed(e.into())
                })
            }

            fn check_write(&mut self) -> StreamResult<usize> {
                Ok(64 * 1024)
            }
        }

        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<std::io::Result<usize>> {
                Poll::Ready(self.put(buf).map(|()| buf.len()))
            }

            fn poll_flush(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
            ) -> Poll<std::io::Result<()>> {
                Poll::Ready(self.flush_out())
            }

            fn poll_shutdown(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
            ) -> Poll<std::io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
    };
}

output_stream!(GuestStderr);
output_stream!(CommandStream);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_remembered() {
        let err = GuestStderr::new("t".into(), 1 << 20);
        err.write(b"first line\nsecond ");
        err.write(b"half\r\nthird");
        assert_eq!(
            err.take_recent(),
            vec!["first line", "second half", "third"]
        );
        assert!(err.take_recent().is_empty());
    }

    #[test]
    fn long_lines_are_cut_and_only_the_last_lines_are_kept() {
        let err = GuestStderr::new("t".into(), 1 << 20);
        err.write(&vec![b'x'; MAX_LINE * 3]);
        let recent = err.take_recent();
        assert!(recent.iter().all(|l| l.len() <= MAX_LINE + 16));
        for i in 0..20 {
            err.write(format!("line {i}\n").as_bytes());
        }
        let recent = err.take_recent();
        assert_eq!(recent.len(), RECENT_LINES);
        assert_eq!(recent.last().unwrap(), "line 19");
    }

    #[test]
    fn output_past_the_budget_is_dropped_until_the_next_call() {
        let err = GuestStderr::new("t".into(), 10);
        err.write(b"0123456789abcdef\n");
        assert_eq!(err.take_recent(), vec!["0123456789"]);
        err.write(b"more\n");
        assert!(err.take_recent().is_empty());
        err.start_call();
        err.write(b"fresh\n");
        assert_eq!(err.take_recent(), vec!["fresh"]);
    }

    #[test]
    fn a_captured_command_stream_keeps_its_limit_and_says_it_dropped_the_rest() {
        let lines = GuestStderr::quiet("t".into(), usize::MAX);
        let stream = CommandStream::new(
            Sink::Capture {
                bytes: Vec::new(),
                limit: 8,
                truncated: false,
            },
            Some(lines.clone()),
        );
        stream.put(b"oops: ").unwrap();
        stream.put(b"it broke\n").unwrap();
        assert_eq!(stream.take(), (b"oops: it".to_vec(), true));
        // The trap's message still sees the whole line.
        assert_eq!(lines.take_recent(), vec!["oops: it broke"]);
    }
}
