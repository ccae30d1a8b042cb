//! Run with: `cargo bench -p wasm-sandbox --bench limits`
//!
//! What resource limits cost, and how quickly they stop a hostile plugin,
//! measured side by side in one process on the `hog` example plugin.
//!
//! `overhead/*`: a small call (`add-one`) and a CPU-bound, call-heavy one
//! (`fib(25)`), through
//! - `raw-wasmtime`: `bindgen!` bindings, no interruption at all (the baseline);
//! - `raw-wasmtime-fuel` / `raw-wasmtime-epoch`: raw wasmtime with fuel
//!   metering (yielding every 1M units) or epoch interruption (10 ms ticks),
//!   so the cost of the mechanism itself is visible;
//! - `sandbox-default`: `WasmSandbox` with its defaults (epoch interruption,
//!   a 10 s deadline, the memory limiter);
//! - `sandbox-fuel`: the same on an `Interruption::Fuel` engine;
//! - `sandbox-fuel-budget`: a per-call fuel budget (which runs on a fuel
//!   engine);
//! - `sandbox-report`: the default through `call_with_report`.
//!
//! `stop/*`: the time from the start of a hostile call to its error (the
//! instance replacement that follows is not counted).

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use wasm_sandbox::{EngineConfig, Interruption, WasmSandbox};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, UpdateDeadline};

mod common;

use common::RawState;

mod raw {
    wasmtime::component::bindgen!({
        path: "../wit/example-interfaces/hog",
        world: "hog",
        exports: { default: async },
    });
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Plain,
    Fuel,
    Epoch,
}

/// A raw wasmtime instance of the hog plugin, with `mode` interruption.
fn raw_instance(rt: &tokio::runtime::Runtime, mode: Mode) -> (Store<RawState>, raw::Hog) {
    let mut config = Config::new();
    config.concurrency_support(false);
    config.consume_fuel(mode == Mode::Fuel);
    config.epoch_interruption(mode == Mode::Epoch);
    let engine = Engine::new(&config).unwrap();
    if mode == Mode::Epoch {
        let weak = engine.weak();
        std::thread::spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
    }
    let component = Component::from_file(&engine, example_plugins::HOG).unwrap();
    let mut linker = Linker::<RawState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    // The plugin's logging import, discarding every line.
    linker
        .instance("sandbox:host/logging@0.1.0")
        .unwrap()
        .func_new("log", |_, _, _, _| Ok(()))
        .unwrap();
    let pre = raw::HogPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    let mut store = common::plain_store(&engine);
    match mode {
        Mode::Plain => {}
        Mode::Fuel => {
            store.set_fuel(u64::MAX).unwrap();
            store.fuel_async_yield_interval(Some(1_000_000)).unwrap();
        }
        Mode::Epoch => {
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        }
    }
    let bindings = rt.block_on(pre.instantiate_async(&mut store)).unwrap();
    (store, bindings)
}

