//! [`SandboxBuilder`]: the settings of a plugin, and the pipeline that turns
//! them into a compiled, linked plugin (read, check, compile through the
//! cache, link the host's interfaces and guards, check the imports against
//! the policy).

pub(crate) mod async_abi;
pub(crate) mod counts;
pub(crate) mod loader;
pub(crate) mod sync;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Linker;

use crate::audit::{AuditConfig, AuditSink, CapabilityKind, Decision};
use crate::cache::CompileCache;
use crate::engine::{Engine, EngineConfig, Interruption, OptimizationLevel, PoolingConfig};
use crate::error::{Error, Result};
use crate::guard::host::{self, HostInterface};
use crate::guard::store::HostState;
use crate::limits::{Effective, ResourceLimits};
use crate::plugin::exports::Exports;
use crate::plugin::instance::InstanceSetup;
use crate::plugin::instances::Instances;
use crate::plugin::{Linked, Plugin};
use crate::policy::{Compiled, ImportCheck, SecurityPolicy, ViolationAction};
use crate::profile::{ProfileConfig, Profiler};
use crate::read::InputLimits;
use crate::sandbox::WasmSandbox;
use loader::Source;

/// Builds a [`WasmSandbox`]; created by [`WasmSandbox::builder`].
///
/// # Example
///
/// ```no_run
/// # async fn run() -> wasm_sandbox::Result<()> {
/// use wasm_sandbox::WasmSandbox;
///
/// let sandbox = WasmSandbox::builder()
///     .source("plugins/greeter.wasm")
///     .build()
///     .await?;
/// let text: String = sandbox.call("greet", ("world",)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct SandboxBuilder {
    source: Option<Source>,
    engine: Option<Engine>,
    name: Option<String>,
    host_interfaces: Vec<HostInterface>,
    config: BTreeMap<String, String>,
    policy: SecurityPolicy,
    audit: AuditConfig,
    limits: ResourceLimits,
    engine_config: Option<EngineConfig>,
    optimization: Option<OptimizationLevel>,
    parallel_compilation: Option<bool>,
    pooling: Option<bool>,
    cache: CacheSetting,
    fresh_instance_per_call: bool,
    profile: Option<ProfileConfig>,
    on_violation: Option<ViolationAction>,
    input_limits: InputLimits,
    /// `synchronous_calls`: `Some(true)` requires the synchronous path,
    /// `Some(false)` refuses it, `None` takes it when `prefer_synchronous`.
    synchronous: Option<bool>,
    /// The component model's async ABI: `None` turns wasmtime's support on
    /// for plugins that use it, `Some(true)` always, `Some(false)` never.
    component_model_async: Option<bool>,
    /// Take the synchronous path when the plugin can (a
    /// [`BlockingSandbox`](crate::BlockingSandbox)), else the async one.
    pub(crate) prefer_synchronous: bool,
}

/// Where compiled components are cached.
#[derive(Clone, Debug, Default)]
enum CacheSetting {
    /// [`CompileCache::default_dir`].
    #[default]
    Default,
    /// No cache.
    Off,
    /// A directory chosen by the user.
    Dir(PathBuf),
}

impl SandboxBuilder {
    /// Loads the plugin from a file: a component binary (`.wasm`), or the
    /// WebAssembly text format (`.wat`).
    ///
    /// Replaces any earlier `source` or `bytes`.
    pub fn source(mut self, path: impl Into<PathBuf>) -> Self {
        self.source = Some(Source::Path(path.into()));
        self
    }

