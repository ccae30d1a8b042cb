//! The audit trail: one structured event per privileged operation, allowed
//! or denied.
//!
//! Events go to `tracing` (target `wasm_sandbox::audit`, `INFO` when
//! allowed, `WARN` when denied), to an in-memory ring per sandbox, and, when
//! configured, to a JSON-lines file that is flushed on every denial. A
//! write to that file that fails is counted and reported, never ignored,
//! and fails the call under `audit_required(true)`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::policy::{Capability, PortRange, SecurityPolicy, Verdict};

/// Which kind of capability an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CapabilityKind {
    /// Reading files and directories (`Capability::FileRead`).
    FileRead,
    /// Creating, changing and removing files (`Capability::FileWrite`).
    FileWrite,
    /// Name lookups and sockets (`Capability::NetworkAccess`).
    Network,
    /// Environment variables (`Capability::EnvironmentRead`).
    Environment,
    /// Running programs (`Capability::ProcessSpawn`).
    Process,
    /// App-registered host interfaces (`Capability::Custom`).
    Custom,
    /// The load-time check of the plugin's imports.
    Import,
    /// A resource limit (memory, time, fuel, ...).
    Limit,
}

impl fmt::Display for CapabilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            CapabilityKind::FileRead => "file-read",
            CapabilityKind::FileWrite => "file-write",
            CapabilityKind::Network => "network",
            CapabilityKind::Environment => "environment",
            CapabilityKind::Process => "process",
            CapabilityKind::Custom => "custom",
            CapabilityKind::Import => "import",
            CapabilityKind::Limit => "limit",
        };
        f.write_str(s)
    }
}

/// What was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The operation went ahead.
    Allowed,
    /// The operation was refused.
    Denied,
    /// Nothing was refused yet, but something needs attention (for example
    /// an import the policy can never allow, under `ImportCheck::Warn`).
    Warning,
}

/// One privileged operation, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEvent {
    /// When, as an RFC 3339 UTC timestamp with milliseconds.
    pub time: String,
    /// The sandbox (unique within the process).
    pub sandbox_id: u64,
    /// The plugin's name.
    pub plugin: String,
    /// The export being run, if the event happened during a call.
    pub call: Option<String>,
    /// The kind of capability.
    pub capability: CapabilityKind,
    /// The operation: `open`, `create`, `remove`, `rename`, `stat`, `list`,
    /// `mkdir`, `readlink`, `dns-lookup`, `connect`, `bind`, `listen`,
    /// `send`, `http-request`, `http-response`, `env-read`, `env-list`, `spawn`, `call`, `import`, `limit`.
    pub operation: String,
    /// What it was applied to: a path, `host:port`, a variable, a program,
    /// an interface function.
    pub target: String,
    /// What was decided.
    pub decision: Decision,
    /// The rule that decided it, for example `allow FileRead(/srv/data)` or
    /// `deny FileRead(/srv/data/secrets)`.
    pub rule: String,
}

impl AuditEvent {
    /// Whether the operation was refused.
    pub fn is_violation(&self) -> bool {
        self.decision == Decision::Denied
    }
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decision = match self.decision {
            Decision::Allowed => "allowed",
            Decision::Denied => "DENIED",
            Decision::Warning => "warning",
        };
        // The target (and a rule that quotes it) come from the plugin: they
        // are escaped so that they cannot end the line or forge another.
        write!(
            f,
            "{} {decision} {} {} {} ({})",
            self.time,
            self.capability,
            Escaped(&self.operation),
            Escaped(&self.target),
            Escaped(&self.rule)
        )
    }
}

/// Text from a plugin, made safe to print on one line: a backslash becomes
/// `\\`, `\n`, `\r` and `\t` are written so, other control characters as
/// `\x1b` (below U+0080) or `\u{85}`, and characters that move or reorder
/// text on a terminal (line and paragraph separators, bidirectional
/// overrides) as `\u{2028}`. Everything else is printed as is.
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if (c as u32) < 0x80 => write!(f, "\\x{:02x}", c as u32)?,
                c => write!(f, "\\u{{{:x}}}", c as u32)?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// The events of one call, from [`WasmSandbox::call_with_audit`](crate::Plugin::call_with_audit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallAudit {
    /// Every event of the call, in order.
    pub events: Vec<AuditEvent>,
    /// The denied ones.
    pub violations: Vec<AuditEvent>,
}

