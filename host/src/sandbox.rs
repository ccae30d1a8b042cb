//! [`WasmSandbox`]: one plugin, loaded once, called with typed values.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, ComponentType, Func, Lift, Linker, Lower, Val,
};

use crate::audit::{AuditConfig, AuditLog, AuditSink, CallAudit, CapabilityKind, Decision};
use crate::blocking::BlockingSandbox;
use crate::deadline::{Elapsed, with_deadline};
use crate::engine::{Engine, EngineConfig, Interruption};
use crate::error::{Error, Result};
use crate::exports::{ExportFunction, Exports};
use crate::host_iface::{self, HostInterface};
use crate::limits::{CallReport, Effective, Limit, ResourceLimits};
use crate::loader::{self, Source};
use crate::policy::{Compiled, ImportCheck, SecurityPolicy};
use crate::proxy::{ExportHandle, type_names};
use crate::store::{HostState, InstanceSetup, Live};
use crate::values;

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
#[derive(Debug, Default)]
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
    /// create; more fails instantiation with `Limit::Instances`. A Rust
    /// plugin built with wit-bindgen needs about 3 instances, 1 memory and
    /// 2 tables.
    ///
    /// By default 100.
    pub fn max_instances(mut self, count: usize) -> Self {
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

    /// What the plugin may do; see [`SecurityPolicy`].
    ///
    /// By default it is [`SecurityPolicy::strict`]: nothing is granted, and a
    /// plugin that imports an interface it could never use is refused.
    pub fn security_policy(mut self, policy: SecurityPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Records every privileged operation (allowed or denied) as an
    /// [`AuditEvent`](crate::AuditEvent): to `tracing`, to the sandbox's
    /// [`audit_log`](WasmSandbox::audit_log), and to the
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
    /// - [`Error::InvalidBinary`] for empty, truncated or non-WebAssembly input.
    /// - [`Error::NotAComponent`] for a core WebAssembly module.
    /// - [`Error::Compile`] if wasmtime rejects the component.
    /// - [`Error::MissingImport`] if the plugin imports something this host
    ///   does not provide.
    /// - [`Error::Instantiate`] if starting the plugin fails.
    /// - [`Error::Policy`] if the policy is invalid (a relative or missing
    ///   path, a malformed host or port).
    /// - [`Error::UnsatisfiableImport`] if the plugin imports an interface
    ///   the policy can never allow and the policy's import check is
    ///   [`ImportCheck::Deny`].
    pub async fn build(self) -> Result<WasmSandbox> {
        let prepared = self.prepare_async().await?;
        WasmSandbox::start(prepared).await
    }

    /// Like [`build`](Self::build), for programs without an async runtime:
    /// returns a [`BlockingSandbox`] whose methods block the calling thread.
    ///
    /// # Errors
    ///
    /// The same as [`build`](Self::build), and
    /// [`Error::BlockingInAsyncContext`] when called from inside an async
    /// runtime.
    pub fn build_blocking(self) -> Result<BlockingSandbox> {
        BlockingSandbox::build(self)
    }

    async fn prepare_async(self) -> Result<Prepared> {
        if tokio::runtime::Handle::try_current().is_ok() {
            // Compiling takes from milliseconds to seconds: keep it off the
            // async worker threads.
            match tokio::task::spawn_blocking(move || self.prepare()).await {
                Ok(result) => result,
                Err(join) => Err(Error::Config {
                    detail: format!("the compilation task did not finish: {join}"),
                }),
            }
        } else {
            self.prepare()
        }
    }

    fn prepare(self) -> Result<Prepared> {
        let source = self.source.ok_or_else(|| Error::Config {
            detail: "no plugin given: call `.source(path)` or `.bytes(..)` on the builder"
                .to_string(),
        })?;
        let limits = match self.policy.limits() {
            Some(from_policy) => self.limits.or(from_policy),
            None => self.limits.clone(),
        };
        let effective = limits.resolve();
        let engine = match self.engine {
            Some(engine) => engine,
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
                Engine::for_config(&config)?
            }
        };
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
        let policy = Arc::new(Compiled::new(&self.policy)?);
        let audit = Arc::new(AuditSink::new(name.clone(), &self.audit)?);
        let component = loader::compile(&engine, &source)?;
        let mut linker = Linker::<HostState>::new(engine.wasmtime());
        let link = |e: wasmtime::Error| Error::Config {
            detail: format!("could not link the host's interfaces: {e:#}"),
        };
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link)?;
        crate::guard_fs::add_to_linker(&mut linker).map_err(link)?;
        if std::env::var_os("NO_NET_GUARD").is_none() {
            crate::guard_net::add_to_linker(&mut linker).map_err(link)?;
        }
        host_iface::add_environment_audit(&mut linker).map_err(link)?;
        host_iface::add_builtin(&mut linker).map_err(link)?;
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
        let exports = Exports::new(&component);
        audit.set_export_names(
            exports
                .list()
                .iter()
                .map(|e| e.name().to_string())
                .collect(),
        );
        Ok(Prepared {
            setup: InstanceSetup {
                engine,
                pre,
                plugin: name,
                config: Arc::new(self.config),
                policy,
                audit,
                limits: effective,
            },
            exports,
        })
    }
}

