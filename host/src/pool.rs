//! [`SandboxPool`]: many instances of one plugin, for concurrent calls.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use wasmtime::component::{ComponentNamedList, ComponentType, Lift, Lower, Val};

use crate::audit::{AuditLog, CallAudit};
use crate::cache::CacheOutcome;
use crate::call::typed_call;
use crate::deadline::{ticks, with_deadline};
use crate::engine::{Engine, EngineConfig, OptimizationLevel};
use crate::error::{Error, Result};
use crate::exports::{ExportFunction, Exports};
use crate::host_iface::HostInterface;
use crate::limits::{CallReport, ResourceLimits};
use crate::policy::{SecurityPolicy, ViolationAction};
use crate::profile::{ProfileConfig, ProfileReport};
use crate::proxy::{ExportHandle, ExportsRef, PluginHost};
use crate::sandbox::{SandboxBuilder, check_handle};
use crate::store::{InstanceSetup, Live};

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
    /// [`Error::PoolTimeout`]. The call's own
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
        let prepared = self.sandbox.prepare_async(self.max_instances).await?;
        let max = self.max_instances;
        let inner = Arc::new(PoolInner {
            setup: prepared.setup,
            exports: prepared.exports,
            cache_outcome: prepared.cache_outcome,
            idle: Mutex::new(Vec::with_capacity(max)),
            count: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            freed: Notify::new(),
            max_instances: max,
            checkout_timeout: self.checkout_timeout,
            fresh_instance_per_call: self.fresh_instance_per_call
                || prepared.fresh_instance_per_call,
            created: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            checkouts: AtomicU64::new(0),
            waits: AtomicU64::new(0),
            wait_nanos: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
        });
        for _ in 0..self.preload.min(max) {
            let live = inner.instantiate().await?;
            inner.count.fetch_add(1, Ordering::SeqCst);
            inner.idle().push(live);
        }
        Ok(SandboxPool { inner })
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
    inner: Arc<PoolInner>,
}

struct PoolInner {
    setup: InstanceSetup,
    exports: Exports,
    cache_outcome: Option<CacheOutcome>,
    idle: Mutex<Vec<Live>>,
    /// Instances that exist or are being created; never above
    /// `max_instances`.
    count: AtomicUsize,
    /// Calls waiting for an instance; returning one wakes a waiter only
    /// when there is one, so the fast path touches no wait queue.
    waiters: AtomicUsize,
    freed: Notify,
    max_instances: usize,
    checkout_timeout: Duration,
    fresh_instance_per_call: bool,
    created: AtomicU64,
    discarded: AtomicU64,
    checkouts: AtomicU64,
    waits: AtomicU64,
    wait_nanos: AtomicU64,
    timeouts: AtomicU64,
}

/// A snapshot of a pool's counters, from [`SandboxPool::metrics`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// Instances running a call now.
    pub in_use: usize,
    /// Instances waiting for a call.
    pub idle: usize,
    /// Instances created since the pool was built (preloaded ones included).
    pub created: u64,
    /// Instances thrown away: after a trap, a limit hit or a cancelled call,
    /// and after every call with a fresh instance per call.
    pub discarded: u64,
    /// Calls that got an instance.
    pub checkouts: u64,
    /// Calls that found every instance busy and had to wait.
    pub waits: u64,
    /// The time calls spent waiting for an instance, summed.
    pub total_wait: Duration,
    /// Calls that gave up waiting ([`Error::PoolTimeout`]).
    pub timeouts: u64,
}

impl std::fmt::Debug for SandboxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxPool")
            .field("name", &self.inner.setup.plugin)
            .field("max_instances", &self.inner.max_instances)
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

/// An instance checked out of the pool; goes back to the idle list (or is
/// discarded) when dropped, and wakes a waiting call if there is one.
struct Slot<'a> {
    pool: &'a PoolInner,
    live: Option<Live>,
}