/// Formats a time as RFC 3339 UTC with milliseconds.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let millis = d.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if month <= 2 { y + 1 } else { y };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

static NEXT_SANDBOX_ID: AtomicU64 = AtomicU64::new(1);

/// Where a sandbox's events go: the part shared by all its instances (the
/// log, the file, the names).
pub(crate) struct AuditCore {
    sandbox_id: u64,
    plugin: Arc<str>,
    enabled: bool,
    capacity: usize,
    ring: Mutex<VecDeque<Recorded>>,
    file: Option<Mutex<BufWriter<File>>>,
    /// The audit file's path, for messages.
    file_path: Option<PathBuf>,
    /// `audit_required(true)`: a call whose events cannot be written fails.
    required: bool,
    /// Writes and flushes of the audit file that failed.
    failures: AtomicU64,
    /// Whether the last write failed (one `tracing::error!` per burst).
    failing: AtomicBool,
    names: Mutex<Arc<[String]>>,
    /// The denials of the policy the sandbox enforces, which a learned
    /// policy keeps.
    denials: Mutex<Arc<[Capability]>>,
    /// The interfaces the plugin imports (not the type-only ones), for
    /// deciding whether a learned policy needs `ImportCheck::Warn`.
    imports: Mutex<Arc<[String]>>,
}

/// An event as the ring keeps it: what was decided, with the raw time and
/// the export's position. It becomes an [`AuditEvent`] (the timestamp
/// formatted, the names filled in) when it is read, so that recording one,
/// which a plugin does on every call into the host, formats nothing.
#[derive(Clone, Debug)]
struct Recorded {
    at: SystemTime,
    /// The export's position, or `usize::MAX` outside a call.
    call: usize,
    capability: CapabilityKind,
    operation: Box<str>,
    target: String,
    decision: Decision,
    rule: String,
}

/// The first operation refused during a call: its kind, target and rule.
pub(crate) type Refusal = (CapabilityKind, String, String);

/// One instance's view of its sandbox's audit log: the shared log, plus the
/// call that instance is running. Shared by the instance's host state and
/// its socket-address check (which runs outside the store). A pool gives
/// each instance a sink of its own over the same core, so concurrent calls
/// name their own export.
pub(crate) struct AuditSink {
    core: Arc<AuditCore>,
    /// The position (in the export list) of the export being run, or
    /// `usize::MAX` between calls.
    current: AtomicUsize,
    capturing: AtomicBool,
    captured: Mutex<Vec<Recorded>>,
    /// Whether an operation was refused during the current call, and the
    /// first one that was (kept even when auditing is off: the call's
    /// outcome may depend on it, see `ViolationAction::AbortCall`).
    refused_in_call: AtomicBool,
    first_refusal: Mutex<Option<Refusal>>,
    /// Under `audit_required(true)`: the first audit file error not yet
    /// reported to a call.
    write_error: Mutex<Option<std::io::Error>>,
}

impl fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSink")
            .field("sandbox_id", &self.core.sandbox_id)
            .field("plugin", &self.core.plugin)
            .field("enabled", &self.core.enabled)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How a sandbox audits; set on the builder.
#[derive(Clone, Debug)]
pub(crate) struct AuditConfig {
    pub(crate) enabled: bool,
    pub(crate) capacity: usize,
    pub(crate) file: Option<PathBuf>,
    pub(crate) required: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: true,
            capacity: 1024,
            file: None,
            required: false,
        }
    }
}

