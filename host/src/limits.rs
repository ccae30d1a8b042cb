//! Resource limits: what a plugin may consume, what happens when it tries to
//! consume more, and the per-call report of what it did consume.

use std::fmt;
use std::time::Duration;

use crate::error::Limit;

use serde::{Deserialize, Serialize};

/// The resource limits of a sandbox. Every field has a default that is safe
/// for untrusted code; set them on the builder
/// ([`SandboxBuilder::memory_limit`](crate::SandboxBuilder::memory_limit) and
/// friends), all at once with
/// [`SandboxBuilder::resource_limits`](crate::SandboxBuilder::resource_limits),
/// or in the `[limits]` table of a policy file.
///
/// ```
/// # fn main() -> wasm_sandbox::Result<()> {
/// let policy = wasm_sandbox::SecurityPolicy::from_toml(r#"
///     [limits]
///     memory = 16777216          # bytes
///     cpu_timeout_ms = 500
///     fuel = 100000000
/// "#)?;
/// assert_eq!(policy.limits().unwrap().memory, Some(16 * 1024 * 1024));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ResourceLimits {
    /// Linear memory, in bytes, summed over every memory of the instance.
    /// Default [`ResourceLimits::DEFAULT_MEMORY`] (64 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<usize>,
    /// Wall-clock time per call, in milliseconds. Default 10 000 (10 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_timeout_ms: Option<u64>,
    /// A deterministic instruction budget per call (wasmtime fuel units).
    /// Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Guest stack, in bytes. Default 512 KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stack: Option<usize>,
    /// Elements per table. Default 100 000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_elements: Option<usize>,
    /// Core instances, memories and tables each. Default 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<usize>,
    /// Bytes of log and stderr output per call; the rest is dropped.
    /// Default 1 MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_output: Option<usize>,
    /// Bytes of a value returned to `call_dynamic`. Default 16 MiB. (Typed
    /// results are bounded by `memory`: a value must fit in the plugin's
    /// memory to be returned at all.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output: Option<usize>,
    /// Bytes of an outbound HTTP request's body. Default 1 MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_request_bytes: Option<u64>,
    /// Bytes of an outbound HTTP response's body. Default 16 MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_response_bytes: Option<u64>,
    /// Milliseconds an outbound HTTP request may take to connect, to its
    /// first response byte, and between body bytes; a request past it fails
    /// in the plugin with a timeout error. Default 30 000. It never extends
    /// the call's own deadline (`cpu_timeout_ms`), which ends the call
    /// whatever it is waiting for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_timeout_ms: Option<u64>,
}

impl ResourceLimits {
    /// Default memory limit: 64 MiB.
    pub const DEFAULT_MEMORY: usize = 64 * 1024 * 1024;
    /// Default time limit per call: 10 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default guest stack: 512 KiB.
    pub const DEFAULT_STACK: usize = 512 * 1024;
    /// Default table size: 100 000 elements.
    pub const DEFAULT_TABLE_ELEMENTS: usize = 100_000;
    /// Default count of instances, memories and tables: 100 each.
    pub const DEFAULT_INSTANCES: usize = 100;
    /// Default log output per call: 1 MiB.
    pub const DEFAULT_LOG_OUTPUT: usize = 1024 * 1024;
    /// Default size of a dynamic call's result: 16 MiB.
    pub const DEFAULT_MAX_OUTPUT: usize = 16 * 1024 * 1024;
    /// Default size of an outbound HTTP request body: 1 MiB.
    pub const DEFAULT_HTTP_REQUEST_BYTES: u64 = 1024 * 1024;
    /// Default size of an outbound HTTP response body: 16 MiB.
    pub const DEFAULT_HTTP_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
    /// Default outbound HTTP timeout: 30 s.
    pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

