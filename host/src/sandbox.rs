//! [`WasmSandbox`]: one plugin, loaded once, called with typed values.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, MutexGuard};
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, ComponentType, Func, Lift, Linker, Lower, Val,
};

use crate::audit::{AuditConfig, AuditLog, AuditSink, CallAudit, CapabilityKind, Decision};
use crate::blocking::BlockingSandbox;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exports::{ExportFunction, Exports};
use crate::host_iface::{self, HostInterface};
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
        let engine = match self.engine {
            Some(engine) => engine,
            None => Engine::shared()?,
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
        let live = guard.as_mut().ok_or_else(lost_instance)?;
        let func = get_func(live, export, index)?;
        if export.result().is_none() {
            if TypeId::of::<R>() != TypeId::of::<()>() {
                return Err(mismatch::<Params, R>(
                    export,
                    Some("the function returns nothing; use `()` as the result type".to_string()),
                ));
            }
            let typed = func
                .typed::<Params, ()>(&live.store)
                .map_err(|e| mismatch::<Params, R>(export, Some(explain_typecheck(&e))))?;
            let audit = &self.shared.setup.audit;
            live.poisoned = true;
            live.stderr.start_call();
            audit.begin_call(export.position());
            let out = typed.call_async(&mut live.store, params).await;
            audit.end_call();
            match out {
                Ok(()) => live.poisoned = false,
                Err(e) => {
                    return Err(Error::from_call(
                        export.name(),
                        e,
                        live.stderr.take_recent(),
                    ));
                }
            }
            let unit: Box<dyn Any> = Box::new(());
            return unit
                .downcast::<R>()
                .map(|r| *r)
                .map_err(|_| mismatch::<Params, R>(export, None));
        }
        let typed = func
            .typed::<Params, (R,)>(&live.store)
            .map_err(|e| mismatch::<Params, R>(export, Some(explain_typecheck(&e))))?;
        let audit = &self.shared.setup.audit;
        live.poisoned = true;
        live.stderr.start_call();
        audit.begin_call(export.position());
        let out = typed.call_async(&mut live.store, params).await;
        audit.end_call();
        match out {
            Ok((result,)) => {
                live.poisoned = false;
                Ok(result)
            }
            Err(e) => Err(Error::from_call(
                export.name(),
                e,
                live.stderr.take_recent(),
            )),
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
        let audit = &self.shared.setup.audit;
        live.poisoned = true;
        live.stderr.start_call();
        audit.begin_call(export.position());
        let out = func.call_async(&mut live.store, params, &mut results).await;
        audit.end_call();
        match out {
            Ok(()) => {
                live.poisoned = false;
                Ok(results)
            }
            Err(e) => Err(Error::from_call(
                export.name(),
                e,
                live.stderr.take_recent(),
            )),
        }
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