impl AuditSink {
    pub(crate) fn new(plugin: Arc<str>, config: &AuditConfig) -> crate::Result<AuditSink> {
        if config.required && (config.file.is_none() || !config.enabled) {
            return Err(crate::Error::Config {
                detail: "`audit_required(true)` needs somewhere to write: set \
                         `audit_file(path)` and leave auditing enabled"
                    .to_string(),
            });
        }
        let file = match &config.file {
            Some(path) => Some(Mutex::new(BufWriter::new(open_append(path)?))),
            None => None,
        };
        Ok(AuditSink::over(Arc::new(AuditCore {
            sandbox_id: NEXT_SANDBOX_ID.fetch_add(1, Ordering::Relaxed),
            plugin,
            enabled: config.enabled,
            capacity: config.capacity.max(1),
            ring: Mutex::new(VecDeque::new()),
            file,
            file_path: config.file.clone(),
            required: config.required,
            failures: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            names: Mutex::new(Arc::from(Vec::new())),
            denials: Mutex::new(Arc::from(Vec::new())),
            imports: Mutex::new(Arc::from(Vec::new())),
        })))
    }

    fn over(core: Arc<AuditCore>) -> AuditSink {
        AuditSink {
            core,
            current: AtomicUsize::new(usize::MAX),
            capturing: AtomicBool::new(false),
            captured: Mutex::new(Vec::new()),
            refused_in_call: AtomicBool::new(false),
            first_refusal: Mutex::new(None),
            write_error: Mutex::new(None),
        }
    }

    /// Another view of the same log, for another instance of the plugin.
    pub(crate) fn sibling(&self) -> AuditSink {
        AuditSink::over(self.core.clone())
    }

    pub(crate) fn sandbox_id(&self) -> u64 {
        self.core.sandbox_id
    }

    pub(crate) fn set_export_names(&self, names: Vec<String>) {
        *lock(&self.core.names) = Arc::from(names);
    }

    /// Records the denials of the policy the sandbox enforces, for
    /// [`AuditLog::learned_policy`].
    pub(crate) fn set_policy_denials(&self, denials: &[Capability]) {
        *lock(&self.core.denials) = Arc::from(denials);
    }

    /// Records the interfaces the plugin imports, for
    /// [`AuditLog::learned_policy`].
    pub(crate) fn set_imports(&self, imports: Vec<String>) {
        *lock(&self.core.imports) = Arc::from(imports);
    }

    /// Marks the start of a call to the export at `position`. Cheap: two
    /// atomic stores, so calls that do nothing privileged pay almost nothing.
    #[inline]
    pub(crate) fn begin_call(&self, position: usize) {
        self.refused_in_call.store(false, Ordering::Relaxed);
        self.current.store(position, Ordering::Relaxed);
    }

    /// The first operation refused during the current call, if any (an
    /// atomic load when there was none).
    #[inline]
    pub(crate) fn first_refusal(&self) -> Option<Refusal> {
        if !self.refused_in_call.load(Ordering::SeqCst) {
            return None;
        }
        lock(&self.first_refusal).clone()
    }

    /// Whether an operation was refused during the current call (one
    /// atomic load).
    #[inline]
    pub(crate) fn refused_in_call(&self) -> bool {
        self.refused_in_call.load(Ordering::SeqCst)
    }

    /// Whether `audit_required(true)` is set: a call whose events could not
    /// be written fails. Fixed when the sink is made.
    pub(crate) fn is_required(&self) -> bool {
        self.core.required
    }

