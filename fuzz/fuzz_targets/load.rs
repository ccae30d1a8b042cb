//! Fuzz target `load`: see `wasm_sandbox_fuzz::fuzzing::load` (`tests/src/fuzzing.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_fuzz::fuzzing::load(data));
