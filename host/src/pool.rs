//! [`SandboxPool`]: many instances of one plugin, for concurrent calls.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::builder::SandboxBuilder;
use crate::engine::{Engine, EngineConfig, OptimizationLevel};
use crate::error::Result;
use crate::guard::host::HostInterface;
use crate::limits::ResourceLimits;
use crate::plugin::Plugin;
use crate::plugin::instances::{Instances, PoolSettings};
use crate::policy::{SecurityPolicy, ViolationAction};
use crate::profile::ProfileConfig;

/// Builds a [`SandboxPool`]; created by [`SandboxPool::builder`].
///
/// It takes every setting of [`SandboxBuilder`] (each applies to every
/// instance of the pool), plus the pool's own:
/// [`max_instances`](Self::max_instances),
/// [`preload_instances`](Self::preload_instances),
/// [`checkout_timeout`](Self::checkout_timeout) and
/// [`fresh_instance_per_call`](Self::fresh_instance_per_call).
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct PoolBuilder {
    sandbox: SandboxBuilder,
    max_instances: usize,
    preload: usize,
    checkout_timeout: Duration,
    fresh_instance_per_call: bool,
}

impl Default for PoolBuilder {
    fn default() -> Self {
        PoolBuilder {
            sandbox: SandboxBuilder::default(),
            max_instances: SandboxPool::DEFAULT_MAX_INSTANCES,
            preload: 1,
            checkout_timeout: SandboxPool::DEFAULT_CHECKOUT_TIMEOUT,
            fresh_instance_per_call: false,
        }
    }
}

/// Forwards builder methods to the inner [`SandboxBuilder`].
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*); )*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, $($arg: $ty),*) -> Self {
            self.sandbox = self.sandbox.$name($($arg),*);
            self
        }
    )*};
}

impl PoolBuilder {
    forward! {
        /// See [`SandboxBuilder::source`].
        fn source(path: impl Into<PathBuf>);
        /// See [`SandboxBuilder::bytes`].
        fn bytes(bytes: impl Into<Vec<u8>>);
        /// See [`SandboxBuilder::precompiled`].
        fn precompiled(path: impl Into<PathBuf>);
        /// See [`SandboxBuilder::max_plugin_bytes`].
        fn max_plugin_bytes(bytes: u64);
        /// See [`SandboxBuilder::max_artifact_bytes`].
        fn max_artifact_bytes(bytes: u64);
        /// See [`SandboxBuilder::engine`].
        fn engine(engine: &Engine);
        /// See [`SandboxBuilder::name`].
        fn name(name: impl Into<String>);
        /// See [`SandboxBuilder::host_interface`].
        fn host_interface(interface: impl Into<HostInterface>);
        /// See [`SandboxBuilder::config`].
        fn config(key: impl Into<String>, value: impl Into<String>);
        /// See [`SandboxBuilder::memory_limit`]; per instance.
        fn memory_limit(bytes: usize);
        /// See [`SandboxBuilder::cpu_timeout`].
        fn cpu_timeout(timeout: Duration);
        /// See [`SandboxBuilder::fuel`].
        fn fuel(units: u64);
        /// See [`SandboxBuilder::max_stack`].
        fn max_stack(bytes: usize);
        /// See [`SandboxBuilder::table_elements`].
        fn table_elements(elements: usize);
        /// See [`SandboxBuilder::max_core_instances`]; per instance.
        fn max_core_instances(count: usize);
        /// See [`SandboxBuilder::log_output_limit`].
        fn log_output_limit(bytes: usize);
        /// See [`SandboxBuilder::max_output`].
        fn max_output(bytes: usize);
        /// See [`SandboxBuilder::resource_limits`].
        fn resource_limits(limits: ResourceLimits);
        /// See [`SandboxBuilder::engine_config`].
        fn engine_config(config: EngineConfig);
        /// See [`SandboxBuilder::optimization_level`].
        fn optimization_level(level: OptimizationLevel);
        /// See [`SandboxBuilder::parallel_compilation`].
        fn parallel_compilation(enable: bool);
        /// See [`SandboxBuilder::synchronous_calls`]; each instance runs
        /// its call synchronously on the task that made it.
        fn synchronous_calls(enable: bool);
        /// See [`SandboxBuilder::pooling_allocator`]; the slots are sized for
        /// at least [`max_instances`](Self::max_instances) live instances.
        fn pooling_allocator(enable: bool);
        /// See [`SandboxBuilder::enable_cache`].
        fn enable_cache(enable: bool);
        /// See [`SandboxBuilder::cache_dir`].
        fn cache_dir(dir: impl Into<PathBuf>);
        /// See [`SandboxBuilder::security_policy`]; every instance runs
        /// under the same policy.
        fn security_policy(policy: SecurityPolicy);
        /// See [`SandboxBuilder::audit_enabled`]; all instances share one
        /// audit log.
        fn audit_enabled(enabled: bool);
        /// See [`SandboxBuilder::audit_file`].
        fn audit_file(path: impl Into<PathBuf>);
        /// See [`SandboxBuilder::audit_capacity`].
        fn audit_capacity(events: usize);
        /// See [`SandboxBuilder::audit_required`].
        fn audit_required(required: bool);
        /// See [`SandboxBuilder::on_violation`]; every instance of the pool
        /// acts the same way.
        fn on_violation(action: ViolationAction);
        /// See [`SandboxBuilder::profiler`]; one profile covers all
        /// instances.
        fn profiler(config: ProfileConfig);
    }