/// The capability a plugin would need to use an import, if the policy has
/// none of it; `None` when the import is always fine.
fn needed_capability(import: &str, policy: &Compiled) -> Option<&'static str> {
    let name = host_iface::unversioned(import);
    if name.starts_with("wasi:filesystem/") && !policy.has_file_grants() {
        Some("Capability::FileRead or Capability::FileWrite")
    } else if (name.starts_with("wasi:sockets/") || name.starts_with("wasi:http/"))
        && !policy.has_network()
    {
        Some("Capability::NetworkAccess { .. }")
    } else if name == "sandbox:host/process" && !policy.can_spawn() && !policy.source.is_observing()
    {
        Some("Capability::ProcessSpawn(..)")
    } else if name == "sandbox:host/environment" && !policy.can_read_env() {
        Some("Capability::EnvironmentRead(..)")
    } else if !name.starts_with("wasi:")
        && !name.starts_with("sandbox:host/")
        && !policy.custom_granted(name)
    {
        Some("Capability::Custom(..)")
    } else {
        None
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
    for (import, item) in ty.imports(component.engine()) {
        // Type-only interfaces (shared record definitions) are never "used".
        if let wasmtime::component::types::ComponentItem::ComponentInstance(inst) = &item.ty
            && inst
                .exports(component.engine())
                .all(|(_, e)| matches!(e.ty, wasmtime::component::types::ComponentItem::Type(_)))
        {
            continue;
        }
        let Some(capability) = needed_capability(import, policy) else {
            continue;
        };
        let capability = if capability == "Capability::Custom(..)" {
            format!(
                "Capability::Custom(\"{}\")",
                host_iface::unversioned(import)
            )
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
    Ok(())
}

/// A compiled and linked plugin, not yet instantiated.
pub(crate) struct Prepared {
    setup: InstanceSetup,
    exports: Exports,
}

/// One plugin, compiled and linked once, with a live instance to call.
///
/// Methods take `&self`: a sandbox can be shared (for example in an `Arc`)
/// and calls from several tasks are serialised, because one instance runs one
/// call at a time. For concurrent calls use several sandboxes.
///
/// **State.** The instance keeps its state (its linear memory, globals) from
/// one call to the next, until [`reset`](Self::reset) or a failed call. After
/// a trap, or when a call's future is dropped before it finished, the
/// instance is discarded and the next call runs on a fresh one, created from
/// the already-linked component (no recompilation);
/// [`instances_created`](Self::instances_created) counts them.
///
/// **Capabilities.** The plugin runs with nothing granted: no files, no
/// environment variables, no network, stdin closed and stdout discarded; what
/// it writes to stderr becomes `tracing` events (target
/// `wasm_sandbox::guest`). Clocks and random numbers are available.
pub struct WasmSandbox {
    shared: Arc<Shared>,
    live: Mutex<Option<Live>>,
}

struct Shared {
    setup: InstanceSetup,
    exports: Exports,
    instances_created: AtomicU64,
}

impl std::fmt::Debug for WasmSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmSandbox")
            .field("name", &self.shared.setup.plugin)
            .field("exports", &self.shared.exports.list().len())
            .field(
                "instances_created",
                &self.shared.instances_created.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl WasmSandbox {
    /// Starts building a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    pub(crate) async fn start(prepared: Prepared) -> Result<WasmSandbox> {
        let shared = Arc::new(Shared {
            setup: prepared.setup,
            exports: prepared.exports,
            instances_created: AtomicU64::new(0),
        });
        let live = shared.instantiate().await?;
        Ok(WasmSandbox {
            shared,
            live: Mutex::new(Some(live)),
        })
    }

    /// The plugin's name, as used in logs (see [`SandboxBuilder::name`]).
    pub fn name(&self) -> &str {
        &self.shared.setup.plugin
    }

    /// The sandbox's audit log: the last privileged operations of its
    /// plugin, allowed and denied.
    pub fn audit_log(&self) -> AuditLog {
        AuditLog {
            sink: self.shared.setup.audit.clone(),
        }
    }

    /// The policy the sandbox enforces.
    pub fn security_policy(&self) -> &SecurityPolicy {
        &self.shared.setup.policy.source
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
        self.shared.exports.list()
    }

    /// Looks up one exported function by any of its names (see
    /// [`call`](Self::call) for the name forms).
    ///
    /// # Errors
    ///
    /// [`Error::ExportNotFound`], with the nearest names as suggestions.
    pub fn export(&self, name: &str) -> Result<&ExportFunction> {
        self.shared.exports.resolve(name).map(|(f, _)| f)
    }

    /// How many instances this sandbox has created: 1 after
    /// [`build`](SandboxBuilder::build), plus one for each
    /// [`reset`](Self::reset) and each replacement after a failed call.
    pub fn instances_created(&self) -> u64 {
        self.shared.instances_created.load(Ordering::Relaxed)
    }

    /// Calls the exported function `name` with typed arguments and returns
    /// its typed result.
    ///
    /// `Params` is a tuple of the arguments (`()`, `(u32,)`, `(&str, Vec<u8>)`,
    /// ...). `R` is the function's result type, or `()` for a function that
    /// returns nothing. Both use wasmtime's mapping of Rust types to WIT:
    /// `bool`, integers, `f32`/`f64`, `char`, `String`/`&str`, `Vec<T>`/`&[T]`,
    /// `Option<T>`, `Result<T, E>`, tuples, and records/variants/enums/flags
    /// declared with wasmtime's `ComponentType`, `Lift` and `Lower` derives.
    ///
    /// `name` is a world-level function (`"greet"`) or a function of an
    /// exported interface in any of these forms:
    /// `"example:calculator/math@0.1.0#add"`, `"example:calculator/math#add"`,
    /// `"math#add"`.
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
    /// - [`Error::ExportNotFound`] if there is no such function.
    /// - [`Error::TypeMismatch`] if `Params` or `R` do not match its WIT
    ///   signature; nothing runs, and the instance stays as it was.
    /// - [`Error::Trap`] if the guest traps; the next call gets a fresh
    ///   instance.
    /// - [`Error::Instantiate`] if a fresh instance was needed and could not
    ///   be started.
    pub async fn call<Params, R>(&self, name: &str, params: Params) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let (export, index) = self.shared.exports.resolve(name)?;
        self.call_resolved(export, index, params).await
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
    /// [`audit_log`](Self::audit_log).
    pub async fn call_with_audit<Params, R>(
        &self,
        name: &str,
        params: Params,
    ) -> Result<(R, CallAudit)>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let (export, index) = self.shared.exports.resolve(name)?;
        let audit = &self.shared.setup.audit;
        // Calls are serialised by the instance lock; capture inside it.
        let mut guard = self.live().await?;
        audit.start_capture();
        let result = self.call_locked(&mut guard, export, index, params).await;
        let events = audit.finish_capture();
        result.map(|r| (r, events))
    }

    /// Calls an export resolved when a typed proxy was loaded.
    pub(crate) async fn call_handle<Params, R>(
        &self,
        handle: &ExportHandle,
        params: Params,
    ) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let Some((export, index)) = self.shared.exports.entry(handle.position) else {
            return Err(Error::Config {
                detail: "this proxy was loaded from a different sandbox; load it from this one"
                    .to_string(),
            });
        };
        if handle.index != Some(index) {
            return Err(Error::Config {
                detail: "this proxy was loaded from a different sandbox; load it from this one"
                    .to_string(),
            });
        }
        self.call_resolved(export, index, params).await
    }

    async fn call_resolved<Params, R>(
        &self,
        export: &ExportFunction,
        index: ComponentExportIndex,
        params: Params,
    ) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let mut guard = self.live().await?;
        self.call_locked(&mut guard, export, index, params).await
    }

    async fn call_locked<Params, R>(
        &self,
        guard: &mut MutexGuard<'_, Option<Live>>,
        export: &ExportFunction,
        index: ComponentExportIndex,
        params: Params,
    ) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        self.call_measured(guard, export, index, params, None).await
    }

    /// Runs one call on the live instance: under its deadline and fuel
    /// budget, with audit context, and, when `report` is given, filling it.
    async fn call_measured<Params, R>(
        &self,
        guard: &mut MutexGuard<'_, Option<Live>>,
        export: &ExportFunction,
        index: ComponentExportIndex,
        params: Params,
        report: Option<&mut CallReport>,
    ) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let setup = &self.shared.setup;
        let limits = &setup.limits;
        let live = guard.as_mut().ok_or_else(lost_instance)?;
        let func = get_func(live, export, index)?;
        let no_result = export.result().is_none();
        if no_result && TypeId::of::<R>() != TypeId::of::<()>() {
            return Err(mismatch::<Params, R>(
                export,
                Some("the function returns nothing; use `()` as the result type".to_string()),
            ));
        }
        // Type-check before anything runs: a mismatch leaves the instance
        // untouched.
        if no_result {
            let typed = func
                .typed::<Params, ()>(&live.store)
                .map_err(|e| mismatch::<Params, R>(export, Some(explain_typecheck(&e))))?;
            let start = self.begin(live, export, report.is_some());
            let out = match with_deadline(
                typed.call_async(&mut live.store, params),
                start,
                limits.timeout,
            )
            .await
            {
                Ok(Ok(())) => {
                    let unit: Box<dyn Any> = Box::new(());
                    unit.downcast::<R>()
                        .map(|r| *r)
                        .map_err(|_| mismatch::<Params, R>(export, None))
                }
                Ok(Err(e)) => Err(Error::from_call_limited(
                    export.name(),
                    e,
                    live.stderr.take_recent(),
                    limits,
                )),
                Err(Elapsed) => Err(Error::ResourceLimitExceeded(Limit::Time {
                    deadline: limits.timeout,
                })),
            };
            self.finish(live, start, &out, report);
            out
        } else {
            let typed = func
                .typed::<Params, (R,)>(&live.store)
                .map_err(|e| mismatch::<Params, R>(export, Some(explain_typecheck(&e))))?;
            let start = self.begin(live, export, report.is_some());
            let out = match with_deadline(
                typed.call_async(&mut live.store, params),
                start,
                limits.timeout,
            )
            .await
            {
                Ok(Ok((r,))) => Ok(r),
                Ok(Err(e)) => Err(Error::from_call_limited(
                    export.name(),
                    e,
                    live.stderr.take_recent(),
                    limits,
                )),
                Err(Elapsed) => Err(Error::ResourceLimitExceeded(Limit::Time {
                    deadline: limits.timeout,
                })),
            };
            self.finish(live, start, &out, report);
            out
        }
    }

    /// Prepares the instance for a call and returns the call's start time.
    #[inline]
    fn begin(&self, live: &mut Live, export: &ExportFunction, measuring: bool) -> Instant {
        let setup = &self.shared.setup;
        // Set while the call runs; cleared by `finish` on success. A call
        // whose future is dropped never clears it.
        live.poisoned = true;
        live.stderr.start_call();
        let state = live.store.data_mut();
        state.log_budget = state.log_limit;
        if measuring {
            state.host_calls = 0;
            state.limiter.reset_peak();
        }
        if let Some(budget) = setup.limits.fuel {
            let _ = live.store.set_fuel(budget);
        }
        // The position names the call in audit events.
        setup.audit.begin_call(export.position());
        Instant::now()
    }

    /// Records the outcome of a call: clears poisoning on success, audits a
    /// limit hit, fills the report.
    fn finish<R>(
        &self,
        live: &mut Live,
        start: Instant,
        out: &Result<R>,
        report: Option<&mut CallReport>,
    ) {
        let setup = &self.shared.setup;
        setup.audit.end_call();
        match out {
            Ok(_) => live.poisoned = false,
            Err(Error::ResourceLimitExceeded(limit)) => {
                setup.audit.record(
                    crate::audit::CapabilityKind::Limit,
                    "limit",
                    limit.name().to_string(),
                    &crate::policy::Verdict::deny(limit.to_string()),
                );
            }
            Err(_) => {}
        }
        if let Some(report) = report {
            report.wall_time = start.elapsed();
            report.fuel_consumed = setup
                .limits
                .fuel
                .map(|budget| budget.saturating_sub(live.store.get_fuel().unwrap_or(0)));
            let state = live.store.data();
            report.peak_memory = state.limiter.peak;
            report.host_calls = state.host_calls;
        }
    }

    #[doc(hidden)]
    pub fn __exports(&self) -> &Exports {
        &self.shared.exports
    }

    /// Calls the exported function `name` with values whose types are only
    /// known at run time, and returns its results (empty or one value).
    ///
    /// Use [`list_exports`](Self::list_exports) to learn the parameter types.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call); [`Error::TypeMismatch`] names the first
    /// argument whose value does not fit, for example
    /// `argument `b`: expected u32, got s32`.
    pub async fn call_dynamic(&self, name: &str, params: &[Val]) -> Result<Vec<Val>> {
        let (export, index) = self.shared.exports.resolve(name)?;
        if params.len() != export.params().len() {
            return Err(Error::TypeMismatch {
                function: export.name().to_string(),
                expected: export.signature().to_string(),
                given: format!("{} argument(s)", params.len()),
                detail: Some(format!("it takes {}", export.params().len())),
            });
        }
        for ((pname, ty), val) in export.params().zip(params) {
            values::check(val, ty, &format!("argument `{pname}`")).map_err(|detail| {
                Error::TypeMismatch {
                    function: export.name().to_string(),
                    expected: export.signature().to_string(),
                    given: format!(
                        "({})",
                        params
                            .iter()
                            .map(values::val_kind)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    detail: Some(detail),
                }
            })?;
        }
        let mut results = vec![values::placeholder(); usize::from(export.result().is_some())];
        let mut guard = self.live().await?;
        let live = guard.as_mut().ok_or_else(lost_instance)?;
        let func = get_func(live, export, index)?;
        let setup = &self.shared.setup;
        let limits = &setup.limits;
        let start = self.begin(live, export, false);
        let out = match with_deadline(
            func.call_async(&mut live.store, params, &mut results),
            start,
            limits.timeout,
        )
        .await
        {
            Ok(Ok(())) => {
                let size: usize = results.iter().map(values::size_of).sum();
                if size > limits.max_output {
                    Err(Error::ResourceLimitExceeded(Limit::Output {
                        size,
                        allowed: limits.max_output,
                    }))
                } else {
                    Ok(())
                }
            }
            Ok(Err(e)) => Err(Error::from_call_limited(
                export.name(),
                e,
                live.stderr.take_recent(),
                limits,
            )),
            Err(Elapsed) => Err(Error::ResourceLimitExceeded(Limit::Time {
                deadline: limits.timeout,
            })),
        };
        self.finish(live, start, &out, None);
        // An oversized result leaves the instance usable.
        if let Err(Error::ResourceLimitExceeded(Limit::Output { .. })) = &out {
            live.poisoned = false;
        }
        out.map(|()| results)
    }

    /// Like [`call`](Self::call), and also returns what the call consumed:
    /// wall time, fuel (with a fuel budget), peak linear memory and the
    /// number of calls the plugin made into the host.
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
        let (export, index) = self.shared.exports.resolve(name)?;
        let start = Instant::now();
        let mut guard = self.live().await?;
        let mut report = CallReport::default();
        let r = self
            .call_measured(&mut guard, export, index, params, Some(&mut report))
            .await?;
        report.wall_time = start.elapsed();
        Ok((r, report))
    }

    /// Throws the current instance away and starts a fresh one: the plugin's
    /// state is back to what it was right after loading. The component is
    /// not compiled or linked again.
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if the new instance cannot be started; the next
    /// call tries again.
    pub async fn reset(&self) -> Result<()> {
        let mut guard = self.live.lock().await;
        *guard = None;
        *guard = Some(self.shared.instantiate().await?);
        Ok(())
    }

    /// Locks the instance, replacing it first if it is missing or poisoned.
    async fn live(&self) -> Result<MutexGuard<'_, Option<Live>>> {
        let mut guard = self.live.lock().await;
        let usable = matches!(&*guard, Some(live) if !live.poisoned);
        if !usable {
            *guard = None;
            *guard = Some(self.shared.instantiate().await?);
        }
        Ok(guard)
    }
}

