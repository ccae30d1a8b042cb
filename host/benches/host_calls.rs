//! Calls from a plugin into the host: an async host function round trip
//! through `#[host_interface]` against raw wasmtime `bindgen!` with
//! `imports: { default: async }`, same plugin, same shapes, one run.
//!
//! The plugin is the `resolver` example: `resolve(name)` calls the host's
//! `note` and `lookup` (two async host calls, each answering at once) and
//! formats the answer; `answered()` is one host call and a `u32` back.
//!
//! Run with `cargo bench -p wasm-sandbox --bench host_calls`.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{RawState, engine, store};
use criterion::{Criterion, criterion_group, criterion_main};
use example_interfaces::{Directory, DirectoryHost, ResolverPlugin};
use wasm_sandbox::{Capability, SecurityPolicy, WasmSandbox};
use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker};

mod raw {
    wasmtime::component::bindgen!({
        path: "../wit/example-interfaces/resolver",
        world: "resolver",
        // `answered` is a plain `fn` in the trait: synchronous here too.
        imports: {
            "example-interfaces:directory/directory.answered": trappable,
            default: async,
        },
        exports: { default: async },
    });
}

/// Answers every lookup at once.
#[derive(Default)]
struct Instant {
    answered: AtomicU32,
}

impl Directory for Instant {
    async fn lookup(&self, name: String) -> Option<String> {
        self.answered.fetch_add(1, Ordering::Relaxed);
        Some(format!("{}.example", name.len()))
    }

    async fn note(&self, _name: &str) {}

    fn answered(&self) -> u32 {
        self.answered.load(Ordering::Relaxed)
    }
}

impl raw::example_interfaces::directory::directory::Host for RawState {
    async fn lookup(&mut self, name: String) -> Option<String> {
        Some(format!("{}.example", name.len()))
    }

    async fn note(&mut self, _name: String) {}

    fn answered(&mut self) -> wasmtime::Result<u32> {
        Ok(0)
    }
}

fn host_calls(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let engine = engine(false);
    let component = Component::from_file(&engine, example_plugins::RESOLVER).unwrap();
    let mut linker = Linker::<RawState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    raw::Resolver::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state).unwrap();
    let pre = raw::ResolverPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    let mut raw_store: Store<RawState> = store(&engine);
    let bindings = rt.block_on(pre.instantiate_async(&mut raw_store)).unwrap();

    let sandbox = rt
        .block_on(
            WasmSandbox::builder()
                .source(example_plugins::RESOLVER)
                .host_interface(DirectoryHost::new(Instant::default()))
                .security_policy(
                    SecurityPolicy::strict()
                        .allow(Capability::Custom(DirectoryHost::CAPABILITY.to_string())),
                )
                .build(),
        )
        .unwrap();
    let plugin = ResolverPlugin::load(&sandbox).unwrap();

    let mut group = c.benchmark_group("async-host-fn");
    group.bench_function("resolve/raw-wasmtime", |b| {
        b.iter(|| {
            rt.block_on(
                bindings
                    .example_interfaces_resolver_plugin()
                    .call_resolve(&mut raw_store, "ada"),
            )
            .unwrap()
        })
    });
    group.bench_function("resolve/proxy", |b| {
        b.iter(|| rt.block_on(plugin.resolve("ada")).unwrap())
    });
    group.bench_function("answered/raw-wasmtime", |b| {
        b.iter(|| {
            rt.block_on(
                bindings
                    .example_interfaces_resolver_plugin()
                    .call_answered(&mut raw_store),
            )
            .unwrap()
        })
    });
    group.bench_function("answered/proxy", |b| {
        b.iter(|| rt.block_on(plugin.answered()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, host_calls);
criterion_main!(benches);
