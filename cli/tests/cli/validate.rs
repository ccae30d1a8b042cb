//! `wasm-sandbox validate`.

use example_plugins::{FILE_READER, GREETER, INTRUDER};

use crate::{run_cli, wat};

#[test]
fn a_plugin_that_needs_nothing_is_valid() {
    let out = run_cli(["validate", GREETER]).expect(0);
    assert_eq!(
        out.stdout,
        format!(
            "{GREETER}\n  component  ok: 1 export\n  links      ok\n  starts     ok\n  policy     ok: the policy allows every import it needs to load\n"
        )
    );
}

#[test]
fn imports_the_policy_can_never_allow_are_refused_and_listed() {
    let out = run_cli(["validate", FILE_READER]).expect(4);
    assert!(
        out.stdout
            .contains("  policy     refused at load: 2 imports the policy can never allow\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("    wasi:filesystem/preopens@0.2.12 needs Capability::FileRead or Capability::FileWrite: grant it with --allow-read=PATH (or --allow-write=PATH)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("hint: grant what it needs"),
        "{}",
        out.stderr
    );
    // With the grant, it is valid.
    run_cli(["validate", FILE_READER, "--allow-read=/"]).expect(0);
}

#[test]
fn a_warn_policy_lists_warnings_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("warn.toml");
    std::fs::write(&policy, "imports = \"warn\"\n").unwrap();
    let out = run_cli([
        "validate".as_ref(),
        FILE_READER.as_ref(),
        "--policy".as_ref(),
        policy.as_os_str(),
    ])
    .expect(0);
    assert!(
        out.stdout
            .contains("policy     loads with 2 warnings (imports = \"warn\")"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_plugin_that_does_not_link_fails_at_links() {
    let out = run_cli([
        "validate",
        INTRUDER,
        "--allow-read",
        "--allow-net",
        "--allow-env",
        "--allow-run=ls",
    ])
    .expect(3);
    assert_eq!(
        out.stdout,
        format!("{INTRUDER}\n  component  ok\n  links      FAILED\n")
    );
    assert!(
        out.stderr
            .contains("imports instance `example-interfaces:key-value/key-value@0.1.0`, which this host does not provide"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: the CLI provides WASI 0.2 and the sandbox:host interfaces only"),
        "{}",
        out.stderr
    );
}

#[test]
fn not_a_component_fails_first() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wat");
    std::fs::write(&core, "(module)").unwrap();
    let out = run_cli(["validate".as_ref(), core.as_os_str()]).expect(3);
    assert!(
        out.stdout.ends_with("  component  FAILED\n"),
        "{}",
        out.stdout
    );
    run_cli(["validate", "missing.wasm"]).expect(3);
}

#[test]
fn limits_apply_to_starting_the_plugin() {
    let out = run_cli(["validate", GREETER, "--memory", "4K"]).expect(6);
    assert!(
        out.stdout.ends_with("  starts     FAILED\n"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("memory"), "{}", out.stderr);
}

#[test]
fn fuel_and_timeout_are_accepted_as_for_run() {
    // A fuel budget loads the plugin on an engine that counts fuel.
    run_cli(["validate", GREETER, "--fuel", "1000", "--timeout", "1s"]).expect(0);
}

#[test]
fn json_reports_each_check() {
    let v = run_cli(["--json", "validate", FILE_READER])
        .expect(4)
        .json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["checks"]["component"]["ok"], true);
    assert_eq!(v["checks"]["policy"]["ok"], false);
    assert_eq!(
        v["refused_imports"][0]["capability"],
        "Capability::FileRead or Capability::FileWrite"
    );
    let v = run_cli(["validate", INTRUDER, "--json"]).expect(3).json();
    assert_eq!(v["checks"]["links"]["ok"], false);
    assert_eq!(v["error"]["kind"], "load");
    let v = run_cli([
        "validate".as_ref(),
        wat("env.wat").as_os_str(),
        "--allow-env".as_ref(),
        "--json".as_ref(),
    ])
    .expect(0)
    .json();
    assert_eq!(v["valid"], true);
}

/// `validate` and `run` on paths that are no plugin file: refused with the
/// library's typed error (exit 3, "load"), never read, never blocked on.
/// The timeout only detects a hang (a blocked open, a read of gigabytes).
mod hostile_inputs {
    use std::path::Path;
    use std::time::Duration;

    use crate::{outcome, run_cli, wasm_sandbox};

    const HANG: Duration = Duration::from_secs(60);

    fn refused(path: &Path, says: &[&str]) {
        for args in [
            vec!["validate".as_ref(), path.as_os_str()],
            vec!["run".as_ref(), path.as_os_str(), "greet".as_ref()],
            vec![
                "run".as_ref(),
                "--allow-precompiled".as_ref(),
                path.as_os_str(),
                "greet".as_ref(),
            ],
        ] {
            let out = outcome(wasm_sandbox().args(&args).timeout(HANG)).expect(3);
            for text in says {
                assert!(out.stderr.contains(text), "{args:?}: {out:#?}");
            }
            assert!(
                out.stderr.contains(&path.display().to_string()),
                "{args:?}: {out:#?}"
            );
        }
    }

    #[test]
    fn dev_zero() {
        refused(
            Path::new("/dev/zero"),
            &["is a character device, not a regular file"],
        );
    }

    #[test]
    fn a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("plugin.wasm");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        refused(&fifo, &["is a FIFO (named pipe), not a regular file"]);
    }

    #[test]
    fn a_directory() {
        let dir = tempfile::tempdir().unwrap();
        refused(dir.path(), &["is a directory, not a regular file"]);
    }

    #[test]
    fn a_sparse_4_gib_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.wasm");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(4 << 30)
            .unwrap();
        refused(
            &path,
            &[
                "is 4294967296 bytes, more than the limit of 268435456 bytes",
                "raise the limit with --max-plugin-size",
            ],
        );
    }

    /// `--max-plugin-size` lowers (or raises) the cap, for a component and
    /// for an artifact, and the refusal names the flag.
    #[test]
    fn max_plugin_size_sets_the_cap() {
        use super::GREETER;
        let size = std::fs::metadata(GREETER).unwrap().len();
        let out = run_cli(["validate", GREETER, "--max-plugin-size", "1K"]).expect(3);
        assert!(
            out.stderr.contains(&format!(
                "is {size} bytes, more than the limit of 1024 bytes, so it was not loaded; if the \
                 file is genuine, raise the limit with --max-plugin-size"
            )),
            "{out:#?}"
        );
        run_cli(["run", GREETER, "greet", "x", "--max-plugin-size", "64MiB"]).expect(0);
        // An artifact has its own cap, which the flag sets when the file is one.
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().display().to_string();
        run_cli(["compile", GREETER, "-o", &out_dir]).expect(0);
        let artifact = dir.path().join("greeter.cwasm").display().to_string();
        let out = run_cli([
            "run",
            "--allow-precompiled",
            &artifact,
            "greet",
            "x",
            "--max-plugin-size",
            "4K",
        ])
        .expect(3);
        assert!(
            out.stderr.contains("precompiled artifact")
                && out.stderr.contains("limit of 4096 bytes"),
            "{out:#?}"
        );
        run_cli(["run", "--allow-precompiled", &artifact, "greet", "x"]).expect(0);
        // A fraction or a unit the parser does not know is a usage error.
        run_cli(["validate", GREETER, "--max-plugin-size", "1.5M"]).expect(2);
    }
}