    /// The position of the export being called (`usize::MAX`: none).
    pub(crate) fn current_position(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn end_call(&self) {
        self.current.store(usize::MAX, Ordering::Relaxed);
    }

    /// Starts collecting this call's events for `call_with_audit`.
    pub(crate) fn start_capture(&self) {
        lock(&self.captured).clear();
        self.capturing.store(true, Ordering::SeqCst);
    }

    pub(crate) fn finish_capture(&self) -> CallAudit {
        self.capturing.store(false, Ordering::SeqCst);
        let recorded = std::mem::take(&mut *lock(&self.captured));
        let events: Vec<AuditEvent> = recorded.iter().map(|r| self.event(r)).collect();
        let violations = events
            .iter()
            .filter(|e| e.is_violation())
            .cloned()
            .collect();
        CallAudit { events, violations }
    }

    /// The event `r` records, formatted.
    fn event(&self, r: &Recorded) -> AuditEvent {
        AuditEvent {
            time: rfc3339(r.at),
            sandbox_id: self.core.sandbox_id,
            plugin: self.core.plugin.to_string(),
            call: if r.call == usize::MAX {
                None
            } else {
                lock(&self.core.names).get(r.call).cloned()
            },
            capability: r.capability,
            operation: r.operation.to_string(),
            target: r.target.clone(),
            decision: r.decision,
            rule: r.rule.clone(),
        }
    }

    /// Records an operation and its verdict.
    pub(crate) fn record(
        &self,
        capability: CapabilityKind,
        operation: &str,
        target: impl Into<String>,
        verdict: &Verdict,
    ) {
        let decision = if verdict.allowed {
            Decision::Allowed
        } else {
            Decision::Denied
        };
        self.record_event(
            capability,
            operation,
            target.into(),
            decision,
            verdict.rule.clone(),
        );
    }

    pub(crate) fn record_event(
        &self,
        capability: CapabilityKind,
        operation: &str,
        target: String,
        decision: Decision,
        rule: String,
    ) {
        // A refused operation of the plugin during a call (not a limit,
        // which ends the call itself, nor a load-time import warning).
        if decision == Decision::Denied
            && !matches!(capability, CapabilityKind::Limit | CapabilityKind::Import)
            && self.current.load(Ordering::Relaxed) != usize::MAX
        {
            let mut first = lock(&self.first_refusal);
            if !self.refused_in_call.load(Ordering::SeqCst) {
                *first = Some((capability, target.clone(), rule.clone()));
                self.refused_in_call.store(true, Ordering::SeqCst);
            }
        }
        if !self.core.enabled {
            return;
        }
        let recorded = Recorded {
            at: SystemTime::now(),
            call: self.current.load(Ordering::Relaxed),
            capability,
            operation: operation.into(),
            target,
            decision,
            rule,
        };
        let level = if decision == Decision::Allowed {
            tracing::Level::INFO
        } else {
            tracing::Level::WARN
        };
        let traced = match level {
            tracing::Level::INFO => {
                tracing::enabled!(target: "wasm_sandbox::audit", tracing::Level::INFO)
            }
            _ => tracing::enabled!(target: "wasm_sandbox::audit", tracing::Level::WARN),
        };
        // Formatted only for a subscriber or a file that wants it now.
        if traced || self.core.file.is_some() {
            self.emit(&self.event(&recorded));
        }
        if self.capturing.load(Ordering::SeqCst) {
            lock(&self.captured).push(recorded.clone());
        }
        let mut ring = lock(&self.core.ring);
        if ring.len() == self.core.capacity {
            ring.pop_front();
        }
        ring.push_back(recorded);
    }

    /// Sends a formatted event to `tracing` and the audit file.
    fn emit(&self, event: &AuditEvent) {
        let decision = event.decision;
        match decision {
            Decision::Allowed => tracing::info!(
                target: "wasm_sandbox::audit",
                sandbox = event.sandbox_id,
                plugin = %event.plugin,
                call = event.call.as_deref().unwrap_or(""),
                capability = %event.capability,
                operation = %Escaped(&event.operation),
                target_ = %Escaped(&event.target),
                rule = %Escaped(&event.rule),
                "allowed {} {}", Escaped(&event.operation), Escaped(&event.target)
            ),
            Decision::Denied | Decision::Warning => tracing::warn!(
                target: "wasm_sandbox::audit",
                sandbox = event.sandbox_id,
                plugin = %event.plugin,
                call = event.call.as_deref().unwrap_or(""),
                capability = %event.capability,
                operation = %Escaped(&event.operation),
                target_ = %Escaped(&event.target),
                rule = %Escaped(&event.rule),
                "{} {} {}",
                if decision == Decision::Denied { "denied" } else { "warning:" },
                Escaped(&event.operation),
                Escaped(&event.target)
            ),
        }
        if self.core.file.is_some()
            && let Ok(line) = serde_json::to_string(event)
        {
            // Denials are flushed at once; so is everything when the audit
            // is required, so that a failure is seen by the call.
            self.write_file(
                Some(&line),
                decision != Decision::Allowed || self.core.required,
            );
        }
    }

    pub(crate) fn events(&self) -> Vec<AuditEvent> {
        let recorded: Vec<Recorded> = lock(&self.core.ring).iter().cloned().collect();
        recorded.iter().map(|r| self.event(r)).collect()
    }

    pub(crate) fn clear(&self) {
        lock(&self.core.ring).clear();
    }

    pub(crate) fn flush(&self) {
        self.write_file(None, true);
    }

    /// Appends `line` to the audit file (if any) and flushes it if asked;
    /// a failure is counted, reported, and kept for the call.
    fn write_file(&self, line: Option<&str>, flush: bool) {
        let Some(file) = &self.core.file else {
            return;
        };
        let result = {
            let mut w = lock(file);
            let mut result = match line {
                Some(line) => writeln!(w, "{line}"),
                None => Ok(()),
            };
            if result.is_ok() && flush {
                result = w.flush();
            }
            result
        };
        match result {
            // Only a flush shows that the events reached the file.
            Ok(()) if flush => self.core.failing.store(false, Ordering::SeqCst),
            Ok(()) => {}
            Err(error) => self.write_failed(error),
        }
    }

    #[cold]
    fn write_failed(&self, error: std::io::Error) {
        self.core.failures.fetch_add(1, Ordering::SeqCst);
        let path = self.core.file_path.as_deref().unwrap_or(Path::new(""));
        if !self.core.failing.swap(true, Ordering::SeqCst) {
            tracing::error!(
                target: "wasm_sandbox::audit",
                sandbox = self.core.sandbox_id,
                plugin = %self.core.plugin,
                path = %path.display(),
                "cannot write the audit file `{}`: {error}; audit events are being lost \
                 until a write succeeds (counted by `AuditLog::audit_failures`); free space \
                 or fix the file, or set `audit_required(true)` to fail calls instead",
                path.display()
            );
        }
        if self.core.required {
            let mut kept = lock(&self.write_error);
            if kept.is_none() {
                *kept = Some(error);
            }
        }
    }

    /// Under `audit_required(true)`, after a call: flushes the audit file,
    /// and returns the error that kept any event from being written since
    /// the last call that reported one. `None` at once otherwise.
    #[inline]
    pub(crate) fn unwritten(&self) -> Option<crate::Error> {
        if !self.core.required {
            return None;
        }
        self.flush();
        let source = lock(&self.write_error).take()?;
        Some(crate::Error::AuditFailed {
            path: self.core.file_path.clone().unwrap_or_default(),
            cause: source,
        })
    }

    /// Writes and flushes of the audit file that failed, over all views.
    pub(crate) fn failures(&self) -> u64 {
        self.core.failures.load(Ordering::SeqCst)
    }
}

impl Drop for AuditSink {
    fn drop(&mut self) {
        self.flush();
    }
}

fn open_append(path: &Path) -> crate::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| crate::Error::AuditFailed {
            path: path.to_path_buf(),
            cause: source,
        })
}

