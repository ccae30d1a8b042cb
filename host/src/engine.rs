//! The compilation environment shared by sandboxes.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::limits::ResourceLimits;

/// Fiber stack beyond the wasm stack limit, so an overflow is a trap (and
/// the native stack a synchronous call needs beyond it, for the same
/// reason).
pub(crate) const FIBER_HEADROOM: usize = 1024 * 1024;

/// How a running plugin is made to give control back, so that its call's
/// deadline can be enforced while it computes.
///
/// Either way the deadline itself is a timer around the call: the mechanism
/// only decides how often the guest pauses to let the timer fire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Interruption {
    /// One process-wide ticker thread advances wasmtime's epoch every 10 ms;
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
    optimization: OptimizationLevel,
    parallel_compilation: bool,
    pooling: Option<PoolingConfig>,
}

/// How much Cranelift optimises a plugin's code while compiling it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptimizationLevel {
    /// No optimisation: the fastest compile, the slowest code.
    None,
    /// Optimise for speed (wasmtime's default).
    #[default]
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

/// Settings of wasmtime's pooling instance allocator: memories, tables and
/// instances come from slots reserved when the engine is created, and linear
/// memories are reset with copy-on-write images, which makes instantiating
/// several times cheaper. See [`EngineConfig::pooling`].
///
/// The totals must cover every live instance of every sandbox on the engine,
/// at any moment; instantiating beyond them fails with
/// [`Error::Instantiate`](crate::Error::Instantiate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolingConfig {
    /// Component instances that can be live at once. Default 1000.
    pub instances: u32,
    /// The largest linear memory of one slot, in bytes: a plugin's
    /// `memory_limit` must not be larger. Default 64 MiB
    /// ([`ResourceLimits::DEFAULT_MEMORY`]).
    pub max_memory: usize,
    /// The most elements of one table. Default 100 000.
    pub table_elements: usize,
    /// Core instances per component instance, on average (a Rust plugin built
    /// with wit-bindgen uses 3). Default 4.
    pub core_instances_per_instance: u32,
}

impl Default for PoolingConfig {
    fn default() -> Self {
        PoolingConfig {
            instances: 1000,
            max_memory: ResourceLimits::DEFAULT_MEMORY,
            table_elements: ResourceLimits::DEFAULT_TABLE_ELEMENTS,
            core_instances_per_instance: 4,
        }
    }
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
            interruption: Interruption::Epoch,
            max_wasm_stack: ResourceLimits::DEFAULT_STACK,
            yield_interval: 1_000_000,
            optimization: OptimizationLevel::Speed,
            parallel_compilation: true,
            pooling: None,
        }
    }

    /// How much Cranelift optimises plugin code.
    ///
    /// By default it is [`OptimizationLevel::Speed`].
    pub fn optimization_level(&mut self, level: OptimizationLevel) -> &mut Self {
        self.optimization = level;
        self
    }

    /// Compiles a plugin's functions on several threads.
    ///
    /// By default it is on.
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Self {
        self.parallel_compilation = enable;
        self
    }

    /// Uses wasmtime's pooling instance allocator with these sizes (`None`:
    /// the default on-demand allocator). Pooling reserves address space for
    /// every slot when the engine is created and makes each instantiation
    /// cheaper; worth it when instances are created often (a fresh instance
    /// per call, a [`SandboxPool`](crate::SandboxPool)).
    ///
    /// By default it is off.
    pub fn pooling(&mut self, pooling: Option<PoolingConfig>) -> &mut Self {
        self.pooling = pooling;
        self
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

    pub(crate) fn get_concurrency_support(&self) -> bool {
        self.concurrency_support
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
        // `Engine::new` refuses a stack limit for which this overflows.
        config.async_stack_size(self.max_wasm_stack.saturating_add(FIBER_HEADROOM));
        config.cranelift_opt_level(match self.optimization {
            OptimizationLevel::None => wasmtime::OptLevel::None,
            OptimizationLevel::Speed => wasmtime::OptLevel::Speed,
            OptimizationLevel::SpeedAndSize => wasmtime::OptLevel::SpeedAndSize,
        });
        config.parallel_compilation(self.parallel_compilation);
        if let Some(pooling) = &self.pooling {
            let mut p = wasmtime::PoolingAllocationConfig::new();
            let instances = pooling.instances.max(1);
            let core = instances.saturating_mul(pooling.core_instances_per_instance.max(1));
            p.total_component_instances(instances)
                .total_core_instances(core)
                .total_memories(core)
                .total_tables(core)
                .total_stacks(instances)
                .max_memory_size(pooling.max_memory)
                .table_elements(pooling.table_elements)
                .max_core_instances_per_component(ResourceLimits::DEFAULT_INSTANCES as u32)
                .max_memories_per_component(ResourceLimits::DEFAULT_INSTANCES as u32)
                .max_tables_per_component(ResourceLimits::DEFAULT_INSTANCES as u32);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(p));
            // Reset memories with copy-on-write images instead of copying
            // data segments on every instantiation.
            config.memory_init_cow(true);
        }
        config
    }
}

impl Engine {
    /// Creates an engine with the given settings (see also
    /// [`Engine::for_config`], which shares one per configuration).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] when the stack limit is zero or so large
    /// that the fiber stack size overflows, when wasmtime rejects the
    /// combination of settings, or when it cannot set up code memory on
    /// this machine.
    pub fn new(config: &EngineConfig) -> Result<Engine> {
        if config.max_wasm_stack == 0 || config.max_wasm_stack.checked_add(FIBER_HEADROOM).is_none()
        {
            return Err(Error::Config {
                detail: format!(
                    "max_wasm_stack = {} is out of range; set it between {} and {} bytes",
                    config.max_wasm_stack,
                    ResourceLimits::MIN_STACK,
                    ResourceLimits::MAX_STACK
                ),
            });
        }
        let inner = wasmtime::Engine::new(&config.to_wasmtime()).map_err(|e| Error::Config {
            detail: format!("{e:#}"),
        })?;
        crate::deadline::start();
        if config.interruption == Interruption::Epoch {
            crate::deadline::tick_epochs_of(&inner);
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
