//! Fuzz target `call`: see `wasm_sandbox_tests::fuzzing::call`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_tests::fuzzing::call(data));
