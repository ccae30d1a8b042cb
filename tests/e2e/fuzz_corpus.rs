//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz
//! targets' bodies in `wasm_sandbox_tests::fuzzing`, on the stable
//! toolchain, so that every input the fuzzer kept and every checked-in
//! reproducer runs in `cargo test`: none may panic, hang or fail a check.

use std::path::Path;

use wasm_sandbox_tests::fuzzing;

/// Runs `target` on every file of `fuzz/corpus/<name>`; returns how many.
fn replay(name: &str, target: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in &entries {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| target(&data));
        assert!(
            outcome.is_ok(),
            "fuzz target `{name}` failed on {}",
            path.display()
        );
    }
    entries.len()
}

#[test]
fn the_load_corpus_replays() {
    assert!(replay("load", fuzzing::load) >= 8);
}

#[test]
fn the_policy_corpus_replays() {
    assert!(replay("policy", fuzzing::policy) >= 7);
}

#[test]
fn the_wave_corpus_replays() {
    assert!(replay("wave", fuzzing::wave) >= 10);
}

#[test]
fn the_call_corpus_replays() {
    assert!(replay("call", fuzzing::call) >= 10);
}

#[test]
fn the_harness_checks_what_it_says() {
    // A value that goes through `echo-string` comes back the same: the
    // call target checks it, so a plugin that changed it would fail here.
    let pick = wasm_sandbox_tests::fuzzing::probe_export_index("echo-string")
        .expect("type-probe exports echo-string");
    let mut data = vec![u8::try_from(pick).unwrap(), 5];
    data.extend_from_slice(b"hello");
    fuzzing::call(&data);
    // A policy that reads back differently from its TOML form fails.
    fuzzing::policy(b"[[allow]]\nFileRead = \"/srv\"\n");
}