/// A sandbox's audit log, from [`WasmSandbox::audit_log`](crate::Plugin::audit_log).
///
/// It holds the last events (1024 by default, see
/// [`SandboxBuilder::audit_capacity`](crate::SandboxBuilder::audit_capacity)),
/// oldest first.
#[derive(Clone, Debug)]
pub struct AuditLog {
    pub(crate) sink: Arc<AuditSink>,
}

impl AuditLog {
    /// The sandbox's id, as in its events.
    pub fn sandbox_id(&self) -> u64 {
        self.sink.sandbox_id()
    }

    /// The recorded events, oldest first.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.sink.events()
    }

    /// The denied events.
    pub fn violations(&self) -> Vec<AuditEvent> {
        self.events()
            .into_iter()
            .filter(AuditEvent::is_violation)
            .collect()
    }

    /// How many times writing to the audit file failed (an event that could
    /// not be written, or a flush that could not complete), since the
    /// sandbox was built. Zero without an audit file. Each burst of failures
    /// is also reported once as a `tracing::error!` (target
    /// `wasm_sandbox::audit`); to fail calls instead, set
    /// [`SandboxBuilder::audit_required`](crate::SandboxBuilder::audit_required).
    pub fn audit_failures(&self) -> u64 {
        self.sink.failures()
    }

    /// Forgets the recorded events (the JSON-lines file is untouched).
    pub fn clear(&self) {
        self.sink.clear();
    }

    /// The whole log as a JSON array of events.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.events()).unwrap_or_else(|_| "[]".to_string())
    }

    /// The least-privilege policy that allows exactly the operations this
    /// log saw allowed: run the plugin under [`SecurityPolicy::observe`]
    /// (learn mode), then take this. See [`learn_policy`].
    ///
    /// The denials of the sandbox's policy (the ones added to `observe()`
    /// with [`deny`](SecurityPolicy::deny)) are kept as denials of the
    /// learned policy, and no grant they wholly cover is learned: a learned
    /// policy never allows what the user denied while it was learned.
    ///
    /// Its import check is the default, [`ImportCheck::Deny`](crate::ImportCheck::Deny),
    /// unless the plugin imports an interface that the learned grants can
    /// never allow (a Rust program's filesystem imports, when it opened no
    /// file while observed): then [`ImportCheck::Warn`](crate::ImportCheck::Warn),
    /// so that the plugin loads, and each use of such an import is refused.
    /// [`learned_policy_needs_warn`](Self::learned_policy_needs_warn) names
    /// those imports.
    pub fn learned_policy(&self) -> SecurityPolicy {
        let denials = lock(&self.sink.core.denials).clone();
        let learned = learned_within(learn_policy(&self.events()), &denials);
        if self.unusable_imports(&learned).is_empty() {
            learned
        } else {
            learned.import_check(crate::policy::ImportCheck::Warn)
        }
    }

    /// The imports that make [`learned_policy`](Self::learned_policy) use
    /// `ImportCheck::Warn`: the plugin imports them, and nothing it did
    /// while observed needs the capability that would allow them. Empty
    /// when the learned policy keeps the default check.
    pub fn learned_policy_needs_warn(&self) -> Vec<String> {
        let denials = lock(&self.sink.core.denials).clone();
        self.unusable_imports(&learned_within(learn_policy(&self.events()), &denials))
    }

    /// The plugin's imports that `policy` can never allow.
    fn unusable_imports(&self, policy: &SecurityPolicy) -> Vec<String> {
        let Ok(compiled) = crate::policy::Compiled::new(policy) else {
            // Learned paths that no longer exist: the imports cannot be
            // judged, so keep the check that loads the plugin.
            return lock(&self.sink.core.imports).to_vec();
        };
        lock(&self.sink.core.imports)
            .iter()
            .filter(|import| compiled.needed_capability(import).is_some())
            .cloned()
            .collect()
    }
}

