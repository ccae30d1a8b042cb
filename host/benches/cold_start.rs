//! Run with: `cargo bench -p wasm-sandbox --bench cold_start`
//!
//! Cold start in a new process: how long from `main` to the first result of
//! a call on the `bench` plugin (`plugin#add`), in a process that has loaded
//! nothing yet. This binary runs copies of itself, one per sample, in these
//! modes (raw wasmtime does the same work by hand in the same run):
//!
//! - `sandbox/warm-cache`: `WasmSandbox::builder().source(..)` with the
//!   compile cache already holding the plugin;
//! - `sandbox/precompiled`: `.precompiled(path)` on an artifact from
//!   `SandboxBuilder::precompile`;
//! - `raw-wasmtime/precompiled`: `Component::deserialize_file`, WASI
//!   linker, `instantiate_async`, one call;
//! - `sandbox/empty-cache` and `raw-wasmtime/compile`: the same from the
//!   `.wasm`, compiling it (a new, empty cache directory for each sample).
//!
//! For each it prints the median and the range of the time measured inside
//! the child (from `main` to the result) and of the whole process as the
//! parent sees it (spawn to exit, which adds exec and dynamic loading).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use wasm_sandbox::WasmSandbox;

mod common;

const MODE: &str = "COLD_START_MODE";
const PATH: &str = "COLD_START_PATH";

fn main() {
    match std::env::var(MODE) {
        Ok(mode) => child(&mode, &PathBuf::from(std::env::var(PATH).unwrap())),
        Err(_) => parent(),
    }
}

/// Runs one cold start and prints its time in nanoseconds.
fn child(mode: &str, path: &Path) {
    let start = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        match mode {
            "sandbox/warm-cache" | "sandbox/empty-cache" => {
                let sandbox = WasmSandbox::builder()
                    .source(example_plugins::BENCH)
                    .cache_dir(path)
                    .build()
                    .await
                    .unwrap();
                let expected = if mode == "sandbox/warm-cache" {
                    wasm_sandbox::CacheOutcome::Hit
                } else {
                    wasm_sandbox::CacheOutcome::Miss
                };
                assert_eq!(sandbox.cache_outcome(), Some(&expected));
                sandbox
                    .call::<_, u32>("plugin#add", (1u32, 2u32))
                    .await
                    .unwrap()
            }
            "sandbox/precompiled" => {
                let sandbox = WasmSandbox::builder()
                    .precompiled(path)
                    .build()
                    .await
                    .unwrap();
                sandbox
                    .call::<_, u32>("plugin#add", (1u32, 2u32))
                    .await
                    .unwrap()
            }
            "raw-wasmtime/precompiled" | "raw-wasmtime/compile" => {
                let engine = common::engine(false);
                let component = if mode == "raw-wasmtime/precompiled" {
                    // SAFETY: the file was written by this benchmark's parent
                    // with `Engine::precompile_component` on the same settings.
                    #[allow(unsafe_code)]
                    unsafe {
                        wasmtime::component::Component::deserialize_file(&engine, path).unwrap()
                    }
                } else {
                    wasmtime::component::Component::from_file(&engine, example_plugins::BENCH)
                        .unwrap()
                };
                let mut linker = wasmtime::component::Linker::new(&engine);
                wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
                let pre = common::raw::BenchPre::new(linker.instantiate_pre(&component).unwrap())
                    .unwrap();
                let mut store = common::store(&engine);
                let bench = pre.instantiate_async(&mut store).await.unwrap();
                bench
                    .example_interfaces_bench_plugin()
                    .call_add(&mut store, 1, 2)
                    .await
                    .unwrap()
            }
            other => panic!("unknown mode {other}"),
        }
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, 3);
    println!("{}", elapsed.as_nanos());
}

struct Sample {
    inside: Duration,
    process: Duration,
}

fn run(mode: &str, path: &Path) -> Sample {
    let start = Instant::now();
    let out = Command::new(std::env::current_exe().unwrap())
        .env(MODE, mode)
        .env(PATH, path)
        .output()
        .unwrap();
    let process = start.elapsed();
    assert!(
        out.status.success(),
        "{mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nanos: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    Sample {
        inside: Duration::from_nanos(nanos),
        process,
    }
}

fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let median = samples[samples.len() / 2];
    format!(
        "{:>9.2?}  [{:.2?} .. {:.2?}]",
        median,
        samples[0],
        samples[samples.len() - 1]
    )
}

fn report(mode: &str, samples: Vec<Sample>) {
    let mut inside: Vec<Duration> = samples.iter().map(|s| s.inside).collect();
    let mut process: Vec<Duration> = samples.iter().map(|s| s.process).collect();
    println!(
        "{mode:<26} in-process {}   whole process {}",
        summary(&mut inside),
        summary(&mut process)
    );
}

fn parent() {
    const RUNS: usize = 21;
    const COMPILE_RUNS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    println!(
        "cold start of the `bench` plugin to its first result, {RUNS} runs each \
         ({COMPILE_RUNS} when compiling); median [min .. max]"
    );

    // Warm the cache once, then time loads from it.
    let cache = dir.path().join("cache");
    run("sandbox/empty-cache", &cache);
    let warm: Vec<Sample> = (0..RUNS)
        .map(|_| run("sandbox/warm-cache", &cache))
        .collect();
    report("sandbox/warm-cache", warm);

    let artifact = dir.path().join("bench.cwasm");
    let bytes = WasmSandbox::builder()
        .source(example_plugins::BENCH)
        .precompile()
        .unwrap();
    std::fs::write(&artifact, bytes).unwrap();
    let ours: Vec<Sample> = (0..RUNS)
        .map(|_| run("sandbox/precompiled", &artifact))
        .collect();
    report("sandbox/precompiled", ours);

    let raw_artifact = dir.path().join("bench-raw.cwasm");
    let engine = common::engine(false);
    let wasm = std::fs::read(example_plugins::BENCH).unwrap();
    std::fs::write(&raw_artifact, engine.precompile_component(&wasm).unwrap()).unwrap();
    let raw: Vec<Sample> = (0..RUNS)
        .map(|_| run("raw-wasmtime/precompiled", &raw_artifact))
        .collect();
    report("raw-wasmtime/precompiled", raw);

    let empty: Vec<Sample> = (0..COMPILE_RUNS)
        .map(|i| {
            run(
                "sandbox/empty-cache",
                &dir.path().join(format!("empty-{i}")),
            )
        })
        .collect();
    report("sandbox/empty-cache", empty);
    let compile: Vec<Sample> = (0..COMPILE_RUNS)
        .map(|_| run("raw-wasmtime/compile", dir.path()))
        .collect();
    report("raw-wasmtime/compile", compile);
}
