//! Fuzz target `wave`: see `wasm_sandbox_tests::fuzzing::wave`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_tests::fuzzing::wave(data));
