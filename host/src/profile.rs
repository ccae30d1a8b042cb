//! Guest profiling: sampled guest stacks for the Firefox Profiler, and a
//! summary of where a sandbox's time went.
//!
//! Samples are taken by wasmtime's [`GuestProfiler`] from the epoch
//! callback, which the deadline ticker drives every 10 ms: the same tick
//! that enforces deadlines, so profiling adds no timer of its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wasmtime::GuestProfiler;
use wasmtime::component::Component;

use crate::deadline::TICK;
use crate::error::{Error, Result};

/// Turns on profiling for a sandbox or pool; see
/// [`SandboxBuilder::profiler`](crate::SandboxBuilder::profiler).
///
/// ```no_run
/// use wasm_sandbox::ProfileConfig;
///
/// let config = ProfileConfig::new().output("plugin-profile.json");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileConfig {
    /// Where to write the sampled profile (Firefox Profiler JSON). `None`:
    /// no sampling, only the [`ProfileReport`] counters.
    pub output: Option<PathBuf>,
}

impl ProfileConfig {
    /// Counters only: no samples, no file.
    pub fn new() -> Self {
        ProfileConfig::default()
    }

    /// Samples guest stacks and writes them to `path` (see
    /// [`WasmSandbox::write_profile`](crate::Plugin::write_profile)).
    pub fn output(mut self, path: impl Into<PathBuf>) -> Self {
        self.output = Some(path.into());
        self
    }
}

/// Where a profiled sandbox's time went, since it was built; from
/// [`WasmSandbox::profile_report`](crate::Plugin::profile_report).
///
/// Its `Display` is a small table:
///
/// ```text
/// guest time 182.4ms in 12 calls, peak linear memory 1.1 MiB, 18 samples
///   calls   time      export
///       2   181.9ms   plugin#fib
///      10   0.5ms     plugin#add-one
///   host calls   interface
///           10   sandbox:host/logging
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileReport {
    /// Wall time spent inside calls to the plugin (guest code and the host
    /// functions it called), summed over all calls.
    pub guest_time: Duration,
    /// The most linear memory any instance had during a call, in bytes.
    pub peak_memory: usize,
    /// Calls per export (by its full name), with their total time.
    pub calls: BTreeMap<String, ExportCalls>,
    /// Calls the plugin made into the host, per interface:
    /// `sandbox:host/logging`, `sandbox:host/config`, ..., each app host
    /// interface by name, and `wasi` for all WASI interfaces together
    /// (WASI calls are counted where wasmtime-wasi hands out its context,
    /// which does not say which interface asked).
    pub host_calls: BTreeMap<String, u64>,
    /// Stack samples taken (0 without an [`output`](ProfileConfig::output)).
    pub samples: u64,
}

/// How often one export was called and how long it took, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportCalls {
    /// Number of calls, failed ones included.
    pub count: u64,
    /// Their total wall time.
    pub time: Duration,
}

impl std::fmt::Display for ProfileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count: u64 = self.calls.values().map(|c| c.count).sum();
        writeln!(
            f,
            "guest time {:.1?} in {count} calls, peak linear memory {:.1} MiB, {} samples",
            self.guest_time,
            self.peak_memory as f64 / (1024.0 * 1024.0),
            self.samples
        )?;
        let mut by_time: Vec<_> = self.calls.iter().collect();
        by_time.sort_by(|a, b| b.1.time.cmp(&a.1.time).then(a.0.cmp(b.0)));
        writeln!(f, "  calls   time      export")?;
        for (name, calls) in by_time {
            let time = format!("{:.1?}", calls.time);
            writeln!(f, "  {:>5}   {time:<9} {name}", calls.count)?;
        }
        if !self.host_calls.is_empty() {
            writeln!(f, "  host calls   interface")?;
            for (interface, n) in &self.host_calls {
                writeln!(f, "  {n:>10}   {interface}")?;
            }
        }
        Ok(())
    }
}

/// A sandbox's (or pool's) profiler, shared by all its instances.
pub(crate) struct Profiler {
    output: Option<PathBuf>,
    name: String,
    engine: wasmtime::Engine,
    component: Component,
    export_names: Vec<String>,
    sampler: Mutex<Option<Sampler>>,
    report: Mutex<ProfileReport>,
}

