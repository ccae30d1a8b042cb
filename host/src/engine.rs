//! The compilation environment shared by sandboxes.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// A wasmtime engine configured for running plugins.
///
/// Compiling a component is tied to the engine that compiled it, and an
/// engine holds code memory and (later) background state, so a process
/// normally needs exactly one: [`Engine::shared`] returns it, and every
/// [`SandboxBuilder`](crate::SandboxBuilder) uses it unless
/// [`engine`](crate::SandboxBuilder::engine) picks another. Create a separate
/// engine with [`Engine::new`] only when you need a different
/// [`EngineConfig`].
///
/// Cloning is cheap: clones share the same underlying engine.
#[derive(Clone)]
pub struct Engine {
    inner: wasmtime::Engine,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// Settings of an [`Engine`].
///
/// # Example
///
/// ```
/// use wasm_sandbox::{Engine, EngineConfig};
///
/// let mut config = EngineConfig::new();
/// config.concurrency_support(true);
/// let engine = Engine::new(&config)?;
/// # Ok::<(), wasm_sandbox::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct EngineConfig {
    concurrency_support: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::new()
    }
}

impl EngineConfig {
    /// The settings [`Engine::shared`] uses.
    pub fn new() -> Self {
        EngineConfig {
            concurrency_support: false,
        }
    }

    /// Enables the component model's async machinery (streams, futures,
    /// concurrent calls).
    ///
    /// Plugins do not need it, and with it on wasmtime starts a guest task for
    /// every call, which makes a small call about three times slower.
    ///
    /// By default it is off.
    pub fn concurrency_support(&mut self, enable: bool) -> &mut Self {
        self.concurrency_support = enable;
        self
    }

    fn to_wasmtime(&self) -> wasmtime::Config {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.concurrency_support(self.concurrency_support);
        // Guest backtraces name functions from the component's name section;
        // reading DWARF (file and line) would slow down every compile.
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
        config
    }
}

impl Engine {
    /// Creates an engine with the given settings.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] when wasmtime rejects the combination of
    /// settings or cannot set up code memory on this machine.
    pub fn new(config: &EngineConfig) -> Result<Engine> {
        let inner = wasmtime::Engine::new(&config.to_wasmtime()).map_err(|e| Error::Config {
            detail: format!("{e:#}"),
        })?;
        Ok(Engine { inner })
    }

    /// The process-wide engine with the default [`EngineConfig`], created on
    /// first use. Every call returns a clone of the same engine.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] if wasmtime cannot create an engine on this
    /// machine (for example when the OS refuses executable memory); no
    /// plugin could run then.
    pub fn shared() -> Result<Engine> {
        static SHARED: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
        match SHARED.get_or_init(|| Engine::new(&EngineConfig::new()).map_err(|e| e.to_string())) {
            Ok(engine) => Ok(engine.clone()),
            Err(detail) => Err(Error::Config {
                detail: detail.clone(),
            }),
        }
    }

    /// The underlying wasmtime engine, for code that uses wasmtime directly.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_engine_is_created_once() {
        let a = Engine::shared().unwrap();
        let b = Engine::shared().unwrap();
        assert!(wasmtime::Engine::same(a.wasmtime(), b.wasmtime()));
        let other = Engine::new(&EngineConfig::new()).unwrap();
        assert!(!wasmtime::Engine::same(a.wasmtime(), other.wasmtime()));
    }
}
