//! The raw-wasmtime baseline shared by the benchmarks: hand-written
//! `bindgen!` bindings of the `bench` example plugin and an engine set up
//! the way wasm-sandbox sets up its own (component-model concurrency off,
//! epoch interruption advanced every 10 ms, stores yielding at each tick).

#![allow(
    dead_code,
    reason = "each benchmark uses a different part of this module"
)]

use std::time::Duration;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub(crate) mod raw {
    wasmtime::component::bindgen!({
        path: "../wit/example-interfaces/bench",
        world: "bench",
        exports: { default: async },
    });
}

/// The store data of a raw instance: an empty WASI context.
pub(crate) struct RawState {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for RawState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// wasm-sandbox's engine settings in raw wasmtime; with `pooling`, the
/// pooling allocator sized as `pooling_allocator(true)` sizes it for the
/// default limits.
pub(crate) fn engine(pooling: bool) -> Engine {
    let mut config = Config::new();
    config.concurrency_support(false);
    config.epoch_interruption(true);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
    config.max_wasm_stack(wasm_sandbox::ResourceLimits::DEFAULT_STACK);
    config.async_stack_size(wasm_sandbox::ResourceLimits::DEFAULT_STACK + 1024 * 1024);
    if pooling {
        let instances = 1000;
        let mut p = wasmtime::PoolingAllocationConfig::new();
        p.total_component_instances(instances)
            .total_core_instances(instances * 4)
            .total_memories(instances * 4)
            .total_tables(instances * 4)
            .total_stacks(instances)
            .max_memory_size(wasm_sandbox::ResourceLimits::DEFAULT_MEMORY)
            .table_elements(wasm_sandbox::ResourceLimits::DEFAULT_TABLE_ELEMENTS);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(p));
        config.memory_init_cow(true);
    }
    let engine = Engine::new(&config).unwrap();
    // Advance the epoch every 10 ms, as wasm-sandbox's ticker thread does.
    let weak = engine.weak();
    std::thread::spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    engine
}

/// The bench plugin compiled and linked with WASI on `engine`.
pub(crate) fn pre(engine: &Engine) -> raw::BenchPre<RawState> {
    let component = Component::from_file(engine, example_plugins::BENCH).unwrap();
    let mut linker = Linker::<RawState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    raw::BenchPre::new(linker.instantiate_pre(&component).unwrap()).unwrap()
}

/// A new store, for an engine without epoch interruption.
pub(crate) fn plain_store(engine: &Engine) -> Store<RawState> {
    Store::new(
        engine,
        RawState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    )
}

/// A new store, set up to yield at every epoch tick.
pub(crate) fn store(engine: &Engine) -> Store<RawState> {
    let mut store = plain_store(engine);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
    store
}

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
pub(crate) fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}
