//! The compilation environment shared by sandboxes.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::limits::ResourceLimits;

/// How a running plugin is made to give control back, so that its call's
/// deadline can be enforced while it computes.
///
/// Either way the deadline itself is a timer around the call: the mechanism
/// only decides how often the guest pauses to let the timer fire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Interruption {
    /// One engine-wide ticker thread advances wasmtime's epoch every 10 ms;
    /// the guest yields at each tick. The cheaper of the two: on a
    /// call-heavy CPU-bound plugin it cost about 7% over no interruption
    /// at all, against about 20% for fuel (see the Resource limits chapter).
    /// Per-call fuel budgets need [`Interruption::Fuel`].
    #[default]
    Epoch,
    /// wasmtime counts fuel; every [`EngineConfig::yield_interval`] units the
    /// guest yields to the async runtime. Also enables per-call fuel budgets
    /// ([`SandboxBuilder::fuel`](crate::SandboxBuilder::fuel) picks an engine
    /// with fuel by itself).
    Fuel,
}

/// A wasmtime engine configured for running plugins.
///
/// Compiling a component is tied to the engine that compiled it, and an
/// engine holds code memory and background state, so a process normally
/// needs one per configuration: [`Engine::shared`] returns the default one,
/// and [`Engine::for_config`] returns the one for a configuration (creating
/// it once). Every [`SandboxBuilder`](crate::SandboxBuilder) picks its engine
/// this way unless [`engine`](crate::SandboxBuilder::engine) names one.
///
/// Cloning is cheap: clones share the same underlying engine.
#[derive(Clone)]
pub struct Engine {
    inner: wasmtime::Engine,
    config: EngineConfig,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Settings of an [`Engine`].
///
/// # Example
///
/// ```
/// use wasm_sandbox::{Engine, EngineConfig, Interruption};
///
/// let mut config = EngineConfig::new();
/// config.interruption(Interruption::Fuel);
/// let engine = Engine::new(&config)?;
/// # Ok::<(), wasm_sandbox::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EngineConfig {
    concurrency_support: bool,
    interruption: Interruption,
    max_wasm_stack: usize,
    yield_interval: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::new()
    }
}

/// How long an epoch tick is.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

impl EngineConfig {
    /// The settings [`Engine::shared`] uses.
    pub fn new() -> Self {
        EngineConfig {
            concurrency_support: false,
            interruption: Interruption::Epoch,
            max_wasm_stack: ResourceLimits::DEFAULT_STACK,
            yield_interval: 1_000_000,
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

    /// How a computing plugin is interrupted so that its deadline can fire.
    ///
    /// By default it is [`Interruption::Epoch`].
    pub fn interruption(&mut self, how: Interruption) -> &mut Self {
        self.interruption = how;
        self
    }

    /// The largest guest stack, in bytes; deeper recursion traps with
    /// `Limit::Stack`. It must stay well below the stack the guest runs on
    /// (the engine sizes that to this plus 1 MiB).
    ///
    /// By default it is 512 KiB.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// With [`Interruption::Fuel`], how many fuel units (roughly, wasm
    /// instructions) a guest runs between pauses that let its deadline fire.
    /// Smaller is more precise and slower.
    ///
    /// By default it is 1 000 000 (well under a millisecond of work: a
    /// simple wasm instruction is about one unit).
    pub fn yield_interval(&mut self, units: u64) -> &mut Self {
        self.yield_interval = units.max(1);
        self
    }

    pub(crate) fn get_interruption(&self) -> Interruption {
        self.interruption
    }

    pub(crate) fn get_max_wasm_stack(&self) -> usize {
        self.max_wasm_stack
    }

    pub(crate) fn get_yield_interval(&self) -> u64 {
        self.yield_interval
    }

    fn to_wasmtime(&self) -> wasmtime::Config {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.concurrency_support(self.concurrency_support);
        // Guest backtraces name functions from the component's name section;
        // reading DWARF (file and line) would slow down every compile.
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
        config.consume_fuel(self.interruption == Interruption::Fuel);
        config.epoch_interruption(self.interruption == Interruption::Epoch);
        config.max_wasm_stack(self.max_wasm_stack);
        // Guests run on fibers; keep their stacks comfortably larger than
        // the wasm stack limit so that an overflow is a trap, never a crash.
        config.async_stack_size(self.max_wasm_stack + 1024 * 1024);
        config
    }
}

impl Engine {
    /// Creates an engine with the given settings (see also
    /// [`Engine::for_config`], which shares one per configuration).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] when wasmtime rejects the combination of
    /// settings or cannot set up code memory on this machine.
    pub fn new(config: &EngineConfig) -> Result<Engine> {
        let inner = wasmtime::Engine::new(&config.to_wasmtime()).map_err(|e| Error::Config {
            detail: format!("{e:#}"),
        })?;
        if config.interruption == Interruption::Epoch {
            start_ticker(&inner);
        }
        Ok(Engine {
            inner,
            config: config.clone(),
        })
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
        Engine::for_config(&EngineConfig::new())
    }

    /// The process-wide engine for `config`, created on first use.
    ///
    /// # Errors
    ///
    /// As [`Engine::new`].
    pub fn for_config(config: &EngineConfig) -> Result<Engine> {
        static ENGINES: OnceLock<Mutex<HashMap<EngineConfig, Engine>>> = OnceLock::new();
        let engines = ENGINES.get_or_init(|| Mutex::new(HashMap::new()));
        let mut engines = engines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(engine) = engines.get(config) {
            return Ok(engine.clone());
        }
        let engine = Engine::new(config)?;
        engines.insert(config.clone(), engine.clone());
        Ok(engine)
    }

    /// The underlying wasmtime engine, for code that uses wasmtime directly.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}

/// One thread per epoch engine, advancing its epoch every tick until the
/// engine is dropped.
fn start_ticker(engine: &wasmtime::Engine) {
    let weak = engine.weak();
    let _ = std::thread::Builder::new()
        .name("wasm-sandbox-epoch".to_string())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_engine_per_configuration() {
        let a = Engine::shared().unwrap();
        let b = Engine::shared().unwrap();
        assert!(wasmtime::Engine::same(a.wasmtime(), b.wasmtime()));
        let mut config = EngineConfig::new();
        config.max_wasm_stack(128 * 1024);
        let c = Engine::for_config(&config).unwrap();
        let d = Engine::for_config(&config).unwrap();
        assert!(!wasmtime::Engine::same(a.wasmtime(), c.wasmtime()));
        assert!(wasmtime::Engine::same(c.wasmtime(), d.wasmtime()));
        let other = Engine::new(&EngineConfig::new()).unwrap();
        assert!(!wasmtime::Engine::same(a.wasmtime(), other.wasmtime()));
    }
}
