//! Compile-fail tests of the wasm-sandbox macros; see `main.rs`.
