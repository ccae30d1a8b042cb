//! The plugin core: what a loaded plugin is, once — compiled, linked and
//! checked against its policy, with its exports, limits, audit log and
//! profile — and the instances it runs on.
//!
//! [`WasmSandbox`](crate::WasmSandbox) (one instance),
//! [`SandboxPool`](crate::SandboxPool) (N instances) and
//! [`ReloadablePool`](crate::ReloadablePool) (a pool that can be swapped)
//! are thin owners of a [`Plugin`]: the first two dereference to it, so its
//! methods are theirs. A call goes: [`Plugin::call`] resolves the name,
//! takes a [`Lease`](instances::Lease) on an instance (`instances.rs`), and
//! runs the call path of `call.rs` on it.

pub(crate) mod call;
pub(crate) mod command;
pub(crate) mod exports;
pub(crate) mod instance;
pub(crate) mod instances;
pub(crate) mod resources;
pub(crate) mod values;

use std::path::PathBuf;
use std::time::Instant;

use wasmtime::component::{ComponentNamedList, ComponentType, Lift, Lower, Val};

use crate::audit::{AuditLog, CallAudit};
use crate::cache::CacheOutcome;
use crate::error::{Error, Outcome, Result};
use crate::limits::CallReport;
use crate::plugin::exports::{ExportFunction, Exports};
use crate::plugin::instance::{InstanceSetup, Live};
use crate::plugin::instances::{Instances, Lease, PoolMetrics};
use crate::policy::SecurityPolicy;
use crate::profile::ProfileReport;

/// A compiled and linked plugin, not yet instantiated: what the builder
/// makes.
pub(crate) struct Linked {
    pub(crate) setup: InstanceSetup,
    pub(crate) exports: Exports,
    pub(crate) cache_outcome: Option<CacheOutcome>,
    pub(crate) fresh_instance_per_call: bool,
}