    /// The most instances alive at once, which is the most calls running at
    /// once; a call that finds them all busy waits for one (up to the
    /// [`checkout_timeout`](Self::checkout_timeout)). At least 1.
    ///
    /// By default 16.
    pub fn max_instances(mut self, count: usize) -> Self {
        self.max_instances = count.max(1);
        self
    }

    /// How many instances [`build`](Self::build) starts, so that the first
    /// calls do not pay for instantiation; the rest are created on demand.
    /// Capped at [`max_instances`](Self::max_instances).
    ///
    /// By default 1 (which also checks at build time that the plugin can be
    /// instantiated).
    pub fn preload_instances(mut self, count: usize) -> Self {
        self.preload = count;
        self
    }

    /// How long a call waits for a free instance before it fails with
    /// [`Error::PoolTimeout`](crate::Error::PoolTimeout). The call's own
    /// [`cpu_timeout`](Self::cpu_timeout) starts once it has an instance.
    ///
    /// By default 10 s.
    pub fn checkout_timeout(mut self, timeout: Duration) -> Self {
        self.checkout_timeout = timeout;
        self
    }

    /// Discards each instance after one call, so no state survives from one
    /// call to the next (a reset after every call); the next call gets a
    /// new instance. Combine with
    /// [`pooling_allocator`](Self::pooling_allocator) to make that cheap.
    ///
    /// By default off: an instance goes back to the pool after a successful
    /// call, with its state, and another call may reuse it. After a trap or
    /// a limit hit the instance is always discarded.
    pub fn fresh_instance_per_call(mut self, enable: bool) -> Self {
        self.fresh_instance_per_call = enable;
        self
    }

    /// Reads, compiles and links the plugin once, and starts
    /// [`preload_instances`](Self::preload_instances) instances.
    ///
    /// # Errors
    ///
    /// As [`SandboxBuilder::build`].
    pub async fn build(self) -> Result<SandboxPool> {
        let linked = self.sandbox.link_async(self.max_instances).await?;
        let fresh = self.fresh_instance_per_call || linked.fresh_instance_per_call;
        let settings = PoolSettings {
            max_instances: self.max_instances,
            checkout_timeout: self.checkout_timeout,
        };
        let plugin = Plugin::start(linked, Instances::pool(&settings, fresh), self.preload).await?;
        Ok(SandboxPool {
            plugin: Arc::new(plugin),
        })
    }
}

/// Instances of one plugin, compiled and linked once, for calls from many
/// tasks at once.
///
/// Each call checks out an idle instance (or creates one, up to
/// [`max_instances`](PoolBuilder::max_instances)), runs on it, and returns
/// it. When all are busy the call waits, up to the
/// [`checkout_timeout`](PoolBuilder::checkout_timeout). An instance that
/// trapped, hit a limit or whose call was cancelled is discarded and
/// replaced on demand; with
/// [`fresh_instance_per_call`](PoolBuilder::fresh_instance_per_call) every
/// instance is.
///
/// The pool is cheap to clone (clones share the instances) and can be used
/// from any number of tokio tasks. Typed proxies from `#[sandbox_plugin]`
/// work on a pool just as on a [`WasmSandbox`](crate::WasmSandbox).
///
/// **State.** Which instance serves a call is not specified: a plugin that
/// keeps state between calls sees the state of whichever instance it runs
/// on. Keep plugins used in a pool stateless, or use a
/// [`WasmSandbox`](crate::WasmSandbox) per state.
///
/// ```no_run
/// # async fn run() -> wasm_sandbox::Result<()> {
/// use wasm_sandbox::SandboxPool;
///
/// let pool = SandboxPool::builder()
///     .source("plugins/greeter.wasm")
///     .max_instances(8)
///     .build()
///     .await?;
/// let mut tasks = Vec::new();
/// for i in 0..32 {
///     let pool = pool.clone();
///     tasks.push(tokio::spawn(async move {
///         pool.call::<_, String>("plugin#greet", (format!("user {i}"),)).await
///     }));
/// }
/// for task in tasks {
///     println!("{}", task.await.expect("task panicked")?);
/// }
/// println!("{:?}", pool.metrics());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SandboxPool {
    plugin: Arc<Plugin>,
}

pub use crate::plugin::instances::PoolMetrics;

impl std::fmt::Debug for SandboxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxPool")
            .field("name", &self.plugin.name())
            .field("max_instances", &self.max_instances())
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

/// A pool is its plugin with N instances: every method of [`Plugin`]
/// (`call`, `call_dynamic`, `list_exports`, `audit_log`, ...) is a method
/// of the pool.
impl Deref for SandboxPool {
    type Target = Plugin;

    #[inline]
    fn deref(&self) -> &Plugin {
        &self.plugin
    }
}

impl SandboxPool {
    /// By default a pool holds at most this many instances.
    pub const DEFAULT_MAX_INSTANCES: usize = 16;

    /// By default a call waits at most this long for a free instance.
    pub const DEFAULT_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Starts building a pool.
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }

    /// The plugin, shared, for a typed proxy of a reloadable pool.
    pub(crate) fn shared(&self) -> Arc<Plugin> {
        self.plugin.clone()
    }

    /// The pool's counters now.
    pub fn metrics(&self) -> PoolMetrics {
        self.plugin
            .metrics()
            .expect("a pool's plugin keeps a pool of instances")
    }

    /// The most instances the pool holds (see
    /// [`PoolBuilder::max_instances`]).
    pub fn max_instances(&self) -> usize {
        self.plugin.max_instances()
    }

    /// Drops every idle instance; the next calls create new ones. Instances
    /// running a call are not affected.
    pub fn clear_idle(&self) {
        self.plugin.clear_idle();
    }
}
