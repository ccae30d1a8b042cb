//! Fuzz target `policy`: see `wasm_sandbox_tests::fuzzing::policy`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_sandbox_tests::fuzzing::policy(data));
