//! Functions the host offers plugins: the built-in `sandbox:host` package
//! (logging, configuration) and app-declared `#[host_interface]`s.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentType, Lift, Linker};

use crate::store::HostState;

/// A set of host functions that plugins may import, made by the
/// `<Trait>Host::new(impl)` type that `#[host_interface]` generates.
///
/// Register it with [`SandboxBuilder::host_interface`](crate::SandboxBuilder::host_interface).
/// A plugin that imports an interface nobody registered fails to load with
/// [`Error::MissingImport`](crate::Error::MissingImport) naming it.
#[derive(Clone)]
pub struct HostInterface {
    import: String,
    link: Arc<LinkFn>,
}

/// Registers an interface's functions in a linker.
type LinkFn = dyn Fn(&mut Linker<HostState>) -> wasmtime::Result<()> + Send + Sync;

impl std::fmt::Debug for HostInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostInterface")
            .field("import", &self.import)
            .finish_non_exhaustive()
    }
}

impl HostInterface {
    #[doc(hidden)]
    pub fn __new(
        import: &str,
        link: impl Fn(&mut Linker<HostState>) -> wasmtime::Result<()> + Send + Sync + 'static,
    ) -> HostInterface {
        HostInterface {
            import: import.to_string(),
            link: Arc::new(link),
        }
    }

    /// The name plugins import it under, for example
    /// `example-interfaces:key-value/key-value@0.1.0`.
    pub fn import_name(&self) -> &str {
        &self.import
    }

    pub(crate) fn add_to_linker(&self, linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        (self.link)(linker)
    }
}

/// Runs a host function's implementation for a plugin. A panic in it becomes
/// an error for that call (the plugin traps), never a crash of the host.
#[doc(hidden)]
pub fn host_call<R>(
    _cx: &mut StoreContextMut<'_, HostState>,
    import: &str,
    function: &str,
    f: impl FnOnce() -> R,
) -> wasmtime::Result<R> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic payload".to_string());
            Err(wasmtime::Error::msg(format!(
                "the host's implementation of `{import}#{function}` panicked: {msg}"
            )))
        }
    }
}

/// `sandbox:host/logging.level`
#[derive(ComponentType, Lift, Clone, Copy, Debug)]
#[allow(
    dead_code,
    reason = "values are made by `Lift` from the plugin's arguments"
)]
#[component(enum)]
#[repr(u8)]
enum Level {
    #[component(name = "trace")]
    Trace,
    #[component(name = "debug")]
    Debug,
    #[component(name = "info")]
    Info,
    #[component(name = "warn")]
    Warn,
    #[component(name = "error")]
    Error,
}

/// The interfaces of `wit/sandbox-host/host.wit`, always offered: logging
/// into `tracing` and read access to the plugin's own configuration.
pub(crate) const LOGGING: &str = "sandbox:host/logging@0.1.0";
pub(crate) const CONFIG: &str = "sandbox:host/config@0.1.0";

/// Longest log message kept; the rest is cut.
const MAX_LOG_MESSAGE: usize = 16 * 1024;

pub(crate) fn add_builtin(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut logging = linker.instance(LOGGING)?;
    logging.func_wrap(
        "log",
        |cx: StoreContextMut<'_, HostState>, (level, mut message): (Level, String)| {
            if message.len() > MAX_LOG_MESSAGE {
                let mut cut = MAX_LOG_MESSAGE;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push_str(" [message cut]");
            }
            let plugin = cx.data().plugin();
            match level {
                Level::Trace => {
                    tracing::trace!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Debug => {
                    tracing::debug!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Info => {
                    tracing::info!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Warn => {
                    tracing::warn!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Error => {
                    tracing::error!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
            }
            Ok(())
        },
    )?;
    let mut config = linker.instance(CONFIG)?;
    config.func_wrap(
        "get",
        |cx: StoreContextMut<'_, HostState>, (key,): (String,)| {
            Ok((cx.data().config().get(&key).cloned(),))
        },
    )?;
    config.func_wrap("keys", |cx: StoreContextMut<'_, HostState>, (): ()| {
        Ok((cx.data().config().keys().cloned().collect::<Vec<String>>(),))
    })?;
    Ok(())
}