impl Slot<'_> {
    #[inline]
    fn live(&mut self) -> &mut Live {
        self.live
            .as_mut()
            .expect("a slot holds its instance until dropped")
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let Some(live) = self.live.take() else {
            return;
        };
        // `poisoned` is still set when the call failed or its future was
        // dropped mid-call: that instance must not run again.
        if live.poisoned || self.pool.fresh_instance_per_call {
            self.pool.discarded.fetch_add(1, Ordering::Relaxed);
            drop(live);
            self.pool.count.fetch_sub(1, Ordering::SeqCst);
        } else {
            self.pool.idle().push(live);
        }
        self.pool.wake_one();
    }
}

/// What a checkout got: an idle instance, or the right to create one.
enum Got {
    Idle(Live),
    Create,
}

/// The right to create one instance, given back if creating fails or is
/// cancelled.
struct Reservation<'a> {
    pool: &'a PoolInner,
    armed: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.pool.count.fetch_sub(1, Ordering::SeqCst);
            self.pool.wake_one();
        }
    }
}

/// Counts a waiting call for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PoolInner {
    fn idle(&self) -> MutexGuard<'_, Vec<Live>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes one waiting call, if any (an instance or room for one was
    /// freed).
    #[inline]
    fn wake_one(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.freed.notify_one();
        }
    }

    async fn instantiate(&self) -> Result<Live> {
        // Each instance has its own view of the shared audit log, so that
        // concurrent calls keep their events apart.
        let audit = Arc::new(self.setup.audit.sibling());
        let live = Box::pin(Live::new(&self.setup, audit)).await?;
        self.created.fetch_add(1, Ordering::Relaxed);
        Ok(live)
    }

    /// An idle instance, or room to create one, without waiting.
    #[inline]
    fn try_take(&self) -> Option<Got> {
        if let Some(live) = self.idle().pop() {
            return Some(Got::Idle(live));
        }
        let mut count = self.count.load(Ordering::SeqCst);
        while count < self.max_instances {
            match self.count.compare_exchange_weak(
                count,
                count + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Some(Got::Create),
                Err(now) => count = now,
            }
        }
        None
    }

    /// Waits until an instance is returned or room is freed, up to the
    /// checkout timeout.
    #[cold]
    async fn wait(&self) -> Result<Got> {
        let start = Instant::now();
        let start_tick = ticks();
        self.waits.fetch_add(1, Ordering::Relaxed);
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let waiting = Waiting(&self.waiters);
        let take = async {
            loop {
                let notified = self.freed.notified();
                let mut notified = std::pin::pin!(notified);
                // Registered before looking, so a return between the look
                // and the wait still wakes this call.
                notified.as_mut().enable();
                if let Some(got) = self.try_take() {
                    return got;
                }
                notified.await;
            }
        };
        let outcome = with_deadline(std::pin::pin!(take), start_tick, self.checkout_timeout).await;
        drop(waiting);
        let waited = start.elapsed();
        self.wait_nanos.fetch_add(
            u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        match outcome {
            Ok(got) => Ok(got),
            Err(_) => {
                // A wake-up this call may have taken goes to the next waiter.
                self.wake_one();
                self.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(Error::PoolTimeout {
                    waited,
                    max_instances: self.max_instances,
                })
            }
        }
    }

    /// Takes an idle instance or creates one, waiting when all are busy.
    async fn checkout(&self) -> Result<Slot<'_>> {
        let got = match self.try_take() {
            Some(got) => got,
            None => self.wait().await?,
        };
        self.checkouts.fetch_add(1, Ordering::Relaxed);
        let live = match got {
            Got::Idle(live) => live,
            Got::Create => {
                let mut reservation = Reservation {
                    pool: self,
                    armed: true,
                };
                let live = self.instantiate().await?;
                reservation.armed = false;
                live
            }
        };
        Ok(Slot {
            pool: self,
            live: Some(live),
        })
    }
}

impl SandboxPool {
    pub(crate) fn exports_ref(&self) -> &Exports {
        &self.inner.exports
    }

    /// The compiled component behind the pool's instances.
    pub(crate) fn component(&self) -> &wasmtime::component::Component {
        self.inner.setup.pre.component()
    }