    /// The tightest limits, used by [`SecurityPolicy::paranoid`](crate::SecurityPolicy::paranoid):
    /// 16 MiB of memory, 1 s per call, 64 KiB of stack, 10 000 table
    /// elements, 10 instances, 64 KiB of log output and 1 MiB of result.
    pub fn tight() -> ResourceLimits {
        ResourceLimits {
            memory: Some(16 * 1024 * 1024),
            cpu_timeout_ms: Some(1000),
            fuel: None,
            max_stack: Some(64 * 1024),
            table_elements: Some(10_000),
            instances: Some(10),
            log_output: Some(64 * 1024),
            max_output: Some(1024 * 1024),
            http_request_bytes: Some(64 * 1024),
            http_response_bytes: Some(1024 * 1024),
            http_timeout_ms: Some(1000),
        }
    }

    /// The smallest guest stack: 4 KiB.
    pub const MIN_STACK: usize = 4 * 1024;
    /// The largest guest stack: 256 MiB. (Each instance's fiber stack is
    /// this plus 1 MiB, reserved up front.)
    pub const MAX_STACK: usize = 256 * 1024 * 1024;
    /// The longest time limit, per call or per HTTP request: 30 days, in
    /// milliseconds.
    pub const MAX_TIMEOUT_MS: u64 = 30 * 24 * 60 * 60 * 1000;

    /// Checks every field that is set against its documented range:
    ///
    /// | field | range |
    /// |---|---|
    /// | `memory` | at least 1 (a limit below one 64 KiB page lets no memory grow) |
    /// | `cpu_timeout_ms`, `http_timeout_ms` | 1 to [`MAX_TIMEOUT_MS`](Self::MAX_TIMEOUT_MS) (30 days) |
    /// | `fuel` | at least 1 |
    /// | `max_stack` | [`MIN_STACK`](Self::MIN_STACK) (4 KiB) to [`MAX_STACK`](Self::MAX_STACK) (256 MiB) |
    /// | `table_elements`, `instances`, `max_output` | at least 1 |
    /// | `log_output`, `http_request_bytes`, `http_response_bytes` | any (0 allows no bytes) |
    ///
    /// [`SecurityPolicy::from_toml`](crate::SecurityPolicy::from_toml) and
    /// friends check a policy's `[limits]` when they read it, and
    /// [`SandboxBuilder::build`](crate::SandboxBuilder::build) checks the
    /// limits it ends up with, so a zero or overflowing value is never
    /// silently replaced by something else.
    ///
    /// # Errors
    ///
    /// [`Error::Policy`](crate::Error::Policy) naming the first field out of
    /// range, its value and its range.
    pub fn validate(&self) -> crate::Result<()> {
        fn check<T: PartialOrd + fmt::Display + Copy>(
            key: &str,
            value: Option<T>,
            min: T,
            max: Option<T>,
            range: &str,
        ) -> crate::Result<()> {
            match value {
                Some(v) if v < min || max.is_some_and(|m| v > m) => Err(crate::Error::Policy {
                    detail: format!(
                        "limit `{key}` = {v} is out of range: it must be {range}; \
                         fix the value, or leave `{key}` out for the default"
                    ),
                }),
                _ => Ok(()),
            }
        }
        check("memory", self.memory, 1, None, "at least 1")?;
        check(
            "cpu_timeout_ms",
            self.cpu_timeout_ms,
            1,
            Some(Self::MAX_TIMEOUT_MS),
            "from 1 to 2592000000 (30 days)",
        )?;
        check("fuel", self.fuel, 1, None, "at least 1")?;
        check(
            "max_stack",
            self.max_stack,
            Self::MIN_STACK,
            Some(Self::MAX_STACK),
            "from 4096 (4 KiB) to 268435456 (256 MiB)",
        )?;
        check("table_elements", self.table_elements, 1, None, "at least 1")?;
        check("instances", self.instances, 1, None, "at least 1")?;
        check("max_output", self.max_output, 1, None, "at least 1")?;
        check(
            "http_timeout_ms",
            self.http_timeout_ms,
            1,
            Some(Self::MAX_TIMEOUT_MS),
            "from 1 to 2592000000 (30 days)",
        )?;
        Ok(())
    }

