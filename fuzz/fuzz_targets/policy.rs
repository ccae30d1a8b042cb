//! Fuzz target `policy`: see `wasm_sandbox_fuzz::fuzzing::policy` (`tests/src/fuzzing.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_fuzz::fuzzing::policy(data));