struct Sampler {
    guest: GuestProfiler,
    last: Instant,
    /// Samples not yet written.
    pending: u64,
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiler")
            .field("output", &self.output)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Profiler {
    pub(crate) fn new(
        config: &ProfileConfig,
        name: &str,
        engine: &wasmtime::Engine,
        component: &Component,
        export_names: Vec<String>,
    ) -> Result<Profiler> {
        let profiler = Profiler {
            output: config.output.clone(),
            name: name.to_string(),
            engine: engine.clone(),
            component: component.clone(),
            export_names,
            sampler: Mutex::new(None),
            report: Mutex::new(ProfileReport::default()),
        };
        if profiler.output.is_some() {
            *lock(&profiler.sampler) = Some(profiler.new_sampler()?);
        }
        Ok(profiler)
    }

    fn new_sampler(&self) -> Result<Sampler> {
        let guest = GuestProfiler::new_component(
            &self.engine,
            &self.name,
            TICK,
            self.component.clone(),
            std::iter::empty(),
        )
        .map_err(|e| Error::Config {
            detail: format!("could not start the guest profiler: {e:#}"),
        })?;
        Ok(Sampler {
            guest,
            last: Instant::now(),
            pending: 0,
        })
    }

    /// Whether stacks are sampled (an output file is set).
    pub(crate) fn samples(&self) -> bool {
        self.output.is_some()
    }

    /// Takes one stack sample of the guest running in `store`.
    pub(crate) fn sample(&self, store: impl wasmtime::AsContext) {
        if let Some(sampler) = lock(&self.sampler).as_mut() {
            let now = Instant::now();
            sampler.guest.sample(store, now - sampler.last);
            sampler.last = now;
            sampler.pending += 1;
            lock(&self.report).samples += 1;
        }
    }

    /// Records one finished call of the export at `position`.
    pub(crate) fn record_call(&self, position: usize, time: Duration, peak_memory: usize) {
        let mut report = lock(&self.report);
        report.guest_time += time;
        report.peak_memory = report.peak_memory.max(peak_memory);
        let name = self.export_names.get(position).map_or("?", String::as_str);
        let entry = match report.calls.get_mut(name) {
            Some(entry) => entry,
            None => report.calls.entry(name.to_string()).or_default(),
        };
        entry.count += 1;
        entry.time += time;
    }

    /// Counts one call from the plugin into `interface`.
    pub(crate) fn count_host_call(&self, interface: &str) {
        let mut report = lock(&self.report);
        match report.host_calls.get_mut(interface) {
            Some(n) => *n += 1,
            None => {
                report.host_calls.insert(interface.to_string(), 1);
            }
        }
    }

    pub(crate) fn report(&self) -> ProfileReport {
        lock(&self.report).clone()
    }

    /// Writes the samples taken since the last write to the output file and
    /// starts a new profile; with none, a file written before is left as it
    /// is. Returns the path, or `None` without an output.
    pub(crate) fn write(&self) -> Result<Option<PathBuf>> {
        let Some(path) = &self.output else {
            return Ok(None);
        };
        let mut sampler = lock(&self.sampler);
        if sampler.as_ref().is_some_and(|s| s.pending == 0) && path.exists() {
            // Nothing new since the last write: the file is complete.
            return Ok(Some(path.clone()));
        }
        let old = sampler.replace(self.new_sampler()?);
        drop(sampler);
        if let Some(old) = old {
            write_profile(old.guest, path)?;
        }
        Ok(Some(path.clone()))
    }
}

fn write_profile(guest: GuestProfiler, path: &Path) -> Result<()> {
    let io = |source: std::io::Error| Error::Config {
        detail: format!(
            "could not write the profile to `{}`: {source}; check that its directory exists and is writable",
            path.display()
        ),
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    guest.finish(&mut out).map_err(|e| Error::Config {
        detail: format!("could not write the profile to `{}`: {e:#}", path.display()),
    })?;
    std::io::Write::flush(&mut out).map_err(io)
}

impl Drop for Profiler {
    /// Writes what was sampled since the last write, so a profile is never
    /// lost by forgetting to call `write_profile`.
    fn drop(&mut self) {
        let sampler = lock(&self.sampler).take();
        if let (Some(path), Some(sampler)) = (&self.output, sampler)
            && sampler.pending > 0
            && let Err(e) = write_profile(sampler.guest, path)
        {
            tracing::warn!(target: "wasm_sandbox", "{e}");
        }
    }
}
