//! Run with: `cargo run --example polyglot`
//!
//! Loads the `text-filter` plugin written in Rust, Python, JavaScript and C
//! (building the non-Rust ones with `example-plugins/<lang>/build.sh`; a
//! language whose toolchain is missing is skipped with a note) and calls
//! each through the same typed proxy. For each it prints the component's
//! size, how long building the sandbox took with an empty compile cache and
//! again with the cache warm, and the result of one call. (The benchmark
//! `cargo bench -p wasm-sandbox --bench polyglot` measures the same with
//! statistics.)

use std::path::{Path, PathBuf};
use std::time::Instant;

use example_interfaces::{
    CaseMode, Document, FilterOptions, KeyValue, KeyValueHost, TextFilterPlugin,
};
use example_plugins::polyglot::{self, Language};
use wasm_sandbox::{Capability, ImportCheck, SecurityPolicy, WasmSandbox};

struct NoStore;

impl KeyValue for NoStore {
    fn get(&self, _key: String) -> Option<String> {
        None
    }
    fn set(&self, _key: String, _value: String) {}
    fn keys(&self, _prefix: &str) -> Vec<String> {
        Vec::new()
    }
}

// ANCHOR: load
/// Loads a `text-filter` component, whatever language it was written in.
async fn load(path: &Path, cache: &Path) -> wasm_sandbox::Result<WasmSandbox> {
    let policy = SecurityPolicy::strict()
        .allow(Capability::Custom(KeyValueHost::CAPABILITY.to_string()))
        // Python components import all of WASI whatever they use; load them
        // anyway and deny each use at run time.
        .import_check(ImportCheck::Warn);
    WasmSandbox::builder()
        .source(path)
        .host_interface(KeyValueHost::new(NoStore))
        .security_policy(policy)
        .cache_dir(cache)
        .build()
        .await
}
// ANCHOR_END: load

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    let mut plugins: Vec<(String, PathBuf)> = vec![(
        "Rust".to_string(),
        PathBuf::from(example_plugins::TEXT_FILTER),
    )];
    for language in Language::ALL {
        if let Some(built) = polyglot::require(language) {
            plugins.push((language.to_string(), built.path("text-filter")));
        }
    }
    let cache = std::env::temp_dir().join(format!("wasm-sandbox-polyglot-{}", std::process::id()));
    println!("language    size (bytes)  compile   cached   filter()");
    for (language, path) in plugins {
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        let started = Instant::now();
        drop(load(&path, &cache).await?);
        let cold = started.elapsed();
        let started = Instant::now();
        let sandbox = load(&path, &cache).await?;
        let cached = started.elapsed();

        // ANCHOR: call
        let plugin = TextFilterPlugin::load(&sandbox)?;
        let doc = Document {
            title: "notes".to_string(),
            lines: vec!["Hello".to_string(), String::new(), "World".to_string()],
            tags: None,
        };
        let opts = FilterOptions {
            max_lines: 10,
            drop_empty: true,
            case: CaseMode::Upper,
        };
        let filtered = plugin.filter(doc, opts).await?;
        // ANCHOR_END: call
        let lines = filtered.map(|d| d.lines).map_err(|e| format!("{e:?}"));
        println!(
            "{language:<11} {size:>12} {:>8.2}s {:>7.1}ms  {lines:?}",
            cold.as_secs_f64(),
            cached.as_secs_f64() * 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&cache);
    Ok(())
}