fn sandbox(
    rt: &tokio::runtime::Runtime,
    configure: impl FnOnce(wasm_sandbox::SandboxBuilder) -> wasm_sandbox::SandboxBuilder,
) -> WasmSandbox {
    rt.block_on(configure(WasmSandbox::builder().source(example_plugins::HOG)).build())
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn bench_overhead(c: &mut Criterion) {
    let rt = runtime();
    let mut raw: Vec<(&str, Store<RawState>, raw::Hog)> = [
        ("raw-wasmtime", Mode::Plain),
        ("raw-wasmtime-fuel", Mode::Fuel),
        ("raw-wasmtime-epoch", Mode::Epoch),
    ]
    .into_iter()
    .map(|(name, mode)| {
        let (store, bindings) = raw_instance(&rt, mode);
        (name, store, bindings)
    })
    .collect();
    let mut fuel = EngineConfig::new();
    fuel.interruption(Interruption::Fuel);
    let fuel = wasm_sandbox::Engine::for_config(&fuel).unwrap();
    let sandboxes = [
        ("sandbox-default", sandbox(&rt, |b| b), false),
        ("sandbox-fuel", sandbox(&rt, |b| b.engine(&fuel)), false),
        (
            "sandbox-fuel-budget",
            sandbox(&rt, |b| b.fuel(u64::MAX / 2)),
            false,
        ),
        ("sandbox-report", sandbox(&rt, |b| b), true),
    ];

    for (label, n) in [("add-one", None), ("fib(25)", Some(25u32))] {
        let mut group = c.benchmark_group(format!("overhead/{label}"));
        if n.is_some() {
            group.sample_size(20);
        }
        group.measurement_time(Duration::from_secs(3));
        for (name, store, bindings) in &mut raw {
            group.bench_function(*name, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let plugin = bindings.example_interfaces_hog_plugin();
                        let start = Instant::now();
                        for i in 0..iters {
                            match n {
                                None => {
                                    let out = plugin.call_add_one(&mut *store, i as u32).await;
                                    std::hint::black_box(out.unwrap());
                                }
                                Some(n) => {
                                    let out = plugin.call_fib(&mut *store, n).await;
                                    std::hint::black_box(out.unwrap());
                                }
                            }
                        }
                        start.elapsed()
                    })
                })
            });
        }
        for (name, sandbox, report) in &sandboxes {
            group.bench_function(*name, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for i in 0..iters {
                            match (n, report) {
                                (None, false) => {
                                    let out: u32 =
                                        sandbox.call("plugin#add-one", (i as u32,)).await.unwrap();
                                    std::hint::black_box(out);
                                }
                                (None, true) => {
                                    let out = sandbox
                                        .call_with_report::<_, u32>("plugin#add-one", (i as u32,))
                                        .await
                                        .unwrap();
                                    std::hint::black_box(out);
                                }
                                (Some(n), false) => {
                                    let out: u64 = sandbox.call("plugin#fib", (n,)).await.unwrap();
                                    std::hint::black_box(out);
                                }
                                (Some(n), true) => {
                                    let out = sandbox
                                        .call_with_report::<_, u64>("plugin#fib", (n,))
                                        .await
                                        .unwrap();
                                    std::hint::black_box(out);
                                }
                            }
                        }
                        start.elapsed()
                    })
                })
            });
        }
        group.finish();
    }
}

fn bench_stop(c: &mut Criterion) {
    let rt = runtime();
    let limit = Duration::from_millis(100);
    let mut fuel = EngineConfig::new();
    fuel.interruption(Interruption::Fuel);
    let fuel = wasm_sandbox::Engine::for_config(&fuel).unwrap();
    let timed = sandbox(&rt, |b| b.cpu_timeout(limit));
    let timed_fuel = sandbox(&rt, |b| b.engine(&fuel).cpu_timeout(limit));
    let fueled = sandbox(&rt, |b| b.fuel(100_000_000));
    let plain = sandbox(&rt, |b| b);

    let mut group = c.benchmark_group("stop");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let cases: Vec<(&str, &WasmSandbox, &str, Vec<wasm_sandbox::component::Val>)> = {
        use wasm_sandbox::component::Val;
        vec![
            ("spin@100ms-epoch", &timed, "plugin#spin", vec![]),
            ("spin@100ms-fuel", &timed_fuel, "plugin#spin", vec![]),
            ("spin-logging@100ms", &timed, "plugin#spin-logging", vec![]),
            (
                "sleep@100ms",
                &timed,
                "plugin#sleep",
                vec![Val::U64(60_000)],
            ),
            ("spin@fuel-100M", &fueled, "plugin#spin", vec![]),
            ("grow-memory@64MiB", &plain, "plugin#grow-memory", vec![]),
            (
                "allocate-1GiB@64MiB",
                &plain,
                "plugin#allocate",
                vec![Val::U64(1 << 30)],
            ),
            (
                "recurse@512KiB",
                &plain,
                "plugin#recurse",
                vec![Val::U64(u64::MAX)],
            ),
            (
                "big-string-100MiB@64MiB",
                &plain,
                "plugin#big-string",
                vec![Val::U64(100 << 20)],
            ),
            (
                "trap-mid-output",
                &plain,
                "plugin#trap-mid-output",
                vec![Val::U32(10)],
            ),
            (
                "panic",
                &plain,
                "plugin#panic",
                vec![Val::String("no".into())],
            ),
        ]
    };
    for (name, sandbox, function, args) in &cases {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        // Replace the poisoned instance outside the timing.
                        let _: u32 = sandbox.call("plugin#add-one", (1u32,)).await.unwrap();
                        let start = Instant::now();
                        let err = sandbox.call_dynamic(function, args).await.unwrap_err();
                        total += start.elapsed();
                        std::hint::black_box(err);
                    }
                    total
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_overhead, bench_stop);
criterion_main!(benches);