impl Shared {
    async fn instantiate(&self) -> Result<Live> {
        let live = Live::new(&self.setup).await?;
        self.instances_created.fetch_add(1, Ordering::Relaxed);
        Ok(live)
    }
}

fn get_func(live: &mut Live, export: &ExportFunction, index: ComponentExportIndex) -> Result<Func> {
    live.instance
        .get_func(&mut live.store, index)
        .ok_or_else(|| Error::ExportNotFound {
            name: export.name().to_string(),
            suggestions: Vec::new(),
            available: 0,
        })
}

fn lost_instance() -> Error {
    Error::Config {
        detail:
            "the sandbox has no instance (a previous instantiation failed); call again to retry"
                .to_string(),
    }
}

/// Rephrases wasmtime's type-check error from the caller's side: wasmtime
/// says "expected `s64` found `u32`", meaning the Rust type is an `s64` and the
/// plugin's is a `u32`.
fn explain_typecheck(err: &wasmtime::Error) -> String {
    let text = format!("{err:#}");
    let rephrased = (|| {
        let start = text.find("expected `")?;
        let rest = &text[start + "expected `".len()..];
        let (ours, rest) = rest.split_once('`')?;
        let rest = rest.strip_prefix(" found `")?;
        let (theirs, tail) = rest.split_once('`')?;
        Some(format!(
            "{}the Rust type is `{ours}` where the plugin has `{theirs}`{tail}",
            &text[..start]
        ))
    })();
    rephrased.unwrap_or(text)
}

fn mismatch<Params, R>(export: &ExportFunction, detail: Option<String>) -> Error {
    Error::TypeMismatch {
        function: export.name().to_string(),
        expected: export.signature().to_string(),
        given: type_names::<Params, R>(),
        detail,
    }
}
