//! Fuzz target `wave`: see `wasm_sandbox_fuzz::fuzzing::wave` (`tests/src/fuzzing.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_fuzz::fuzzing::wave(data));