    /// Loads the plugin from bytes in memory: a component binary, or the
    /// WebAssembly text format.
    ///
    /// Replaces any earlier `source` or `bytes`.
    pub fn bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.source = Some(Source::Bytes(Arc::from(bytes.into())));
        self
    }

    /// Loads a plugin precompiled by [`precompile`](crate::precompile) (or
    /// by `wasm-sandbox compile -o DIR`): no compilation at all, which makes
    /// the first start of a process fast.
    ///
    /// The artifact is checked before use: its header, length and checksum,
    /// and that it was made by this version of wasm-sandbox with the same
    /// engine settings ([`Error::InvalidArtifact`] says which check failed).
    /// These checks catch accidents, not attackers: an artifact is machine
    /// code that runs as is, so **only load artifacts this host made**, from
    /// a place only the host's own user can write to, exactly as you would
    /// treat the host's own binary.
    ///
    /// Replaces any earlier `source` or `bytes`.
    pub fn precompiled(mut self, path: impl Into<PathBuf>) -> Self {
        self.source = Some(Source::Precompiled(path.into()));
        self
    }

    /// The largest plugin file [`source`](Self::source) reads, in bytes.
    /// A larger file, and anything that is not a regular file (a directory,
    /// `/dev/zero`, a FIFO), is refused before it is read, with
    /// [`Error::InputTooLarge`] or [`Error::NotARegularFile`].
    ///
    /// By default 256 MiB.
    pub fn max_plugin_bytes(mut self, bytes: u64) -> Self {
        self.input_limits.plugin_bytes = bytes;
        self
    }

    /// The largest precompiled artifact [`precompiled`](Self::precompiled)
    /// reads, and the largest compile cache entry read, in bytes. A larger
    /// artifact is refused with [`Error::InputTooLarge`] before it is read;
    /// a larger cache entry is replaced by a fresh compilation.
    ///
    /// By default 1 GiB.
    pub fn max_artifact_bytes(mut self, bytes: u64) -> Self {
        self.input_limits.artifact_bytes = bytes;
        self
    }

    /// Compiles and runs the plugin on `engine` instead of the process-wide
    /// [`Engine::shared`].
    ///
    /// By default the shared engine is used.
    pub fn engine(mut self, engine: &Engine) -> Self {
        self.engine = Some(engine.clone());
        self
    }

    /// The plugin's name in logs and errors.
    ///
    /// By default it is the file stem of the [`source`](Self::source) path
    /// (`greeter` for `plugins/greeter.wasm`), or `plugin` for
    /// [`bytes`](Self::bytes).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Offers the plugin a set of host functions: the `<Trait>Host` made by a
    /// `#[host_interface]` trait, wrapping your implementation.
    ///
    /// A plugin may import only what is registered; importing anything else
    /// fails the build with [`Error::MissingImport`]. By default no host
    /// interface is registered.
    pub fn host_interface(mut self, interface: impl Into<HostInterface>) -> Self {
        self.host_interfaces.push(interface.into());
        self
    }

    /// Sets a configuration value the plugin can read
    /// (`wasm_sandbox_guest::config::get(key)`). The plugin sees only these
    /// values, never the host's environment. By default there are none.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    /// The most linear memory the plugin may use, in bytes, summed over all
    /// its memories. Growing past it fails the call with
    /// `Limit::Memory { requested, allowed }`.
    ///
    /// By default 64 MiB.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.limits.memory = Some(bytes);
        self
    }

    /// The wall-clock deadline of each call, covering time in wasm and time
    /// waiting in host calls (a WASI sleep, a read). Past it the call is
    /// cancelled and fails with `Limit::Time`.
    ///
    /// By default 10 s.
    pub fn cpu_timeout(mut self, timeout: Duration) -> Self {
        self.limits.cpu_timeout_ms = Some(timeout.as_millis().min(u128::from(u64::MAX)) as u64);
        self
    }

    /// A deterministic instruction budget per call, in wasmtime fuel units
    /// (about one per wasm instruction), refilled before every call. Running
    /// out fails the call with `Limit::Fuel`; `call_with_report` says how
    /// much was used. The plugin then runs on an engine with
    /// [`Interruption::Fuel`] (chosen automatically unless you set
    /// [`engine`](Self::engine) or [`engine_config`](Self::engine_config)).
    ///
    /// By default there is no budget.
    pub fn fuel(mut self, units: u64) -> Self {
        self.limits.fuel = Some(units);
        self
    }

    /// The largest guest stack, in bytes: deeper recursion fails the call
    /// with `Limit::Stack`, never overflows the host's stack. (Sandboxes with
    /// different stack limits use different engines; see [`Engine::for_config`].)
    ///
    /// By default 512 KiB.
    pub fn max_stack(mut self, bytes: usize) -> Self {
        self.limits.max_stack = Some(bytes);
        self
    }

    /// The most elements a table may grow to (`Limit::Table`).
    ///
    /// By default 100 000.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.limits.table_elements = Some(elements);
        self
    }

    /// The most core instances, memories and tables (each) the plugin may
    /// create; a plugin that needs more fails the build with
    /// `Limit::Instances`, before anything runs (counted from its binary
    /// and its compiled form; see the guide's "Errors" chapter for the
    /// cases only wasmtime's own count sees). A Rust plugin built with
    /// wit-bindgen needs about 3 instances, 1 memory and 2 tables.
    ///
    /// By default 100.
    pub fn max_core_instances(mut self, count: usize) -> Self {
        self.limits.instances = Some(count);
        self
    }

    /// Bytes of log lines and of stderr the plugin may write per call, each;
    /// the rest is dropped with one notice (and one audit event for logs).
    ///
    /// By default 1 MiB.
    pub fn log_output_limit(mut self, bytes: usize) -> Self {
        self.limits.log_output = Some(bytes);
        self
    }

    /// The largest result `call_dynamic` accepts, in bytes (`Limit::Output`).
    /// Typed results are bounded by [`memory_limit`](Self::memory_limit): a
    /// value must fit in the plugin's memory to be returned at all.
    ///
    /// By default 16 MiB.
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.limits.max_output = Some(bytes);
        self
    }

    /// Sets every limit at once; fields left `None` keep their defaults (or
    /// the policy's `[limits]`).
    pub fn resource_limits(mut self, limits: ResourceLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Compiles and runs the plugin on an engine with these settings
    /// (shared with every sandbox that asks for the same settings).
    ///
    /// By default the engine is [`Engine::shared`], or the shared engine for
    /// the default settings plus [`max_stack`](Self::max_stack).
    pub fn engine_config(mut self, config: EngineConfig) -> Self {
        self.engine_config = Some(config);
        self
    }

    /// How much Cranelift optimises the plugin's code (see
    /// [`OptimizationLevel`]).
    ///
    /// By default [`OptimizationLevel::Speed`].
    pub fn optimization_level(mut self, level: OptimizationLevel) -> Self {
        self.optimization = Some(level);
        self
    }

    /// Compiles the plugin's functions on several threads.
    ///
    /// By default on.
    pub fn parallel_compilation(mut self, enable: bool) -> Self {
        self.parallel_compilation = Some(enable);
        self
    }

    /// Runs the plugin on an engine with wasmtime's pooling allocator:
    /// memories, tables and fiber stacks come from slots reserved up front,
    /// and linear memories are reset with copy-on-write images, which makes
    /// every new instance cheaper. The slots are sized from this sandbox's
    /// limits ([`memory_limit`](Self::memory_limit),
    /// [`table_elements`](Self::table_elements)) with room for 1000 live
    /// instances (or a pool's `max_instances`, if larger); see
    /// [`PoolingConfig`]. Worth it when instances are created often: with
    /// [`fresh_instance_per_call`](Self::fresh_instance_per_call) and in a
    /// [`SandboxPool`](crate::SandboxPool).
    ///
    /// By default off: the plain allocator costs nothing until an instance
    /// is created, and a sandbox that reuses its instance rarely creates one.
    pub fn pooling_allocator(mut self, enable: bool) -> Self {
        self.pooling = Some(enable);
        self
    }

    /// Gives every call a fresh instance, discarded when the call ends: no
    /// state survives from one call to the next (serverless-style
    /// isolation, as for request handling). The component is compiled and
    /// linked once; only instantiation is repeated. Combine with
    /// [`pooling_allocator`](Self::pooling_allocator) to make that cheap.
    ///
    /// By default off: the instance, and the plugin's state in it, lives
    /// from one call to the next.
    pub fn fresh_instance_per_call(mut self, enable: bool) -> Self {
        self.fresh_instance_per_call = enable;
        self
    }

    /// Calls the plugin synchronously, with wasmtime's `TypedFunc::call`
    /// rather than `call_async`: about half the cost of a small call, for
    /// hosts that call tiny plugin functions in hot loops.
    ///
    /// On this path nothing yields. The deadline
    /// ([`cpu_timeout`](Self::cpu_timeout)) is an epoch trap: the guest is
    /// stopped at the first 10 ms tick after it, as on the async path, but
    /// an async host's thread is busy with the call until then (as with any
    /// CPU-bound work). Only plugins that never wait in a host call can
    /// take it: the build fails with
    /// [`Error::SynchronousCallsUnavailable`] naming each import in the way
    /// when the plugin imports files, sockets, HTTP, timers, processes, an
    /// `async fn` of a host interface or an interface this crate does not
    /// know, or when the engine is interrupted by fuel (a fuel budget
    /// selects such an engine). Registering a host interface with `async
    /// fn`s does not close the path to plugins that do not import them.
    ///
    /// The guest then runs on the calling thread's stack. A call from a
    /// thread with less stack left than the wasm stack limit plus 1 MiB
    /// (or on a system other than Linux, where the thread's stack is not
    /// measured) runs on a fiber instead, as an async call does: the same
    /// result at the async path's cost, never a native stack overflow.
    ///
    /// A [`BlockingSandbox`](crate::BlockingSandbox) takes this path by
    /// itself whenever the plugin can, and the async one otherwise
    /// ([`Plugin::is_synchronous`](crate::Plugin::is_synchronous) says
    /// which); `synchronous_calls(false)` keeps it on the async path.
    ///
    /// By default off.
    pub fn synchronous_calls(mut self, enable: bool) -> Self {
        self.synchronous = Some(enable);
        self
    }

    /// Whether the plugin may use the component model's async ABI: async
    /// exports and imports, `stream` and `future` types, built-ins such as
    /// `task.return` (what jco's default output and WASIp3 toolchains
    /// produce). Such a plugin needs an engine with wasmtime's concurrency
    /// support, which makes every call on it about three times slower
    /// for small calls, so the default engine leaves it off.
    ///
    /// By default (this method not called) the builder reads the plugin's
    /// binary and gives a plugin that uses the async ABI an engine with the
    /// support on, and every other plugin the fast one. `true` always uses
    /// such an engine, which a [precompiled](Self::precompiled) artifact of
    /// such a plugin needs (its binary is not at hand to read). `false`
    /// refuses such a plugin with [`Error::ComponentModelAsync`]. A plugin
    /// on that engine cannot take the
    /// [synchronous path](Self::synchronous_calls). An engine given with
    /// [`engine`](Self::engine) is used as it is: a plugin that needs the
    /// support on an engine without it is refused the same way.
    pub fn component_model_async(mut self, enable: bool) -> Self {
        self.component_model_async = Some(enable);
        self
    }

    /// Caches compiled plugins on disk, so that the next process that loads
    /// the same plugin with the same engine settings skips compilation.
    /// Entries are keyed by the SHA-256 of the plugin and the engine's
    /// settings; a damaged or foreign entry is detected and replaced; the
    /// directory is kept under 512 MiB (least recently used first).
    ///
    /// By default on, in `$WASM_SANDBOX_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/wasm-sandbox`, else `~/.cache/wasm-sandbox`. The
    /// directory is created private to the user (mode `0700`) and not used
    /// if others can write to it; any problem with the cache only means the
    /// plugin is compiled (see [`WasmSandbox::cache_outcome`](crate::Plugin::cache_outcome)).
    pub fn enable_cache(mut self, enable: bool) -> Self {
        self.cache = if enable {
            match self.cache {
                CacheSetting::Dir(dir) => CacheSetting::Dir(dir),
                _ => CacheSetting::Default,
            }
        } else {
            CacheSetting::Off
        };
        self
    }

    /// Caches compiled plugins in `dir` (and turns the cache on); see
    /// [`enable_cache`](Self::enable_cache).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = CacheSetting::Dir(dir.into());
        self
    }

    /// Profiles the plugin: counts calls, guest time, peak memory and host
    /// calls per interface ([`WasmSandbox::profile_report`](crate::Plugin::profile_report)), and with an
    /// [`output`](ProfileConfig::output) samples the guest's stack every
    /// 10 ms (the deadline tick) into a profile the
    /// [Firefox Profiler](https://profiler.firefox.com) opens. Sampling needs
    /// epoch interruption, the default; it is refused with a fuel budget.
    ///
    /// By default off. Profiling adds a clock read and a lock to every
    /// call: use it to investigate, not in production.
    pub fn profiler(mut self, config: ProfileConfig) -> Self {
        self.profile = Some(config);
        self
    }

    /// What the plugin may do; see [`SecurityPolicy`].
    ///
    /// By default it is [`SecurityPolicy::strict`]: nothing is granted, and a
    /// plugin that imports an interface it could never use is refused.
    pub fn security_policy(mut self, policy: SecurityPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// What happens when the policy refuses an operation during a call:
    /// the plugin gets an error and carries on ([`ViolationAction::Deny`]),
    /// or the call ends with [`Error::SecurityViolation`] and the instance
    /// is replaced ([`ViolationAction::AbortCall`]). Overrides the policy's
    /// own [`on_violation`](SecurityPolicy::on_violation), like the other
    /// builder settings.
    ///
    /// By default the policy's setting applies, which is
    /// [`ViolationAction::Deny`] unless it says otherwise.
    pub fn on_violation(mut self, action: ViolationAction) -> Self {
        self.on_violation = Some(action);
        self
    }

    /// Records every privileged operation (allowed or denied) as an
    /// [`AuditEvent`](crate::AuditEvent): to `tracing`, to the sandbox's
    /// [`audit_log`](crate::Plugin::audit_log), and to the
    /// [`audit_file`](Self::audit_file) if one is set. Policy enforcement
    /// does not depend on it.
    ///
    /// By default auditing is on.
    pub fn audit_enabled(mut self, enabled: bool) -> Self {
        self.audit.enabled = enabled;
        self
    }

    /// Also appends every audit event to `path`, one JSON object per line;
    /// the file is flushed on every denied event.
    ///
    /// By default there is no audit file.
    pub fn audit_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit.file = Some(path.into());
        self
    }

    /// Fail closed on audit: a call whose audit events cannot be written to
    /// the [`audit_file`](Self::audit_file) (a full disk, a revoked
    /// permission) fails with [`Error::AuditFailed`] instead of returning
    /// its result, and every event is flushed as it is recorded. Needs an
    /// audit file. What the plugin did during such a call (a file it wrote)
    /// is not undone.
    ///
    /// By default a write failure does not fail calls: it is counted by
    /// [`AuditLog::audit_failures`](crate::AuditLog::audit_failures) and reported once per burst as a
    /// `tracing::error!`.
    pub fn audit_required(mut self, required: bool) -> Self {
        self.audit.required = required;
        self
    }

    /// How many events the in-memory audit log keeps (the oldest are
    /// dropped first).
    ///
    /// By default 1024.
    pub fn audit_capacity(mut self, events: usize) -> Self {
        self.audit.capacity = events;
        self
    }

    /// Reads, compiles and links the plugin, and starts its first instance.
    ///
    /// Compilation runs on tokio's blocking thread pool, so a large plugin
    /// does not stall other tasks.
    ///
    /// # Errors
    ///
    /// - [`Error::Config`] if no source was given.
    /// - [`Error::Io`] if the file cannot be read.
    /// - [`Error::NotARegularFile`] if the path names a directory, device,
    ///   FIFO or socket, and [`Error::InputTooLarge`] if the file is over
    ///   [`max_plugin_bytes`](Self::max_plugin_bytes) (or, for an artifact,
    ///   [`max_artifact_bytes`](Self::max_artifact_bytes)).
    /// - [`Error::InvalidBinary`] for empty, truncated or non-WebAssembly input.
    /// - [`Error::NotAComponent`] for a core WebAssembly module.
    /// - [`Error::Compile`] if wasmtime rejects the component.
    /// - [`Error::MissingImport`] if the plugin imports something this host
    ///   does not provide.
    /// - [`Error::Instantiate`] if starting the plugin fails.
    /// - [`Error::Policy`] if the policy is invalid (a relative or missing
    ///   path, a malformed host or port) or a resource limit is out of its
    ///   range ([`ResourceLimits::validate`]).
    /// - [`Error::UnsatisfiableImport`] if the plugin imports an interface
    ///   the policy can never allow and the policy's import check is
    ///   [`ImportCheck::Deny`].
    pub async fn build(self) -> Result<WasmSandbox> {
        let linked = self.link_async(1).await?;
        let fresh = linked.fresh_instance_per_call;
        let plugin = Plugin::start(linked, Instances::one(fresh), 1).await?;
        Ok(WasmSandbox::from_plugin(plugin))
    }

    pub(crate) async fn link_async(self, instances_hint: usize) -> Result<Linked> {
        if tokio::runtime::Handle::try_current().is_ok() {
            // Compiling takes from milliseconds to seconds: keep it off the
            // async worker threads.
            match tokio::task::spawn_blocking(move || self.link(instances_hint)).await {
                Ok(result) => result,
                Err(join) => Err(Error::Config {
                    detail: format!("the compilation task did not finish: {join}"),
                }),
            }
        } else {
            self.link(instances_hint)
        }
    }

    /// The limits in force: the builder's, then the policy's, then defaults,
    /// each checked against its range.
    fn limits(&self) -> Result<(ResourceLimits, Effective)> {
        let limits = match self.policy.limits() {
            Some(from_policy) => self.limits.or(from_policy),
            None => self.limits.clone(),
        };
        limits.validate()?;
        let effective = limits.resolve();
        Ok((limits, effective))
    }

    /// The engine this builder's sandbox runs on.
    /// The engine for a plugin that uses `uses` of the component model's
    /// async ABI (see [`component_model_async`](Self::component_model_async)).
    fn engine_for_plugin(
        &self,
        limits: &ResourceLimits,
        effective: &Effective,
        instances_hint: usize,
        uses: &[String],
    ) -> Result<Engine> {
        let concurrent = match self.component_model_async {
            Some(false) if !uses.is_empty() => {
                return Err(Error::ComponentModelAsync {
                    uses: uses.to_vec(),
                    remedy: "this sandbox refuses it (`component_model_async(false)`, or \
                             `--component-model-async off` on the CLI); drop that setting, \
                             and the builder gives this plugin an engine with wasmtime's \
                             concurrency support"
                        .to_string(),
                });
            }
            Some(enable) => enable,
            None => !uses.is_empty(),
        };
        let engine = self.resolve_engine(limits, effective, instances_hint, concurrent)?;
        if concurrent && !engine.config().get_concurrency_support() {
            return Err(Error::ComponentModelAsync {
                uses: if uses.is_empty() {
                    vec!["`component_model_async(true)`".to_string()]
                } else {
                    uses.to_vec()
                },
                remedy: "the engine given with `.engine(..)` has wasmtime's concurrency support \
                         off; make it with `EngineConfig::concurrency_support(true)`, or drop \
                         `.engine(..)`"
                    .to_string(),
            });
        }
        Ok(engine)
    }

    fn resolve_engine(
        &self,
        limits: &ResourceLimits,
        effective: &Effective,
        instances_hint: usize,
        concurrent: bool,
    ) -> Result<Engine> {
        let knobs = self.optimization.is_some()
            || self.parallel_compilation.is_some()
            || self.pooling.is_some();
        let engine = match &self.engine {
            Some(_) if knobs => {
                return Err(Error::Config {
                    detail: "`optimization_level`, `parallel_compilation` and `pooling_allocator` \
                             configure the engine, but an engine was given with `.engine(..)`; \
                             set them on its `EngineConfig` instead"
                        .to_string(),
                });
            }
            Some(engine) => engine.clone(),
            None => {
                let mut config = self.engine_config.clone().unwrap_or_default();
                if limits.max_stack.is_some() {
                    config.max_wasm_stack(effective.stack);
                }
                // A fuel budget needs an engine that meters fuel; unless the
                // caller chose the interruption, pick one that does.
                if effective.fuel.is_some() && self.engine_config.is_none() {
                    config.interruption(Interruption::Fuel);
                }
                if let Some(level) = self.optimization {
                    config.optimization_level(level);
                }
                if let Some(parallel) = self.parallel_compilation {
                    config.parallel_compilation(parallel);
                }
                if concurrent {
                    config.concurrency_support(true);
                }
                match self.pooling {
                    Some(true) => {
                        config.pooling(Some(PoolingConfig {
                            instances: PoolingConfig::default()
                                .instances
                                .max(u32::try_from(instances_hint).unwrap_or(u32::MAX)),
                            max_memory: effective.memory,
                            table_elements: effective.table_elements,
                            ..PoolingConfig::default()
                        }));
                    }
                    Some(false) => {
                        config.pooling(None);
                    }
                    None => {}
                }
                Engine::for_config(&config)?
            }
        };
        Ok(engine)
    }

    /// Compiles the plugin for the engine [`build`](Self::build) would use,
    /// and returns it as a precompiled artifact for
    /// [`precompiled`](Self::precompiled). Write it to a file only the
    /// host's user can change.
    ///
    /// ```no_run
    /// # fn run() -> wasm_sandbox::Result<()> {
    /// use wasm_sandbox::WasmSandbox;
    ///
    /// let artifact = WasmSandbox::builder().source("plugins/greeter.wasm").precompile()?;
    /// std::fs::write("plugins/greeter.cwasm", artifact).expect("write the artifact");
    /// // Later, in another process, with the same builder settings:
    /// let builder = WasmSandbox::builder().precompiled("plugins/greeter.cwasm");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build) for reading and compiling the plugin.
    pub fn precompile(self) -> Result<Vec<u8>> {
        let (limits, effective) = self.limits()?;
        let source = self.source.as_ref().ok_or_else(no_source)?;
        loader::precompile_source(
            |uses| self.engine_for_plugin(&limits, &effective, 1, uses),
            source,
            &self.input_limits,
        )
    }

    /// Reads, checks, compiles and links the plugin: everything but
    /// starting an instance.
    fn link(self, instances_hint: usize) -> Result<Linked> {
        let (limits, effective) = self.limits()?;
        let source = self.source.clone().ok_or_else(no_source)?;
        let cache = match &self.cache {
            CacheSetting::Off => None,
            CacheSetting::Default => Some(CompileCache::new(
                CompileCache::default_dir(),
                CompileCache::DEFAULT_MAX_BYTES,
            )),
            CacheSetting::Dir(dir) => Some(CompileCache::new(
                dir.clone(),
                CompileCache::DEFAULT_MAX_BYTES,
            )),
        };
        // The engine depends on what the plugin's binary uses.
        let (
            engine,
            loader::Loaded {
                component,
                cache_outcome,
                core_instances,
            },
        ) = loader::compile(
            |uses| self.engine_for_plugin(&limits, &effective, instances_hint, uses),
            &source,
            cache.as_ref(),
            &self.input_limits,
        )?;
        if effective.fuel.is_some() && engine.config().get_interruption() != Interruption::Fuel {
            return Err(Error::Config {
                detail: "a fuel budget needs an engine with `Interruption::Fuel`; \
                         drop the `engine`/`engine_config` setting or configure it with \
                         `EngineConfig::interruption(Interruption::Fuel)`"
                    .to_string(),
            });
        }
        // The engine's stack limit is the one that applies.
        let effective = Effective {
            stack: engine.config().get_max_wasm_stack(),
            ..effective
        };
        let name: Arc<str> = self.name.unwrap_or_else(|| source.default_name()).into();
        let policy = Arc::new(Compiled::new(&with_violation(
            &self.policy,
            self.on_violation,
        ))?);
        let audit = Arc::new(AuditSink::new(name.clone(), &self.audit)?);
        audit.set_policy_denials(self.policy.denials());
        check_counts(&component, core_instances, effective.instances)?;
        let wants_sync = self.synchronous.unwrap_or(self.prefer_synchronous);
        let blockers = if wants_sync {
            sync::blockers(&component, &engine, &self.host_interfaces)
        } else {
            Vec::new()
        };
        let sync = wants_sync && blockers.is_empty();
        if self.synchronous == Some(true) && !sync {
            return Err(Error::SynchronousCallsUnavailable {
                plugin: name.to_string(),
                reasons: blockers,
            });
        }
        let link = |e: wasmtime::Error| Error::Config {
            detail: format!("could not link the host's interfaces: {e:#}"),
        };
        let mut linker = Linker::<HostState>::new(engine.wasmtime());
        if sync {
            // Only what `sync::blockers` allows can be imported: no file,
            // socket or HTTP function is reachable, so their guards are
            // not needed here.
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(link)?;
            crate::guard::sync_io::add_to_linker(&mut linker).map_err(link)?;
        } else {
            wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link)?;
            // Outbound HTTP: every request is checked in `guard::http`.
            wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(link)?;
            crate::guard::fs::add_to_linker(&mut linker).map_err(link)?;
            // Always linked: nothing in the host's environment turns a guard off.
            crate::guard::net::add_to_linker(&mut linker).map_err(link)?;
            crate::guard::http::link::add_to_linker(&mut linker).map_err(link)?;
        }
        host::add_environment_audit(&mut linker).map_err(link)?;
        host::add_builtin(&mut linker).map_err(link)?;
        for iface in &self.host_interfaces {
            iface.add_to_linker(&mut linker).map_err(|e| Error::Config {
                detail: format!(
                    "could not register host interface `{}`: {e:#}; register each interface once",
                    iface.import_name()
                ),
            })?;
        }
        let pre = linker.instantiate_pre(&component).map_err(Error::link)?;
        check_imports(&component, &policy, &audit)?;
        let uses_preopens = component
            .component_type()
            .imports(engine.wasmtime())
            .any(|(name, _)| name.starts_with("wasi:filesystem/preopens"));
        let exports = Exports::new(&component);
        let export_names: Vec<String> = exports
            .list()
            .iter()
            .map(|e| e.name().to_string())
            .collect();
        audit.set_export_names(export_names.clone());
        let profile = match &self.profile {
            None => None,
            Some(config) => {
                if config.output.is_some()
                    && engine.config().get_interruption() != Interruption::Epoch
                {
                    return Err(Error::Config {
                        detail: "sampling a profile needs epoch interruption, and this sandbox's \
                                 engine uses fuel; drop the fuel budget (or the \
                                 `Interruption::Fuel` engine setting) while profiling, or profile \
                                 without an output file for the counters only"
                            .to_string(),
                    });
                }
                Some(Arc::new(Profiler::new(
                    config,
                    &name,
                    engine.wasmtime(),
                    &component,
                    export_names,
                )?))
            }
        };
        let abort_on_refusal = policy.source.violation_action() == ViolationAction::AbortCall;
        let audit_required = audit.is_required();
        Ok(Linked {
            setup: InstanceSetup {
                engine,
                pre,
                plugin: name,
                config: Arc::new(self.config),
                policy,
                audit,
                limits: effective,
                profile,
                uses_preopens,
                sync,
                deadline_ticks: crate::deadline::ticks_for(effective.timeout),
                sync_stack: effective
                    .stack
                    .saturating_add(crate::engine::FIBER_HEADROOM),
                abort_on_refusal,
                audit_required,
            },
            exports,
            cache_outcome,
            fresh_instance_per_call: self.fresh_instance_per_call,
        })
    }
}

