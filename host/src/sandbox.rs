//! [`WasmSandbox`]: one plugin, loaded once, called with typed values.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, MutexGuard};
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, ComponentType, Func, InstancePre, Lift, Linker,
    Lower, Val,
};

use crate::blocking::BlockingSandbox;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exports::{ExportFunction, Exports};
use crate::host_iface::{self, HostInterface};
use crate::loader::{self, Source};
use crate::proxy::{ExportHandle, type_names};
use crate::store::{HostState, Live};
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
        let component = loader::compile(&engine, &source)?;
        let mut linker = Linker::<HostState>::new(engine.wasmtime());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| Error::Config {
            detail: format!("could not link WASI: {e:#}"),
        })?;
        host_iface::add_builtin(&mut linker).map_err(|e| Error::Config {
            detail: format!("could not link the sandbox:host interfaces: {e:#}"),
        })?;
        for iface in &self.host_interfaces {
            iface.add_to_linker(&mut linker).map_err(|e| Error::Config {
                detail: format!(
                    "could not register host interface `{}`: {e:#}; register each interface once",
                    iface.import_name()
                ),
            })?;
        }
        let pre = linker.instantiate_pre(&component).map_err(Error::link)?;
        let exports = Exports::new(&component);
        Ok(Prepared {
            engine,
            pre,
            exports,
            name,
            config: Arc::new(self.config),
        })
    }
}

/// A compiled and linked plugin, not yet instantiated.
pub(crate) struct Prepared {
    engine: Engine,
    pre: InstancePre<HostState>,
    exports: Exports,
    name: Arc<str>,
    config: Arc<BTreeMap<String, String>>,
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
    engine: Engine,
    pre: InstancePre<HostState>,
    exports: Exports,
    name: Arc<str>,
    config: Arc<BTreeMap<String, String>>,
    instances_created: AtomicU64,
}

impl std::fmt::Debug for WasmSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmSandbox")
            .field("name", &self.shared.name)
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
            engine: prepared.engine,
            pre: prepared.pre,
            exports: prepared.exports,
            name: prepared.name,
            config: prepared.config,
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
        &self.shared.name
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
            live.poisoned = true;
            live.stderr.start_call();
            match typed.call_async(&mut live.store, params).await {
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
        live.poisoned = true;
        live.stderr.start_call();
        match typed.call_async(&mut live.store, params).await {
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
        live.poisoned = true;
        live.stderr.start_call();
        match func.call_async(&mut live.store, params, &mut results).await {
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
        let live = Live::new(&self.engine, &self.pre, &self.name, &self.config).await?;
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
