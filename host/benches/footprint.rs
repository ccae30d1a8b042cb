//! Run with: `cargo bench -p wasm-sandbox --bench footprint`
//!
//! Resident memory of 1000 idle instances of the `bench` plugin, per
//! instance: a `SandboxPool` preloaded with 1000 instances (each with its
//! store, WASI context, policy state and audit view), with the default and
//! with the pooling allocator, next to 1000 raw wasmtime stores and
//! instances with an empty WASI context on the same allocator.
//!
//! Measured as the growth of the process's resident set (`/proc/self/statm`)
//! while the instances are created, after a warm-up that created the
//! engine and compiled the plugin; the pool's figure also includes a second
//! copy of the plugin's code, so it slightly overstates.

use wasm_sandbox::SandboxPool;

mod common;

const INSTANCES: usize = 1000;

fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("resident memory per idle instance, {INSTANCES} instances of the `bench` plugin");
    for pooling in [false, true] {
        let allocator = if pooling { "pooling" } else { "default" };

        let build = |preload: usize| {
            rt.block_on(
                SandboxPool::builder()
                    .source(example_plugins::BENCH)
                    .pooling_allocator(pooling)
                    .max_instances(INSTANCES + 1)
                    .preload_instances(preload)
                    .build(),
            )
            .unwrap()
        };
        let warm = build(1);
        let before = common::resident_bytes();
        let pool = build(INSTANCES);
        let after = common::resident_bytes();
        assert_eq!(pool.metrics().idle, INSTANCES);
        let ours = after.saturating_sub(before) / INSTANCES as u64;
        drop((warm, pool));

        let engine = common::engine(pooling);
        let pre = common::pre(&engine);
        let mut keep = Vec::with_capacity(INSTANCES + 1);
        let mut store = common::store(&engine);
        let bench = rt.block_on(pre.instantiate_async(&mut store)).unwrap();
        keep.push((store, bench));
        let before = common::resident_bytes();
        // The raw pooling engine has room for 1000 instances, the warm-up's
        // included.
        for _ in 1..INSTANCES {
            let mut store = common::store(&engine);
            let bench = rt.block_on(pre.instantiate_async(&mut store)).unwrap();
            keep.push((store, bench));
        }
        let after = common::resident_bytes();
        let raw = after.saturating_sub(before) / (INSTANCES as u64 - 1);
        drop(keep);

        println!(
            "{allocator:<8} sandbox-pool {:>7.1} KiB   raw-wasmtime {:>7.1} KiB   ratio {:.2}",
            kib(ours),
            kib(raw),
            ours as f64 / raw.max(1) as f64
        );
    }
}