/// Refuses, before anything runs, a plugin that needs more core instances,
/// memories or tables than `ResourceLimits::instances` allows: the
/// instances counted from its binary (see `counts`), the memories and
/// tables as wasmtime counts them for the compiled component.
fn check_counts(
    component: &wasmtime::component::Component,
    core_instances: Option<u64>,
    allowed: usize,
) -> Result<()> {
    let allowed_u64 = u64::try_from(allowed).unwrap_or(u64::MAX);
    let (memories, tables) = component
        .resources_required()
        .map(|r| (u64::from(r.num_memories), u64::from(r.num_tables)))
        .unwrap_or((0, 0));
    if core_instances.unwrap_or(0) > allowed_u64 || memories > allowed_u64 || tables > allowed_u64 {
        return Err(Error::ResourceLimitExceeded(
            crate::error::Limit::Instances { allowed },
        ));
    }
    Ok(())
}

/// `policy` with the builder's `on_violation` setting, if any, over it.
fn with_violation(policy: &SecurityPolicy, action: Option<ViolationAction>) -> SecurityPolicy {
    match action {
        Some(action) => policy.clone().on_violation(action),
        None => policy.clone(),
    }
}

fn no_source() -> Error {
    Error::Config {
        detail: "no plugin given: call `.source(path)`, `.bytes(..)` or `.precompiled(path)` on the builder"
            .to_string(),
    }
}

