//! Run with: `cargo bench -p wasm-sandbox --bench instances`
//!
//! The cost of new instances and of sharing them, on the `bench` example
//! plugin, measured side by side with raw wasmtime in one process:
//!
//! - `fresh-instance` (instantiate, call `add`, drop), with the default
//!   (on-demand) allocator and with the pooling allocator:
//!   - `raw-wasmtime`: `InstancePre::instantiate_async` on a new `Store`
//!     with an empty WASI context, one typed call, drop the store;
//!   - `sandbox`: a `WasmSandbox` built with `fresh_instance_per_call(true)`
//!     (and `pooling_allocator(true)`), calling `plugin#add`.
//! - `pool-throughput/{add,fib-20}/{1,2,8}-tasks`: on a 2-worker tokio
//!   runtime, that many tasks share a `SandboxPool` (8 instances) and make
//!   calls through it: checkout, call, return. Reported as time per call
//!   (criterion's throughput is calls per second). `raw-wasmtime/N-tasks`
//!   is the ideal without a pool: each task owns its raw instance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wasm_sandbox::{SandboxPool, WasmSandbox};

mod common;

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn bench_fresh(c: &mut Criterion) {
    let rt = current_thread();
    let mut group = c.benchmark_group("fresh-instance");
    for pooling in [false, true] {
        let allocator = if pooling { "pooling" } else { "default" };
        let engine = common::engine(pooling);
        let pre = common::pre(&engine);
        group.bench_function(format!("{allocator}/raw-wasmtime"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let mut store = common::store(&engine);
                        let bench = pre.instantiate_async(&mut store).await.unwrap();
                        let sum = bench
                            .example_interfaces_bench_plugin()
                            .call_add(&mut store, 1, 2)
                            .await
                            .unwrap();
                        assert_eq!(sum, 3);
                    }
                    start.elapsed()
                })
            })
        });
        let sandbox = rt
            .block_on(
                WasmSandbox::builder()
                    .source(example_plugins::BENCH)
                    .fresh_instance_per_call(true)
                    .pooling_allocator(pooling)
                    .build(),
            )
            .unwrap();
        group.bench_function(format!("{allocator}/sandbox"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let sum: u32 = sandbox.call("plugin#add", (1u32, 2u32)).await.unwrap();
                        assert_eq!(sum, 3);
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

/// Runs `iters` calls split over `tasks` tasks on `rt`, and returns the
/// wall time.
fn spread<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, tasks: u64, call: F) -> Duration
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let call = Arc::new(call);
    rt.block_on(async {
        let start = Instant::now();
        let mut handles = Vec::new();
        for task in 0..tasks {
            let n = iters / tasks + u64::from(task < iters % tasks);
            let call = call.clone();
            handles.push(tokio::spawn(async move {
                for _ in 0..n {
                    call(task).await;
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        start.elapsed()
    })
}

fn bench_pool(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pool = rt
        .block_on(
            SandboxPool::builder()
                .source(example_plugins::BENCH)
                .max_instances(8)
                .preload_instances(8)
                .build(),
        )
        .unwrap();
    let engine = common::engine(false);
    let pre = common::pre(&engine);
    // One raw instance per task, each behind its own (uncontended) lock.
    let raw: Arc<Vec<_>> = Arc::new(
        (0..8)
            .map(|_| {
                let mut store = common::store(&engine);
                let bench = rt.block_on(pre.instantiate_async(&mut store)).unwrap();
                tokio::sync::Mutex::new((store, bench))
            })
            .collect(),
    );

    for (work, n) in [("add", 0u32), ("fib-20", 20)] {
        let mut group = c.benchmark_group(format!("pool-throughput/{work}"));
        group.throughput(Throughput::Elements(1));
        if n > 0 {
            group.sample_size(20);
        }
        for tasks in [1u64, 2, 8] {
            let p = pool.clone();
            group.bench_function(format!("sandbox-pool/{tasks}-tasks"), |b| {
                b.iter_custom(|iters| {
                    let p = p.clone();
                    spread(&rt, iters, tasks, move |_| {
                        let p = p.clone();
                        async move {
                            if n == 0 {
                                let sum: u32 = p.call("plugin#add", (1u32, 2u32)).await.unwrap();
                                assert_eq!(sum, 3);
                            } else {
                                let _: u64 = p.call("plugin#fib", (n,)).await.unwrap();
                            }
                        }
                    })
                })
            });
            let r = raw.clone();
            group.bench_function(format!("raw-wasmtime/{tasks}-tasks"), |b| {
                b.iter_custom(|iters| {
                    let r = r.clone();
                    spread(&rt, iters, tasks, move |task| {
                        let r = r.clone();
                        async move {
                            let mut guard = r[task as usize].lock().await;
                            let (store, bench) = &mut *guard;
                            let plugin = bench.example_interfaces_bench_plugin();
                            if n == 0 {
                                let sum = plugin.call_add(&mut *store, 1, 2).await.unwrap();
                                assert_eq!(sum, 3);
                            } else {
                                let _ = plugin.call_fib(&mut *store, n).await.unwrap();
                            }
                        }
                    })
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_fresh, bench_pool);
criterion_main!(benches);