    /// `self`, with every field that is unset taken from `other`.
    pub(crate) fn or(&self, other: &ResourceLimits) -> ResourceLimits {
        ResourceLimits {
            memory: self.memory.or(other.memory),
            cpu_timeout_ms: self.cpu_timeout_ms.or(other.cpu_timeout_ms),
            fuel: self.fuel.or(other.fuel),
            max_stack: self.max_stack.or(other.max_stack),
            table_elements: self.table_elements.or(other.table_elements),
            instances: self.instances.or(other.instances),
            log_output: self.log_output.or(other.log_output),
            max_output: self.max_output.or(other.max_output),
            http_request_bytes: self.http_request_bytes.or(other.http_request_bytes),
            http_response_bytes: self.http_response_bytes.or(other.http_response_bytes),
            http_timeout_ms: self.http_timeout_ms.or(other.http_timeout_ms),
        }
    }

    pub(crate) fn resolve(&self) -> Effective {
        Effective {
            memory: self.memory.unwrap_or(Self::DEFAULT_MEMORY),
            timeout: self
                .cpu_timeout_ms
                .map_or(Self::DEFAULT_TIMEOUT, Duration::from_millis),
            fuel: self.fuel,
            stack: self.max_stack.unwrap_or(Self::DEFAULT_STACK),
            table_elements: self.table_elements.unwrap_or(Self::DEFAULT_TABLE_ELEMENTS),
            instances: self.instances.unwrap_or(Self::DEFAULT_INSTANCES),
            log_output: self.log_output.unwrap_or(Self::DEFAULT_LOG_OUTPUT),
            max_output: self.max_output.unwrap_or(Self::DEFAULT_MAX_OUTPUT),
            http: HttpLimits {
                request_bytes: self
                    .http_request_bytes
                    .unwrap_or(Self::DEFAULT_HTTP_REQUEST_BYTES),
                response_bytes: self
                    .http_response_bytes
                    .unwrap_or(Self::DEFAULT_HTTP_RESPONSE_BYTES),
                timeout: self
                    .http_timeout_ms
                    .map_or(Self::DEFAULT_HTTP_TIMEOUT, Duration::from_millis),
            },
        }
    }
}

/// The HTTP limits in force for an instance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpLimits {
    pub(crate) request_bytes: u64,
    pub(crate) response_bytes: u64,
    pub(crate) timeout: Duration,
}

/// The limits in force, defaults filled in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Effective {
    pub(crate) memory: usize,
    pub(crate) timeout: Duration,
    pub(crate) fuel: Option<u64>,
    pub(crate) stack: usize,
    pub(crate) table_elements: usize,
    pub(crate) instances: usize,
    pub(crate) log_output: usize,
    pub(crate) max_output: usize,
    pub(crate) http: HttpLimits,
}

/// What one call consumed, from
/// [`WasmSandbox::call_with_report`](crate::Plugin::call_with_report).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallReport {
    /// Wall-clock time of the call, including waiting for the instance.
    pub wall_time: Duration,
    /// Fuel units consumed, when a fuel budget is set.
    pub fuel_consumed: Option<u64>,
    /// The largest total linear memory during the call, in bytes.
    pub peak_memory: usize,
    /// Calls from the plugin into the host (WASI, logging, host interfaces).
    pub host_calls: u64,
    /// What the plugin logged during the call, in order: its `log` calls
    /// (`wasm_sandbox_guest::log`, `sandbox:host/logging`) and the lines it
    /// wrote to stderr, within the call's
    /// [`log_output`](crate::SandboxBuilder::log_output_limit) budget. The same
    /// lines are also `tracing` events with target `wasm_sandbox::guest`.
    pub logs: Vec<LogLine>,
}