/// The least-privilege policy that would have allowed exactly the allowed
/// operations in `events` (files by exact path, hosts by the names looked
/// up or the addresses reached, ports by number, variables, programs and
/// host interfaces by name). Its import check is the default,
/// [`ImportCheck::Deny`](crate::ImportCheck::Deny): events do not say what
/// the plugin imports. [`AuditLog::learned_policy`], which knows, relaxes
/// it to `Warn` when the plugin would not load otherwise.
pub fn learn_policy(events: &[AuditEvent]) -> SecurityPolicy {
    let mut read: BTreeSet<PathBuf> = BTreeSet::new();
    let mut write: BTreeSet<PathBuf> = BTreeSet::new();
    // host -> ports
    let mut net: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    let mut looked_up: BTreeSet<String> = BTreeSet::new();
    let mut env: BTreeSet<String> = BTreeSet::new();
    let mut programs: BTreeSet<String> = BTreeSet::new();
    let mut custom: BTreeSet<String> = BTreeSet::new();
    for e in events.iter().filter(|e| e.decision == Decision::Allowed) {
        match e.capability {
            CapabilityKind::FileRead => {
                read.insert(PathBuf::from(&e.target));
            }
            CapabilityKind::FileWrite => {
                for t in e.target.split(" -> ") {
                    write.insert(PathBuf::from(t));
                }
            }
            CapabilityKind::Network if e.operation == "http-response" => {}
            CapabilityKind::Network if e.operation == "http-request" => {
                // `GET http://host:port/path`
                if let Some((host, port)) = e
                    .target
                    .split_once("://")
                    .and_then(|(_, rest)| rest.split('/').next())
                    .and_then(|authority| authority.rsplit_once(':'))
                    && let Ok(port) = port.parse::<u16>()
                {
                    net.entry(host.trim_matches(['[', ']']).to_string())
                        .or_default()
                        .insert(port);
                }
            }
            CapabilityKind::Network => {
                if e.operation == "dns-lookup" {
                    looked_up.insert(e.target.clone());
                } else if let Some((host, port)) = e.target.rsplit_once(':')
                    && let Ok(port) = port.parse::<u16>()
                {
                    // The rule names the host (or granted name) that matched.
                    let host = e
                        .rule
                        .strip_prefix("resolved from ")
                        .map(str::to_string)
                        .unwrap_or_else(|| host.trim_matches(['[', ']']).to_string());
                    net.entry(host).or_default().insert(port);
                }
            }
            CapabilityKind::Environment if e.operation == "env-read" => {
                env.insert(e.target.clone());
            }
            CapabilityKind::Process => {
                programs.insert(e.target.split(' ').next().unwrap_or("").to_string());
            }
            CapabilityKind::Custom => {
                custom.insert(e.target.split('#').next().unwrap_or("").to_string());
            }
            _ => {}
        }
    }
    let mut policy = SecurityPolicy::strict();
    for p in &write {
        policy = policy.allow(Capability::FileWrite(p.clone()));
    }
    for p in read
        .iter()
        .filter(|p| !write.iter().any(|w| p.starts_with(w)))
    {
        policy = policy.allow(Capability::FileRead(p.clone()));
    }
    // Names that were looked up but never connected to still need a grant
    // for the lookup itself.
    for name in &looked_up {
        net.entry(name.clone()).or_default();
    }
    let mut by_ports: BTreeMap<Vec<u16>, Vec<String>> = BTreeMap::new();
    for (host, ports) in net {
        by_ports
            .entry(ports.into_iter().collect())
            .or_default()
            .push(host);
    }
    for (ports, hosts) in by_ports {
        let allowed_ports = if ports.is_empty() {
            // A lookup alone: grant the name with no usable port range other
            // than what a connection would need; port 0 is never connectable.
            vec![PortRange::single(0)]
        } else {
            ports.into_iter().map(PortRange::single).collect()
        };
        policy = policy.allow(Capability::NetworkAccess {
            allowed_hosts: hosts,
            allowed_ports,
            allowed_schemes: Vec::new(),
        });
    }
    if !env.is_empty() {
        policy = policy.allow(Capability::EnvironmentRead(env.into_iter().collect()));
    }
    if !programs.is_empty() {
        policy = policy.allow(Capability::ProcessSpawn(programs.into_iter().collect()));
    }
    for c in custom {
        policy = policy.allow(Capability::Custom(c));
    }
    policy
}

