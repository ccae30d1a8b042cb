//! Calls that go beyond plain functions, against raw wasmtime `bindgen!`
//! with the same plugin and shapes, in one run:
//!
//! - from a plugin into the host: an async host function round trip
//!   through `#[host_interface]` against `bindgen!` with
//!   `imports: { default: async }`;
//! - methods of a plugin object (a resource the plugin exports): a typed
//!   handle's method against `bindgen!`'s `call_<method>` on a
//!   `ResourceAny`, and making and releasing an object.
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
use example_interfaces::{Directory, DirectoryHost, ResolverPlugin, TalliesPlugin};
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

mod raw_tally {
    wasmtime::component::bindgen!({
        path: "../wit/example-interfaces/tallies",
        world: "tallies",
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

fn resource_methods(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let engine = engine(false);
    let component = Component::from_file(&engine, example_plugins::TALLY).unwrap();
    let mut linker = Linker::<RawState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    let pre = raw_tally::TalliesPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    let mut raw_store: Store<RawState> = store(&engine);
    let bindings = rt.block_on(pre.instantiate_async(&mut raw_store)).unwrap();
    let guest = bindings.example_interfaces_tallies_plugin();
    let raw_tally = rt.block_on(guest.call_open(&mut raw_store)).unwrap();
    rt.block_on(guest.tally().call_add(&mut raw_store, raw_tally, "one two"))
        .unwrap();

    let sandbox = rt
        .block_on(
            WasmSandbox::builder()
                .source(example_plugins::TALLY)
                .build(),
        )
        .unwrap();
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let tally = rt.block_on(tallies.open()).unwrap();
    rt.block_on(tally.add("one two")).unwrap();

    let mut group = c.benchmark_group("resource-method");
    group.bench_function("total/raw-wasmtime", |b| {
        b.iter(|| {
            rt.block_on(guest.tally().call_total(&mut raw_store, raw_tally))
                .unwrap()
        })
    });
    group.bench_function("total/handle", |b| {
        b.iter(|| rt.block_on(tally.total()).unwrap())
    });
    group.bench_function("add/raw-wasmtime", |b| {
        b.iter(|| {
            rt.block_on(guest.tally().call_add(&mut raw_store, raw_tally, ""))
                .unwrap()
        })
    });
    group.bench_function("add/handle", |b| {
        b.iter(|| rt.block_on(tally.add("")).unwrap())
    });
    // Make an object and release it (the plugin's destructor runs).
    group.bench_function("open-close/raw-wasmtime", |b| {
        b.iter(|| {
            rt.block_on(async {
                let t = guest.call_open(&mut raw_store).await.unwrap();
                t.resource_drop_async(&mut raw_store).await.unwrap();
            })
        })
    });
    group.bench_function("open-close/handle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let t = tallies.open().await.unwrap();
                t.close().await.unwrap();
            })
        })
    });
    group.finish();
}

criterion_group!(benches, host_calls, resource_methods);
criterion_main!(benches);
