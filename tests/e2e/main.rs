//! End-to-end tests: the host crate driving the real example plugins (built
//! for wasm32-wasip2 by `example-plugins/build.rs`), plus hand-written WAT
//! components for inputs no compiler would produce.
//!
//! One test binary, one module per topic.

mod async_host;
mod audit_sink;
mod blocking;
mod book;
mod cache;
mod calls;
mod cm_async;
mod commands;
mod errors;
mod exports;
mod fs_attacks;
mod fs_table;
mod fuzz_corpus;
mod golden;
mod host_objects;
mod http;
mod inputs;
mod inspect;
mod limits;
mod logs;
mod net_attacks;
mod policies;
mod polyglot;
mod pool;
mod profile;
mod proxy;
mod published_wit;
mod reload;
mod reset;
mod resources;
mod security;
mod sync_path;
mod types;
mod versions;
mod walkthrough;

use wasm_sandbox::WasmSandbox;

/// A fresh sandbox running the `greeter` example plugin.
async fn greeter() -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .build()
        .await
        .expect("the greeter plugin loads")
}

/// A fresh sandbox running the `calculator` example plugin.
async fn calculator() -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::CALCULATOR)
        .build()
        .await
        .expect("the calculator plugin loads")
}

/// Asserts that the host is still usable: a new sandbox loads and answers.
async fn assert_host_usable() {
    let sandbox = greeter().await;
    let text: String = sandbox.call("plugin#greet", ("again",)).await.unwrap();
    assert_eq!(text, "Hello, again!");
}

/// Asserts that the guide's errors chapter quotes `message` word for word,
/// so that the chapter cannot fall behind the messages users see.
#[track_caller]
fn assert_errors_chapter_quotes(message: &str) {
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/errors.md"),
    )
    .unwrap();
    assert!(
        chapter.contains(message),
        "book/src/errors.md does not quote this message; update it:\n{message}"
    );
}
