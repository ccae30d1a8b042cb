//! The fuzz targets' bodies: `tests/src/fuzzing.rs`, included as is, so the
//! corpus replay in `cargo test` and the fuzzer run the same code.

#[path = "../../tests/src/fuzzing.rs"]
pub mod fuzzing;

/// The `type-probe` plugin, built by `fuzz/run.sh` with the stable
/// toolchain and named in `WASM_SANDBOX_TYPE_PROBE`.
fn type_probe_path() -> String {
    std::env::var("WASM_SANDBOX_TYPE_PROBE").expect(
        "WASM_SANDBOX_TYPE_PROBE names the type-probe plugin; run the targets with fuzz/run.sh",
    )
}
