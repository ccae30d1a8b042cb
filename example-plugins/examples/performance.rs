//! Run with: `cargo run --example performance`
//!
//! The performance features on the `bench` plugin: the compile cache and a
//! precompiled artifact, a fresh instance per call on the pooling allocator,
//! a `SandboxPool` shared by tasks, and the profiler.

use std::time::Instant;

use example_interfaces::BenchPlugin;
use wasm_sandbox::{OptimizationLevel, ProfileConfig, SandboxPool, WasmSandbox};

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    let dir = std::env::temp_dir().join(format!("wasm-sandbox-perf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");

    // ANCHOR: cache
    // The compile cache is on by default; a directory of its own here.
    for _ in 0..2 {
        let start = Instant::now();
        let sandbox = WasmSandbox::builder()
            .source(example_plugins::BENCH)
            .cache_dir(dir.join("cache"))
            .build()
            .await?;
        println!(
            "built in {:>9.2?}: cache {:?}",
            start.elapsed(),
            sandbox.cache_outcome()
        );
    }
    // ANCHOR_END: cache

    // ANCHOR: precompiled
    // Ahead of time (in a build step, or `wasm-sandbox compile -o DIR`):
    let artifact = dir.join("bench.cwasm");
    let bytes = WasmSandbox::builder()
        .source(example_plugins::BENCH)
        .precompile()?;
    std::fs::write(&artifact, bytes).expect("write the artifact");
    // At start-up: no compilation at all. Only load artifacts you made.
    let sandbox = WasmSandbox::builder()
        .precompiled(&artifact)
        .build()
        .await?;
    let sum: u32 = sandbox.call("plugin#add", (2u32, 3u32)).await?;
    // ANCHOR_END: precompiled
    println!("precompiled plugin: 2 + 3 = {sum}");

    // ANCHOR: fresh
    // Serverless-style isolation: every call on a new instance, made cheap
    // by the pooling allocator's copy-on-write memory images.
    let isolated = WasmSandbox::builder()
        .source(example_plugins::BENCH)
        .fresh_instance_per_call(true)
        .pooling_allocator(true)
        .optimization_level(OptimizationLevel::Speed)
        .build()
        .await?;
    let start = Instant::now();
    for i in 0..1000u32 {
        let _: u32 = isolated.call("plugin#add", (i, 1u32)).await?;
    }
    println!(
        "1000 calls, each on a fresh instance: {:.1?} per call",
        start.elapsed() / 1000
    );
    // ANCHOR_END: fresh

    // ANCHOR: pool
    let pool = SandboxPool::builder()
        .source(example_plugins::BENCH)
        .max_instances(4)
        .preload_instances(2)
        .build()
        .await?;
    let mut tasks = Vec::new();
    for task in 0..8u32 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            // Typed proxies work on a pool too.
            let bench = BenchPlugin::load(&pool)?;
            let mut total = 0;
            for n in 0..100 {
                total += bench.fib(10 + (n + task) % 10).await?;
            }
            Ok::<u64, wasm_sandbox::Error>(total)
        }));
    }
    for task in tasks {
        task.await.expect("the task finished")?;
    }
    println!("{:?}", pool.metrics());
    // ANCHOR_END: pool

    // ANCHOR: synchronous
    // For tiny functions called in hot loops: no fiber switch per call.
    // The build fails, naming the imports in the way, if the plugin can
    // wait in a host call (files, sockets, HTTP, timers, processes).
    let hot = WasmSandbox::builder()
        .source(example_plugins::BENCH)
        .synchronous_calls(true)
        .build()
        .await?;
    assert!(hot.is_synchronous());
    let bench = BenchPlugin::load(&hot)?;
    let start = Instant::now();
    for i in 0..100_000u32 {
        bench.add(i, 1).await?;
    }
    println!(
        "100000 synchronous calls: {:.0?} per call",
        start.elapsed() / 100_000
    );
    // ANCHOR_END: synchronous

    // ANCHOR: profile
    let profiled = WasmSandbox::builder()
        .source(example_plugins::BENCH)
        .profiler(ProfileConfig::new().output(dir.join("bench-profile.json")))
        .build()
        .await?;
    let bench = BenchPlugin::load(&profiled)?;
    bench.fib(35).await?;
    bench.hash(1 << 20, 4).await?;
    for i in 0..100 {
        bench.add(i, i).await?;
    }
    // Open the file at https://profiler.firefox.com ("Load a profile from file").
    let path = profiled.write_profile()?.expect("an output was configured");
    println!("profile written to {}", path.display());
    print!("{}", profiled.profile_report().expect("profiling is on"));
    // ANCHOR_END: profile

    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