/// `learned` without the grants that `denials` wholly cover, and with
/// `denials` added.
fn learned_within(learned: SecurityPolicy, denials: &[Capability]) -> SecurityPolicy {
    if denials.is_empty() {
        return learned;
    }
    let mut policy = SecurityPolicy::strict().import_check(learned.imports());
    for grant in learned.grants() {
        if !denials.iter().any(|d| crate::policy::covers(d, grant)) {
            policy = policy.allow(grant.clone());
        }
    }
    for denial in denials {
        policy = policy.deny(denial.clone());
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_764_072_000_123);
        assert_eq!(rfc3339(t), "2025-11-25T12:00:00.123Z");
        let leap = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn the_ring_keeps_the_last_events_and_captures_per_call() {
        let config = AuditConfig {
            enabled: true,
            capacity: 3,
            file: None,
            required: false,
        };
        let sink = AuditSink::new("p".into(), &config).unwrap();
        sink.set_export_names(vec!["run".to_string()]);
        for i in 0..5 {
            sink.record(
                CapabilityKind::FileRead,
                "open",
                format!("/f{i}"),
                &Verdict::allow("allow FileRead(/)"),
            );
        }
        let targets: Vec<String> = sink.events().into_iter().map(|e| e.target).collect();
        assert_eq!(targets, ["/f2", "/f3", "/f4"]);

        sink.begin_call(0);
        sink.start_capture();
        sink.record(
            CapabilityKind::Network,
            "connect",
            "1.2.3.4:80",
            &Verdict::deny("no grant"),
        );
        let audit = sink.finish_capture();
        sink.end_call();
        assert_eq!(audit.events.len(), 1);
        assert_eq!(audit.violations.len(), 1);
        assert_eq!(audit.events[0].call.as_deref(), Some("run"));
    }

    #[test]
    fn plugin_text_cannot_forge_a_line_in_the_text_form() {
        let event = AuditEvent {
            time: "2026-01-01T00:00:00.000Z".to_string(),
            sandbox_id: 1,
            plugin: "p".to_string(),
            call: None,
            capability: CapabilityKind::FileRead,
            operation: "open".to_string(),
            target: "/x\naudit: 2026-01-01T00:00:00.000Z allowed file-read open /etc/shadow (ok)\u{1b}[1A\\\r\t\u{85}\u{202e}é"
                .to_string(),
            decision: Decision::Denied,
            rule: "no grant\n".to_string(),
        };
        let text = event.to_string();
        assert!(
            !text.contains(['\n', '\r', '\u{1b}', '\u{85}', '\u{202e}']),
            "{text}"
        );
        assert_eq!(
            text,
            "2026-01-01T00:00:00.000Z DENIED file-read open /x\\naudit: 2026-01-01T00:00:00.000Z \
             allowed file-read open /etc/shadow (ok)\\x1b[1A\\\\\\r\\t\\u{85}\\u{202e}é (no grant\\n)"
        );
        // The structured forms keep the real text.
        let json = serde_json::to_string(&event).unwrap();
        let back: AuditEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        assert_eq!(
            Escaped("plain /srv/a b.txt").to_string(),
            "plain /srv/a b.txt"
        );
    }

    #[test]
    fn refusals_during_a_call_are_remembered_first_one_first() {
        let sink = AuditSink::new("p".into(), &AuditConfig::default()).unwrap();
        sink.set_export_names(vec!["run".to_string()]);
        // Outside a call, and limits: not a refusal of the plugin's.
        sink.record(CapabilityKind::Process, "spawn", "sh", &Verdict::deny("no"));
        sink.begin_call(0);
        assert_eq!(sink.first_refusal(), None);
        sink.record(
            CapabilityKind::Limit,
            "limit",
            "log-output",
            &Verdict::deny("x"),
        );
        sink.record(
            CapabilityKind::FileRead,
            "open",
            "/a",
            &Verdict::allow("ok"),
        );
        assert_eq!(sink.first_refusal(), None);
        sink.record(
            CapabilityKind::Environment,
            "env-read",
            "HOME",
            &Verdict::deny("r1"),
        );
        sink.record(CapabilityKind::Process, "spawn", "sh", &Verdict::deny("r2"));
        assert_eq!(
            sink.first_refusal(),
            Some((
                CapabilityKind::Environment,
                "HOME".to_string(),
                "r1".to_string()
            ))
        );
        sink.end_call();
        sink.begin_call(0);
        assert_eq!(sink.first_refusal(), None);
    }

    #[test]
    fn a_learned_policy_keeps_the_denials_and_drops_what_they_cover() {
        let learned = SecurityPolicy::strict()
            .import_check(crate::policy::ImportCheck::Warn)
            .allow(Capability::FileRead("/srv/data".into()))
            .allow(Capability::FileRead("/srv/data/secrets/key".into()))
            .allow(Capability::ProcessSpawn(vec!["echo".into()]));
        let denials = [
            Capability::FileRead("/srv/data/secrets".into()),
            Capability::ProcessSpawn(vec!["sh".into()]),
        ];
        let policy = learned_within(learned, &denials);
        assert_eq!(
            policy.grants(),
            [
                Capability::FileRead("/srv/data".into()),
                Capability::ProcessSpawn(vec!["echo".into()]),
            ]
        );
        assert_eq!(policy.denials(), denials);
        assert_eq!(policy.imports(), crate::policy::ImportCheck::Warn);
    }

    #[test]
    fn disabled_audit_records_nothing() {
        let config = AuditConfig {
            enabled: false,
            ..AuditConfig::default()
        };
        let sink = AuditSink::new("p".into(), &config).unwrap();
        sink.record(CapabilityKind::FileRead, "open", "/x", &Verdict::deny("no"));
        assert!(sink.events().is_empty());
    }
}
