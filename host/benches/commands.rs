//! A command component run (`wasi:cli/run`, what a binary crate built for
//! wasm32-wasip2 is) against raw wasmtime running the same program with
//! `wasmtime_wasi::p2::bindings::Command`, in one run: a fresh instance,
//! two arguments, stdout captured in memory, `run` called, the output read.
//!
//! The program is the `hello` example command: `hello echo x` prints `x`.
//!
//! Run with `cargo bench -p wasm-sandbox --bench commands`.

mod common;

use common::engine;
use criterion::{Criterion, criterion_group, criterion_main};
use wasm_sandbox::{ImportCheck, SecurityPolicy, WasmSandbox};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A raw store's data: the program's WASI context.
struct Program {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Program {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn command_run(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let engine = engine(false);
    let component = Component::from_file(&engine, example_plugins::HELLO).unwrap();
    let mut linker = Linker::<Program>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    let pre = CommandPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    let raw_run = || async {
        let stdout = MemoryOutputPipe::new(1024 * 1024);
        let wasi = WasiCtx::builder()
            .args(&["hello", "echo", "x"])
            .stdout(stdout.clone())
            .build();
        let mut store = Store::new(
            &engine,
            Program {
                wasi,
                table: ResourceTable::new(),
            },
        );
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        let command = pre.instantiate_async(&mut store).await.unwrap();
        command
            .wasi_cli_run()
            .call_run(&mut store)
            .await
            .unwrap()
            .unwrap();
        drop(store);
        stdout.contents()
    };
    assert_eq!(&rt.block_on(raw_run())[..], b"x\n");

    // The program imports the filesystem, which it does not use here.
    let sandbox = rt
        .block_on(
            WasmSandbox::builder()
                .source(example_plugins::HELLO)
                .security_policy(SecurityPolicy::strict().import_check(ImportCheck::Warn))
                .build(),
        )
        .unwrap();
    let ours = || async {
        let output = sandbox.command().args(["echo", "x"]).run().await.unwrap();
        output.stdout
    };
    assert_eq!(rt.block_on(ours()), b"x\n");

    let mut group = c.benchmark_group("command-run");
    group.bench_function("echo/raw-wasmtime", |b| b.iter(|| rt.block_on(raw_run())));
    group.bench_function("echo/command", |b| b.iter(|| rt.block_on(ours())));
    group.finish();
}

criterion_group!(benches, command_run);
criterion_main!(benches);