/// A loaded plugin: compiled, linked, checked against its policy, and
/// ready to call.
///
/// You get one through a [`WasmSandbox`](crate::WasmSandbox) (one
/// instance, calls take turns) or a [`SandboxPool`](crate::SandboxPool)
/// (an instance per concurrent call); both dereference to `Plugin`, so
/// `sandbox.call(..)`, `pool.list_exports()` and the rest are the methods
/// below.
pub struct Plugin {
    setup: InstanceSetup,
    exports: Exports,
    cache_outcome: Option<CacheOutcome>,
    instances: Instances,
    /// Command runs at once: at most as many as the plugin may have
    /// instances, since each run makes one of its own.
    command_runs: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.setup.plugin)
            .field("exports", &self.exports.list().len())
            .field("max_instances", &self.instances.max_instances())
            .field("instances_created", &self.instances.created())
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Starts `linked` on `instances`, making `preload` instances first
    /// (a single instance is always made, so that a plugin that cannot
    /// start fails here).
    pub(crate) async fn start(
        linked: Linked,
        instances: Instances,
        preload: usize,
    ) -> Result<Plugin> {
        let plugin = Plugin {
            setup: linked.setup,
            exports: linked.exports,
            cache_outcome: linked.cache_outcome,
            command_runs: tokio::sync::Semaphore::new(instances.max_instances().max(1)),
            instances,
        };
        plugin.instances.preload(&plugin.setup, preload).await?;
        Ok(plugin)
    }

    /// The plugin's name, as used in logs (see
    /// [`SandboxBuilder::name`](crate::SandboxBuilder::name)).
    pub fn name(&self) -> &str {
        &self.setup.plugin
    }

    /// What the compile cache did when the plugin was built: `None` when
    /// the cache is off or the plugin was
    /// [precompiled](crate::SandboxBuilder::precompiled).
    pub fn cache_outcome(&self) -> Option<&CacheOutcome> {
        self.cache_outcome.as_ref()
    }

    /// What the [profiler](crate::SandboxBuilder::profiler) counted so far,
    /// over all instances: guest time, peak memory, calls per export, host
    /// calls per interface. `None` when profiling is off.
    pub fn profile_report(&self) -> Option<ProfileReport> {
        self.setup.profile.as_ref().map(|p| p.report())
    }

    /// Writes the stack samples taken since the last write to the
    /// profiler's [`output`](crate::ProfileConfig::output) file (Firefox
    /// Profiler JSON) and returns its path; `None` without an output. The
    /// samples not yet written are also written when the plugin is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) if the file cannot be written.
    pub fn write_profile(&self) -> Result<Option<PathBuf>> {
        match &self.setup.profile {
            Some(profile) => profile.write(),
            None => Ok(None),
        }
    }

    /// The plugin's audit log: the last privileged operations of its
    /// instances, allowed and denied.
    pub fn audit_log(&self) -> AuditLog {
        AuditLog {
            sink: self.setup.audit.clone(),
        }
    }

    /// Whether calls take the synchronous path (`TypedFunc::call`, the
    /// deadline an epoch trap): see
    /// [`SandboxBuilder::synchronous_calls`](crate::SandboxBuilder::synchronous_calls).
    pub fn is_synchronous(&self) -> bool {
        self.setup.sync
    }

    /// The policy every instance runs under.
    pub fn security_policy(&self) -> &SecurityPolicy {
        &self.setup.policy.source
    }

    /// Every function the plugin exports, with its WIT signature.
    ///
    /// ```no_run
    /// # fn show(sandbox: &wasm_sandbox::WasmSandbox) {
    /// for export in sandbox.list_exports() {
    ///     // e.g. "math#add    add: func(a: u32, b: u32) -> u32"
    ///     println!("{:<12} {export}", export.short_name());
    /// }
    /// # }
    /// ```
    pub fn list_exports(&self) -> &[ExportFunction] {
        self.exports.list()
    }

    /// Looks up one exported function by any of its names (see
    /// [`call`](Self::call) for the name forms).
    ///
    /// # Errors
    ///
    /// [`Error::ExportNotFound`](crate::Error::ExportNotFound), with the nearest names as suggestions.
    pub fn export(&self, name: &str) -> Result<&ExportFunction> {
        self.exports.resolve(name).map(|(f, _)| f)
    }

    /// How many instances the plugin has created: the first one, plus one
    /// for each [`reset`](crate::WasmSandbox::reset), each replacement after
    /// a failed call, and (in a pool) each instance added for a concurrent
    /// call.
    pub fn instances_created(&self) -> u64 {
        self.instances.created()
    }

    /// Calls the exported function `name` with typed arguments and returns
    /// its typed result.
    ///
    /// `Params` is a tuple of the arguments (`()`, `(u32,)`, `(&str, Vec<u8>)`,
    /// ...). `R` is the function's result type, or `()` for a function that
    /// returns nothing. Both use wasmtime's mapping of Rust types to WIT:
    /// `bool`, integers, `f32`/`f64`, `char`, `String`/`&str`, `Vec<T>`/`&[T]`,
    /// `Option<T>`, `Result<T, E>`, tuples, and records/variants/enums/flags
    /// declared with `#[derive(PluginType)]` (or wasmtime's `ComponentType`,
    /// `Lift` and `Lower` derives). The types are checked against the WIT
    /// signature on the first call with them; later calls with the same
    /// types skip the check.
    ///
    /// `name` is a world-level function (`"greet"`) or a function of an
    /// exported interface in any of these forms:
    /// `"example:calculator/math@0.1.0#add"`, `"example:calculator/math#add"`,
    /// `"math#add"`.
    ///
    /// On a [`WasmSandbox`](crate::WasmSandbox) calls take turns on its one
    /// instance; on a [`SandboxPool`](crate::SandboxPool) each runs on a free
    /// instance, waiting for one when all are busy.
    ///
    /// ```no_run
    /// # async fn run(sandbox: wasm_sandbox::WasmSandbox) -> wasm_sandbox::Result<()> {
    /// let text: String = sandbox.call("greet", ("world",)).await?;
    /// let sum: u32 = sandbox.call("math#add", (2u32, 3u32)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// - [`Error::ExportNotFound`](crate::Error::ExportNotFound) if there is no such function.
    /// - [`Error::TypeMismatch`](crate::Error::TypeMismatch) if `Params` or `R` do not match its WIT
    ///   signature; nothing runs, and the instance stays as it was.
    /// - [`Error::Trap`](crate::Error::Trap) if the guest traps; the next call gets a fresh
    ///   instance.
    /// - [`Error::ResourceLimitExceeded`](crate::Error::ResourceLimitExceeded) if the call hits a resource limit;
    ///   the next call gets a fresh instance.
    /// - [`Error::SecurityViolation`](crate::Error::SecurityViolation) if the plugin calls a host interface
    ///   the policy does not grant.
    /// - [`Error::Instantiate`](crate::Error::Instantiate) if a fresh instance was needed and could not
    ///   be started.
    /// - [`Error::PoolTimeout`](crate::Error::PoolTimeout) (pools) when no instance became free in time.
    ///
    /// The name is looked up when `call` is called; the returned future
    /// borrows the plugin, not the name.
    #[inline]
    pub fn call<'a, Params, R>(
        &'a self,
        name: &str,
        params: Params,
    ) -> impl Future<Output = Result<R>> + use<'a, Params, R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        // No future of its own: the call path's future, its error unboxed.
        Unboxed {
            inner: self.call_at(self.exports.position_of(name), params, None),
        }
    }

    /// Like [`call`](Self::call), and also returns exactly the audit events
    /// of this call (and the denied ones among them).
    ///
    /// ```no_run
    /// # async fn run(sandbox: wasm_sandbox::WasmSandbox) -> wasm_sandbox::Result<()> {
    /// let (text, audit) = sandbox.call_with_audit::<_, String>("greet", ("world",)).await?;
    /// for event in &audit.violations {
    ///     eprintln!("denied: {} {}", event.operation, event.target);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call). The events of a failed call stay in the
    /// [`audit_log`](Self::audit_log); to get them with the error, use
    /// [`call_with_audit_outcome`](Self::call_with_audit_outcome).
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

    /// Like [`call_with_audit`](Self::call_with_audit), but returns the
    /// call's audit events whatever its outcome: the events of a call that
    /// failed (a denial under `ViolationAction::AbortCall`, a limit, a trap)
    /// come with its error, so a host that shares a plugin between callers
    /// never needs to clear and re-read the shared
    /// [`audit_log`](Self::audit_log). Each instance captures only the call
    /// it runs, so calls that overlap on a pool never see each other's
    /// events.
    ///
    /// ```no_run
    /// # async fn run(sandbox: wasm_sandbox::WasmSandbox) {
    /// let (result, audit) = sandbox
    ///     .call_with_audit_outcome::<_, String>("greet", ("world",))
    ///     .await;
    /// if let Err(error) = result {
    ///     eprintln!("failed: {error}; {} denials", audit.violations.len());
    /// }
    /// # }
    /// ```
    ///
    /// The result's errors are those of [`call`](Self::call); a call that
    /// never started (an unknown export, no instance) has no events.
    pub async fn call_with_audit_outcome<Params, R>(
        &self,
        name: &str,
        params: Params,
    ) -> (Result<R>, CallAudit)
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let position = match self.exports.resolve_by_name(name) {
            Ok((export, _)) => export.position(),
            Err(e) => return (Err(e), CallAudit::default()),
        };
        let mut live = match self.lease().await {
            Ok(live) => live,
            Err(e) => return (Err(e), CallAudit::default()),
        };
        // The instance's own view of the log: captured inside the lease,
        // so only this call's events are in it.
        let audit = live.store.data().audit.clone();
        audit.start_capture();
        let result = live
            .call_typed(&self.setup, &self.exports, position, params, None)
            .await
            .map_err(Error::from);
        let events = audit.finish_capture();
        (result, events)
    }

    /// Like [`call`](Self::call), and also returns what the call consumed:
    /// wall time (including the wait for an instance), fuel (with a fuel
    /// budget), peak linear memory and the number of calls the plugin made
    /// into the host.
    ///
    /// ```no_run
    /// # async fn run(sandbox: wasm_sandbox::WasmSandbox) -> wasm_sandbox::Result<()> {
    /// let (sum, report) = sandbox.call_with_report::<_, u32>("math#add", (2u32, 3u32)).await?;
    /// println!("{sum} in {:?}, peak memory {} bytes", report.wall_time, report.peak_memory);
    /// # Ok(()) }
    /// ```
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
        let position = self.exports.position_of(name);
        let start = Instant::now();
        let mut report = CallReport::default();
        let r = self.call_at(position, params, Some(&mut report)).await?;
        // Include the wait for the instance.
        report.wall_time = start.elapsed();
        Ok((r, report))
    }

    /// Calls the exported function `name` with values whose types are only
    /// known at run time, and returns its results (empty or one value).
    ///
    /// Use [`list_exports`](Self::list_exports) to learn the parameter types.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call); [`Error::TypeMismatch`](crate::Error::TypeMismatch) names the first
    /// argument whose value does not fit, for example
    /// `argument `b`: expected u32, got s32`. A result larger than
    /// [`max_output`](crate::SandboxBuilder::max_output) is
    /// `Limit::Output` (and the instance is kept).
    pub async fn call_dynamic(&self, name: &str, params: &[Val]) -> Result<Vec<Val>> {
        let export = self.exports.resolve_by_name(name)?.0;
        call::check_dynamic(export, params)?;
        let mut live = self.lease().await?;
        live.call_dynamic(&self.setup, &self.exports, export.position(), params)
            .await
    }

    /// Whether the plugin is a command: a program with a `main`, which
    /// exports `wasi:cli/run` (run it with [`command`](Self::command)).
    pub fn is_command(&self) -> bool {
        self.exports.list().iter().any(command::is_run)
    }

    /// Sets up a run of a command component (a program with a `main`, as
    /// `cargo build --target wasm32-wasip2` makes from a binary crate): its
    /// arguments, stdin and where its output goes, then
    /// [`run`](command::CommandRun::run) runs it to its end on an instance
    /// of its own and returns its status and output.
    ///
    /// ```no_run
    /// # async fn run(sandbox: wasm_sandbox::WasmSandbox) -> wasm_sandbox::Result<()> {
    /// let output = sandbox.command().args(["echo", "hi"]).run().await?;
    /// assert!(output.status.success());
    /// print!("{}", output.stdout_text());
    /// # Ok(()) }
    /// ```
    ///
    /// The program sees the arguments (after its own name), the
    /// environment variables the policy grants, and the files it grants,
    /// like any plugin; every privileged operation is audited. Its stdout
    /// is captured up to [`max_output`](crate::SandboxBuilder::max_output)
    /// bytes and its stderr up to
    /// [`log_output`](crate::SandboxBuilder::log_output_limit), unless forwarded.
    /// The call's time limit bounds the whole run. Runs of one plugin at
    /// the same time are at most its instance count (1 for a
    /// `WasmSandbox`, `max_instances` for a pool); more wait their turn.
    pub fn command(&self) -> command::CommandRun<'_> {
        command::CommandRun::new(self)
    }

    /// Runs one typed call of the export at `position`: the one typed entry
    /// of the call path.
    #[inline]
    pub(crate) async fn call_at<Params, R>(
        &self,
        position: Outcome<usize>,
        params: Params,
        report: Option<&mut CallReport>,
    ) -> Outcome<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        // Taken as a `Result` so that the entry points that look the
        // export up need no future of their own: a failed lookup ends here,
        // before anything is leased or run.
        let position = position?;
        // Written out rather than through `lease()`: the common case takes
        // an instance without another layer of futures, and uses the lease
        // where it was made (moving it costs as much as the rest of our
        // side of a small call).
        let mut free = self.instances.try_lease();
        let mut waited;
        let live: &mut Live = match free.as_mut() {
            Some(lease) => lease,
            None => {
                // Boxed: waiting for (or making) an instance is the rare
                // case, and its future would otherwise enlarge every call's.
                waited = Box::pin(self.instances.lease(&self.setup)).await?;
                &mut waited
            }
        };
        if live
            .cell
            .has_pending
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            resources::release_pending(live, &self.setup)
                .await
                .map_err(Box::new)?;
        }
        live.call_typed(&self.setup, &self.exports, position, params, report)
            .await
    }

    /// The synchronous path's entry for blocking callers: the typed call
    /// at `position`, run at once on a free, healthy instance, with no
    /// future involved; when there is none (another thread's call holds
    /// it, or it must be replaced) or this thread's stack is too small for
    /// the guest, `wait(params)` instead. Both write the
    /// one result in place: on this path a copy of the `Result` or of the
    /// lease costs as much as the rest of our call.
    #[inline(always)]
    pub(crate) fn call_now_or<Params, R>(
        &self,
        position: usize,
        params: Params,
        wait: impl FnOnce(Params) -> Outcome<R>,
    ) -> Outcome<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        debug_assert!(
            self.setup.sync,
            "only the synchronous path runs without a future"
        );
        if !self.setup.runs_here() {
            // Too little stack on this thread: the call takes a fiber.
            return wait(params);
        }
        let mut lease = self.instances.try_lease();
        match lease.as_mut() {
            // Objects to release first: the async path does that.
            Some(live)
                if !live
                    .cell
                    .has_pending
                    .load(std::sync::atomic::Ordering::Relaxed) =>
            {
                live.call_typed_sync(&self.setup, &self.exports, position, params, None)
            }
            _ => {
                drop(lease);
                wait(params)
            }
        }
    }

    /// A live instance for one call: at once when one is free and
    /// healthy, otherwise by waiting for one or making one.
    #[inline]
    pub(crate) async fn lease(&self) -> Result<Lease<'_>> {
        match self.instances.try_lease() {
            Some(lease) => Ok(lease),
            None => self.instances.lease(&self.setup).await,
        }
    }

    /// The exports, for typed proxies.
    pub(crate) fn exports(&self) -> &Exports {
        &self.exports
    }

    #[doc(hidden)]
    pub fn __exports(&self) -> &Exports {
        &self.exports
    }

    /// The compiled component behind the instances.
    pub(crate) fn component(&self) -> &wasmtime::component::Component {
        self.setup.pre.component()
    }

    /// Replaces the single instance with a fresh one.
    pub(crate) async fn reset(&self) -> Result<()> {
        self.instances.reset(&self.setup).await
    }

    /// Marks the plugin as replaced by a reload: its instances are not kept,
    /// and the objects they made expire.
    pub(crate) fn retire(&self) {
        self.instances.retire();
    }

    /// Drops a pool's idle instances.
    pub(crate) fn clear_idle(&self) {
        self.instances.clear_idle();
    }

    /// A pool's counters; `None` for a single instance.
    pub(crate) fn metrics(&self) -> Option<PoolMetrics> {
        self.instances.metrics()
    }

    /// The most instances the plugin runs at once.
    pub(crate) fn max_instances(&self) -> usize {
        self.instances.max_instances()
    }
}

pin_project_lite::pin_project! {
    /// The call path's future with its error unboxed (`Outcome` to
    /// `Result`): lets a public entry point return the call path's future
    /// instead of awaiting it in a future of its own.
    pub(crate) struct Unboxed<F> {
        #[pin]
        pub(crate) inner: F,
    }
}

impl<F, R> Future for Unboxed<F>
where
    F: Future<Output = Outcome<R>>,
{
    type Output = Result<R>;

    #[inline]
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<R>> {
        self.project().inner.poll(cx).map(|out| out.map_err(|e| *e))
    }
}