    /// By default a pool holds at most this many instances.
    pub const DEFAULT_MAX_INSTANCES: usize = 16;

    /// By default a call waits at most this long for a free instance.
    pub const DEFAULT_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Starts building a pool.
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }

    /// The plugin's name, as used in logs.
    pub fn name(&self) -> &str {
        &self.inner.setup.plugin
    }

    /// The pool's counters now.
    pub fn metrics(&self) -> PoolMetrics {
        let inner = &self.inner;
        let idle = inner.idle().len();
        PoolMetrics {
            in_use: inner.count.load(Ordering::SeqCst).saturating_sub(idle),
            idle,
            created: inner.created.load(Ordering::Relaxed),
            discarded: inner.discarded.load(Ordering::Relaxed),
            checkouts: inner.checkouts.load(Ordering::Relaxed),
            waits: inner.waits.load(Ordering::Relaxed),
            total_wait: Duration::from_nanos(inner.wait_nanos.load(Ordering::Relaxed)),
            timeouts: inner.timeouts.load(Ordering::Relaxed),
        }
    }

    /// The most instances the pool holds (see
    /// [`PoolBuilder::max_instances`]).
    pub fn max_instances(&self) -> usize {
        self.inner.max_instances
    }

    /// What the compile cache did when the pool was built (see
    /// [`WasmSandbox::cache_outcome`](crate::WasmSandbox::cache_outcome)).
    pub fn cache_outcome(&self) -> Option<&CacheOutcome> {
        self.inner.cache_outcome.as_ref()
    }

    /// What the profiler counted so far, over all instances; see
    /// [`WasmSandbox::profile_report`](crate::WasmSandbox::profile_report).
    pub fn profile_report(&self) -> Option<ProfileReport> {
        self.inner.setup.profile.as_ref().map(|p| p.report())
    }

    /// Writes the stack samples taken since the last write; see
    /// [`WasmSandbox::write_profile`](crate::WasmSandbox::write_profile).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the file cannot be written.
    pub fn write_profile(&self) -> Result<Option<PathBuf>> {
        match &self.inner.setup.profile {
            Some(profile) => profile.write(),
            None => Ok(None),
        }
    }

    /// The audit log shared by all instances of the pool.
    pub fn audit_log(&self) -> AuditLog {
        AuditLog {
            sink: self.inner.setup.audit.clone(),
        }
    }

    /// The policy every instance runs under.
    pub fn security_policy(&self) -> &SecurityPolicy {
        &self.inner.setup.policy.source
    }

    /// Every function the plugin exports, with its WIT signature.
    pub fn list_exports(&self) -> &[ExportFunction] {
        self.inner.exports.list()
    }

    /// Looks up one exported function by any of its names.
    ///
    /// # Errors
    ///
    /// [`Error::ExportNotFound`], with the nearest names as suggestions.
    pub fn export(&self, name: &str) -> Result<&ExportFunction> {
        self.inner.exports.resolve(name).map(|(f, _)| f)
    }

    /// Calls the exported function `name` on a free instance, with typed
    /// arguments; as [`WasmSandbox::call`](crate::WasmSandbox::call).
    ///
    /// # Errors
    ///
    /// As [`WasmSandbox::call`](crate::WasmSandbox::call), and
    /// [`Error::PoolTimeout`] when no instance became free in time.
    pub async fn call<Params, R>(&self, name: &str, params: Params) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let position = self.inner.exports.resolve(name)?.0.position();
        self.call_at(position, params).await
    }

    /// Calls an export resolved when a typed proxy was loaded.
    async fn call_handle<Params, R>(&self, handle: &ExportHandle, params: Params) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        check_handle(&self.inner.exports, handle)?;
        self.call_at(handle.position, params).await
    }

    #[inline]
    async fn call_at<Params, R>(&self, position: usize, params: Params) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let inner = &*self.inner;
        let mut slot = inner.checkout().await?;
        typed_call!(
            slot.live(),
            &inner.setup,
            &inner.exports,
            position,
            params,
            Params,
            R,
            None
        )
    }

    /// Like [`call`](Self::call), and also returns the audit events of this
    /// call; see [`WasmSandbox::call_with_audit`](crate::WasmSandbox::call_with_audit).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call). To get the events of a failed call too,
    /// use [`call_with_audit_outcome`](Self::call_with_audit_outcome).
    pub async fn call_with_audit<Params, R>(
        &self,
        name: &str,
        params: Params,
    ) -> Result<(R, CallAudit)>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let (result, audit) = self.call_with_audit_outcome(name, params).await;
        result.map(|r| (r, audit))
    }

    /// Like [`call_with_audit`](Self::call_with_audit), but returns this
    /// call's audit events whatever its outcome; see
    /// [`WasmSandbox::call_with_audit_outcome`](crate::WasmSandbox::call_with_audit_outcome).
    /// Each instance of the pool captures only the events of the call it
    /// runs, so concurrent calls never see each other's events.
    pub async fn call_with_audit_outcome<Params, R>(
        &self,
        name: &str,
        params: Params,
    ) -> (Result<R>, CallAudit)
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let inner = &*self.inner;
        let position = match inner.exports.resolve(name) {
            Ok((export, _)) => export.position(),
            Err(e) => return (Err(e), CallAudit::default()),
        };
        let mut slot = match inner.checkout().await {
            Ok(slot) => slot,
            Err(e) => return (Err(e), CallAudit::default()),
        };
        let audit = slot.live().store.data().audit.clone();
        audit.start_capture();
        let result = typed_call!(
            slot.live(),
            &inner.setup,
            &inner.exports,
            position,
            params,
            Params,
            R,
            None
        );
        let events = audit.finish_capture();
        (result, events)
    }

    /// Like [`call`](Self::call), and also returns what the call consumed;
    /// see [`WasmSandbox::call_with_report`](crate::WasmSandbox::call_with_report).
    /// The wall time includes the wait for an instance.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_with_report<Params, R>(
        &self,
        name: &str,
        params: Params,
    ) -> Result<(R, CallReport)>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let inner = &*self.inner;
        let position = inner.exports.resolve(name)?.0.position();
        let start = Instant::now();
        let mut slot = inner.checkout().await?;
        let mut report = CallReport::default();
        let r = typed_call!(
            slot.live(),
            &inner.setup,
            &inner.exports,
            position,
            params,
            Params,
            R,
            Some(&mut report)
        )?;
        report.wall_time = start.elapsed();
        Ok((r, report))
    }

    /// Calls the exported function `name` with values whose types are only
    /// known at run time; see
    /// [`WasmSandbox::call_dynamic`](crate::WasmSandbox::call_dynamic).
    ///
    /// # Errors
    ///
    /// As [`WasmSandbox::call_dynamic`](crate::WasmSandbox::call_dynamic),
    /// and [`Error::PoolTimeout`].
    pub async fn call_dynamic(&self, name: &str, params: &[Val]) -> Result<Vec<Val>> {
        let inner = &*self.inner;
        let export = inner.exports.resolve(name)?.0;
        crate::call::check_dynamic(export, params)?;
        let mut slot = inner.checkout().await?;
        slot.live()
            .call_dynamic(&inner.setup, &inner.exports, export.position(), params)
            .await
    }

    /// Drops every idle instance; the next calls create new ones. Instances
    /// running a call are not affected.
    pub fn clear_idle(&self) {
        let dropped = std::mem::take(&mut *self.inner.idle());
        self.inner
            .discarded
            .fetch_add(dropped.len() as u64, Ordering::Relaxed);
        self.inner.count.fetch_sub(dropped.len(), Ordering::SeqCst);
        drop(dropped);
        self.inner.wake_one();
    }
}

impl PluginHost for SandboxPool {
    fn __exports(&self) -> ExportsRef<'_> {
        ExportsRef::Borrowed(&self.inner.exports)
    }

    fn __call<P, R>(
        &self,
        export: &ExportHandle,
        params: P,
    ) -> impl Future<Output = Result<R>> + Send
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        self.call_handle(export, params)
    }
}