/// The load-time check: an import the policy can never allow is an error
/// (`ImportCheck::Deny`) or a warning in the audit log (`ImportCheck::Warn`).
fn check_imports(
    component: &wasmtime::component::Component,
    policy: &Compiled,
    audit: &AuditSink,
) -> Result<()> {
    let ty = component.component_type();
    let mut imports = Vec::new();
    for (import, item) in ty.imports(component.engine()) {
        // Type-only interfaces (shared record definitions) are never "used".
        if let wasmtime::component::types::ComponentItem::ComponentInstance(inst) = &item.ty
            && inst
                .exports(component.engine())
                .all(|(_, e)| matches!(e.ty, wasmtime::component::types::ComponentItem::Type(_)))
        {
            continue;
        }
        imports.push(import.to_string());
        let Some(capability) = policy.needed_capability(import) else {
            continue;
        };
        let capability = if capability == "Capability::Custom(..)" {
            format!("Capability::Custom(\"{}\")", host::unversioned(import))
        } else {
            capability.to_string()
        };
        match policy.source.imports() {
            ImportCheck::Deny => {
                return Err(Error::UnsatisfiableImport {
                    import: import.to_string(),
                    capability,
                });
            }
            ImportCheck::Warn => audit.record_event(
                CapabilityKind::Import,
                "import",
                import.to_string(),
                Decision::Warning,
                format!("the policy can never allow this import; grant {capability} to use it"),
            ),
        }
    }
    audit.set_imports(imports);
    Ok(())
}

impl WasmSandbox {
    /// Starts building a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}