/// One line a plugin logged during a call (see [`CallReport::logs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogLine {
    /// Its level: the level the plugin gave `log`, or `Warn` for a line of
    /// stderr.
    pub level: LogLevel,
    /// Whether it came from `log` or from stderr.
    pub source: LogSource,
    /// The text, as the plugin wrote it (cut past 16 KiB for `log`, 4 KiB
    /// for a line of stderr).
    pub message: String,
}

/// The level of a [`LogLine`], as in `tracing` and `log`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// For debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected; every line of stderr.
    Warn,
    /// A failure.
    Error,
}

/// Where a [`LogLine`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogSource {
    /// The plugin's `log` calls (`sandbox:host/logging`).
    Log,
    /// A line the plugin wrote to stderr.
    Stderr,
}

/// A limit hit recorded by the limiter, turned into the call's error.
#[derive(Debug)]
pub(crate) struct LimitHit(pub(crate) Limit);

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "resource limit exceeded: {}", self.0)
    }
}

impl std::error::Error for LimitHit {}

/// The `wasmtime::ResourceLimiter` of an instance: counts memory over all
/// memories, remembers the peak, and refuses growth past the limits with an
/// error that names the limit.
#[derive(Debug)]
pub(crate) struct Limiter {
    pub(crate) memory_limit: usize,
    pub(crate) table_limit: usize,
    pub(crate) instance_limit: usize,
    /// Bytes of linear memory over all memories.
    pub(crate) total: usize,
    pub(crate) peak: usize,
}

impl Limiter {
    pub(crate) fn new(limits: &Effective) -> Limiter {
        Limiter {
            memory_limit: limits.memory,
            table_limit: limits.table_elements,
            instance_limit: limits.instances,
            total: 0,
            peak: 0,
        }
    }

    /// Starts a call's peak measurement at the current size.
    pub(crate) fn reset_peak(&mut self) {
        self.peak = self.total;
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total - current.min(self.total) + desired;
        if total > self.memory_limit {
            return Err(wasmtime::Error::new(LimitHit(Limit::Memory {
                requested: total,
                allowed: self.memory_limit,
            })));
        }
        self.total = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_limit {
            return Err(wasmtime::Error::new(LimitHit(Limit::Table {
                requested: desired,
                allowed: self.table_limit,
            })));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instance_limit
    }

    fn tables(&self) -> usize {
        self.instance_limit
    }

    fn memories(&self) -> usize {
        self.instance_limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::bytes;
    use wasmtime::ResourceLimiter as _;

    #[test]
    fn memory_is_counted_over_all_memories() {
        let mut l = Limiter::new(
            &ResourceLimits {
                memory: Some(100),
                ..ResourceLimits::default()
            }
            .resolve(),
        );
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(0, 30, None).unwrap());
        assert_eq!(l.total, 90);
        let err = l.memory_growing(30, 50, None).unwrap_err();
        let hit = err.downcast_ref::<LimitHit>().unwrap();
        assert_eq!(
            hit.0,
            Limit::Memory {
                requested: 110,
                allowed: 100
            }
        );
        assert_eq!(l.peak, 90);
        l.reset_peak();
        assert_eq!(l.peak, 90);
    }

    #[test]
    fn limits_fall_back_field_by_field() {
        let mine = ResourceLimits {
            memory: Some(1),
            ..ResourceLimits::default()
        };
        let merged = mine.or(&ResourceLimits::tight());
        assert_eq!(merged.memory, Some(1));
        assert_eq!(merged.cpu_timeout_ms, Some(1000));
        let e = ResourceLimits::default().resolve();
        assert_eq!(e.memory, ResourceLimits::DEFAULT_MEMORY);
        assert_eq!(e.timeout, ResourceLimits::DEFAULT_TIMEOUT);
        assert!(e.fuel.is_none());
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(64 * 1024 * 1024), "64.0 MiB");
    }
}
