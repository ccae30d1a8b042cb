//! `wasm-sandbox compile`.

use example_plugins::{CALCULATOR, GREETER};

use crate::{outcome, run_cli};

fn with_cache(cache: &std::path::Path, args: &[&str]) -> crate::Outcome {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_wasm-sandbox"));
    cmd.env("WASM_SANDBOX_CACHE_DIR", cache).args(args);
    outcome(&mut cmd)
}

#[test]
fn fills_the_cache_and_then_finds_it_there() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = with_cache(&cache, &["compile", GREETER, CALCULATOR]).expect(0);
    assert_eq!(
        out.stdout,
        format!("{GREETER}: compiled into the cache\n{CALCULATOR}: compiled into the cache\n")
    );
    // No progress bar when stderr is not a terminal.
    assert_eq!(out.stderr, "");
    let entries = std::fs::read_dir(&cache)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "cwasm")
        })
        .count();
    assert_eq!(entries, 2);
    let out = with_cache(&cache, &["compile", GREETER]).expect(0);
    assert_eq!(out.stdout, format!("{GREETER}: already in the cache\n"));
    // `run` finds it too: the same engine settings.
    let v = with_cache(&cache, &["--json", "compile", CALCULATOR])
        .expect(0)
        .json();
    assert_eq!(v["plugins"][0]["outcome"], "cached");
}

#[test]
fn writes_artifacts_that_run_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = run_cli([
        "compile".as_ref(),
        GREETER.as_ref(),
        CALCULATOR.as_ref(),
        "-o".as_ref(),
        out_dir.as_os_str(),
    ])
    .expect(0);
    let artifact = out_dir.join("greeter.cwasm");
    assert!(
        out.stdout
            .contains(&format!("{GREETER}: wrote {}\n", artifact.display())),
        "{}",
        out.stdout
    );
    let out = run_cli([
        "run".as_ref(),
        artifact.as_os_str(),
        "greet".as_ref(),
        "cwasm".as_ref(),
        "--allow-precompiled".as_ref(),
    ])
    .expect(0);
    assert_eq!(out.stdout, "\"Hello, cwasm!\"\n");
    // An artifact is for the engine it was made for: not one with fuel.
    let out = run_cli([
        "run".as_ref(),
        artifact.as_os_str(),
        "greet".as_ref(),
        "x".as_ref(),
        "--fuel".as_ref(),
        "1000000".as_ref(),
        "--allow-precompiled".as_ref(),
    ])
    .expect(3);
    assert!(
        out.stderr.contains("cannot load precompiled plugin"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: run the .wasm component it was made from with --fuel"),
        "{}",
        out.stderr
    );
    let v = run_cli([
        "compile".as_ref(),
        GREETER.as_ref(),
        "--out-dir".as_ref(),
        out_dir.as_os_str(),
        "--json".as_ref(),
    ])
    .expect(0)
    .json();
    assert_eq!(v["plugins"][0]["outcome"], "written");
    assert!(v["plugins"][0]["bytes"].as_u64().unwrap() > 1000);
}

#[test]
fn one_bad_plugin_fails_the_command_but_not_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, "not wasm").unwrap();
    let out = run_cli(["compile".as_ref(), bad.as_os_str(), GREETER.as_ref()]).expect(3);
    assert!(
        out.stdout.contains(&format!("{GREETER}: ")),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("is not a valid WebAssembly component"),
        "{}",
        out.stderr
    );
    let v = run_cli(["--json".as_ref(), "compile".as_ref(), bad.as_os_str()])
        .expect(3)
        .json();
    assert_eq!(v["plugins"][0]["outcome"], "failed");
    assert_eq!(v["plugins"][0]["error"]["kind"], "load");
}

#[test]
fn output_problems_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    // Two plugins would write the same file.
    let copy = dir.path().join("greeter.wasm");
    std::fs::copy(GREETER, &copy).unwrap();
    let out = run_cli([
        "compile".as_ref(),
        GREETER.as_ref(),
        copy.as_os_str(),
        "-o".as_ref(),
        dir.path().join("out").as_os_str(),
    ])
    .expect(2);
    assert!(
        out.stderr.contains("two plugins would both be written to"),
        "{}",
        out.stderr
    );
    // The output directory cannot be created: a file is in the way.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = run_cli([
        "compile".as_ref(),
        GREETER.as_ref(),
        "-o".as_ref(),
        file.as_os_str(),
    ])
    .expect(7);
    assert!(
        out.stderr.contains("could not create the directory"),
        "{}",
        out.stderr
    );
    // At least one plugin is required.
    run_cli(["compile"]).expect(2);
}

/// An artifact is native code: `run`, `validate` and `learn` refuse it,
/// whatever its name, unless `--allow-precompiled` says it is trusted.
#[test]
fn artifacts_load_only_with_allow_precompiled() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    run_cli([
        "compile".as_ref(),
        GREETER.as_ref(),
        "-o".as_ref(),
        out_dir.as_os_str(),
    ])
    .expect(0);
    // Shaped like an artifact, named like a component.
    let disguised = dir.path().join("x.wasm");
    std::fs::rename(out_dir.join("greeter.cwasm"), &disguised).unwrap();
    let x = disguised.to_str().unwrap();
    let refused = |args: &[&str], status: i32| {
        let out = run_cli(args).expect(status);
        assert!(
            out.stderr.contains(&format!(
                "error: `{x}` is a precompiled artifact (native machine code"
            )),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("load only with --allow-precompiled"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("hint: if you made this file yourself"),
            "{}",
            out.stderr
        );
        out
    };
    let out = refused(&["run", x, "greet", "x"], 3);
    assert_eq!(out.stdout, "");
    let out = refused(&["validate", x], 3);
    assert_eq!(out.stdout, format!("{x}\n  component  FAILED\n"));
    let out = refused(&["learn", x, "greet", "x"], 3);
    assert_eq!(out.stdout, "");
    let v = run_cli(["--json", "run", x, "greet", "x"]).expect(3).json();
    assert_eq!(v["error"]["kind"], "load");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--allow-precompiled")
    );
    // `inspect` says what it is, without loading it.
    let out = run_cli(["inspect", x]).expect(2);
    assert!(
        out.stderr.contains("is a precompiled artifact"),
        "{}",
        out.stderr
    );

    // Said explicitly, it loads.
    let out = run_cli(["run", x, "greet", "trusted", "--allow-precompiled"]).expect(0);
    assert_eq!(out.stdout, "\"Hello, trusted!\"\n");
    let out = run_cli(["validate", x, "--allow-precompiled"]).expect(0);
    assert!(out.stdout.contains("component  ok"), "{}", out.stdout);
    let out = run_cli(["learn", x, "greet", "x", "--allow-precompiled"]).expect(0);
    assert_eq!(out.stdout, "imports = \"deny\"\n");
    // A component given with the flag is still a component.
    let out = run_cli(["run", GREETER, "greet", "y", "--allow-precompiled"]).expect(0);
    assert_eq!(out.stdout, "\"Hello, y!\"\n");
}
