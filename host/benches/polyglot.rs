//! Run with: `cargo bench -p wasm-sandbox --bench polyglot`
//!
//! The `text-filter` plugin in Rust, Python, JavaScript and C (languages
//! whose toolchain is missing are left out, with a note; run
//! `example-plugins/<lang>/setup.sh` to add them):
//!
//! - `polyglot-call/<lang>`: one `filter` call through the typed proxy
//!   (three lines, upper-cased), on a live instance;
//! - `polyglot-compile/<lang>`: building a sandbox from the `.wasm` with an
//!   empty compile cache (Cranelift compiles the whole component);
//! - `polyglot-cached/<lang>`: building it again with the cache holding the
//!   compiled code.
//!
//! Each language's component size is printed first.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
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

/// (language, component) for every language whose plugins build here.
fn plugins() -> Vec<(String, PathBuf)> {
    let mut out = vec![(
        "rust".to_string(),
        PathBuf::from(example_plugins::TEXT_FILTER),
    )];
    for language in Language::ALL {
        if let Some(built) = polyglot::require(language) {
            out.push((language.dir_name().to_string(), built.path("text-filter")));
        }
    }
    for (name, path) in &out {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!("text-filter ({name}): {size} bytes ({})", path.display());
    }
    out
}

async fn load(path: &PathBuf, cache: Option<&std::path::Path>) -> WasmSandbox {
    let builder = WasmSandbox::builder()
        .source(path)
        .host_interface(KeyValueHost::new(NoStore))
        .security_policy(
            SecurityPolicy::strict()
                .allow(Capability::Custom(KeyValueHost::CAPABILITY.to_string()))
                // Python imports all of WASI (see the book's Python chapter).
                .import_check(ImportCheck::Warn),
        );
    let builder = match cache {
        Some(dir) => builder.cache_dir(dir),
        None => builder.enable_cache(false),
    };
    builder.build().await.expect("the text-filter plugin loads")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let plugins = plugins();
    let doc = Document {
        title: "notes".to_string(),
        lines: vec!["Hello".to_string(), String::new(), "World".to_string()],
        tags: Some(vec!["draft".to_string()]),
    };
    let opts = FilterOptions {
        max_lines: 10,
        drop_empty: true,
        case: CaseMode::Upper,
    };

    let mut group = c.benchmark_group("polyglot-call");
    for (name, path) in &plugins {
        let sandbox = rt.block_on(load(path, None));
        let plugin = TextFilterPlugin::load(&sandbox).unwrap();
        group.bench_function(name.as_str(), |b| {
            b.iter(|| {
                rt.block_on(plugin.filter(doc.clone(), opts.clone()))
                    .unwrap()
                    .unwrap()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("polyglot-compile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for (name, path) in &plugins {
        group.bench_function(name.as_str(), |b| {
            b.iter_batched(
                || tempfile::tempdir().unwrap(),
                |cache| rt.block_on(load(path, Some(cache.path()))),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("polyglot-cached");
    group.sample_size(20);
    for (name, path) in &plugins {
        let cache = tempfile::tempdir().unwrap();
        drop(rt.block_on(load(path, Some(cache.path()))));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| rt.block_on(load(path, Some(cache.path()))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
