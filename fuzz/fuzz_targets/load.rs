//! Fuzz target `load`: see `wasm_sandbox_tests::fuzzing::load`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_tests::fuzzing::load(data));
