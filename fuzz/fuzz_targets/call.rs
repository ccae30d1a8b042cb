//! Fuzz target `call`: see `wasm_sandbox_fuzz::fuzzing::call` (`tests/src/fuzzing.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_fuzz::fuzzing::call(data));
