//! Compile-time tests of the macros: each file in `fail/` must fail to
//! compile with the error in its `.stderr` file, which is what a user sees.
//! Bless new output with `TRYBUILD=overwrite cargo test -p wasm-sandbox-ui-tests`.
//!
//! The cases that must compile are the real interface crate
//! (`example-plugins/interfaces`), built for the host and for wasm32-wasip2
//! by every test run.

#[test]
fn misuse_is_a_compile_error_that_says_what_to_do() {
    let t = trybuild::TestCases::new();
    t.compile_fail("fail/*.rs");
}
