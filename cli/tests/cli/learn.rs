//! `wasm-sandbox learn`.

use example_plugins::{FILE_READER, GREETER};

use crate::{Files, outcome, wasm_sandbox, wat};

fn learn(files: &Files, args: &[&str]) -> crate::Outcome {
    outcome(
        wasm_sandbox()
            .current_dir(files.dir.path())
            .arg("learn")
            .args(args),
    )
}

#[test]
fn learns_the_least_privilege_policy_that_run_then_accepts() {
    let files = Files::new();
    let report = files.path("data/report.txt");
    let out = learn(
        &files,
        &[FILE_READER, "read-file", &report, "-o", "policy.toml"],
    )
    .expect(0);
    assert_eq!(out.stdout, "ok(\"quarterly numbers\\n\")\n");
    assert_eq!(out.stderr, "learned 1 grant; wrote policy.toml\n");
    let policy = std::fs::read_to_string(files.dir.path().join("policy.toml")).unwrap();
    assert_eq!(
        policy,
        format!(
            "imports = \"deny\"\n\n[[allow]]\nFileRead = \"{}\"\n",
            files.canonical("data/report.txt")
        )
    );
    // The learned policy allows exactly that file.
    let run = |path: &str| {
        outcome(wasm_sandbox().current_dir(files.dir.path()).args([
            "run",
            FILE_READER,
            "read-file",
            path,
            "--policy",
            "policy.toml",
        ]))
    };
    run(&report).expect(0);
    run(&files.path("data/secrets/key.txt")).expect(4);
}

#[test]
fn without_output_the_policy_is_printed_and_the_result_is_a_note() {
    let files = Files::new();
    let out = learn(
        &files,
        &[FILE_READER, "read-file", &files.path("data/report.txt")],
    )
    .expect(0);
    assert!(
        out.stdout
            .starts_with("imports = \"deny\"\n\n[[allow]]\nFileRead = "),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "result: ok(\"quarterly numbers\\n\")\n");
    // A plugin that does nothing privileged learns an empty policy.
    // Its imports all load under the default check: no `imports = "warn"`.
    let out = learn(&files, &[GREETER, "greet", "x"]).expect(0);
    assert_eq!(out.stdout, "imports = \"deny\"\n");
}

#[test]
fn denials_still_apply_in_learn_mode() {
    let files = Files::new();
    let out = learn(
        &files,
        &[
            FILE_READER,
            "read-file",
            &files.path("data/secrets/key.txt"),
            "--deny-read=data/secrets",
            "-o",
            "policy.toml",
        ],
    )
    .expect(4);
    assert!(
        out.stderr.contains("DENIED file-read open"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.lines().last().unwrap(),
        "learned 0 grants; wrote policy.toml"
    );
    // "Deny every variable" cannot be said in learn mode.
    let out = learn(&files, &[GREETER, "greet", "x", "--deny-env"]).expect(2);
    assert!(
        out.stderr
            .contains("learn mode cannot take a bare --deny-env"),
        "{}",
        out.stderr
    );
    learn(&files, &[GREETER, "greet", "x", "--deny-run"]).expect(2);
    learn(
        &files,
        &[
            GREETER,
            "greet",
            "x",
            "--deny-env=SECRET",
            "--deny-run=sh",
            "--deny-net=example.com",
            "--deny-write=data",
        ],
    )
    .expect(0);
}

#[test]
fn limits_audit_and_json_work_as_for_run() {
    let files = Files::new();
    let out = learn(
        &files,
        &[
            FILE_READER,
            "read-file",
            &files.path("data/report.txt"),
            "--audit",
            "audit.jsonl",
            "--timeout",
            "5s",
            "--memory",
            "32MiB",
            "--json",
            "--output",
            "p.toml",
        ],
    )
    .expect(0);
    let v = out.json();
    assert_eq!(v["policy_file"], "p.toml");
    assert!(v["policy"].as_str().unwrap().contains("FileRead"));
    assert_eq!(v["value"]["ok"], "quarterly numbers\n");
    let audit = std::fs::read_to_string(files.dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"decision\":\"allowed\""), "{audit}");
    let out = learn(&files, &[example_plugins::HOG, "spin", "--fuel", "10000"]).expect(6);
    assert!(out.stderr.contains("fuel"), "{}", out.stderr);
    // The policy cannot be written.
    let out = learn(&files, &[GREETER, "greet", "x", "-o", "no/such/dir/p.toml"]).expect(7);
    assert!(
        out.stderr.contains("could not write the policy"),
        "{}",
        out.stderr
    );
}

/// An executable script in `files` that creates `ran` (with a shell
/// redirection, so it needs no other program and no `PATH`), and the path
/// of that file.
fn marker_script(files: &Files) -> (String, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let marker = files.dir.path().join("ran");
    let script = files.dir.path().join("mark.sh");
    std::fs::write(&script, format!("#!/bin/sh\n: > '{}'\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script.display().to_string(), marker)
}

#[test]
fn a_denied_program_is_never_run_in_learn_mode() {
    let files = Files::new();
    let (script, marker) = marker_script(&files);
    let plugin = wat("process.wat");
    let plugin = plugin.to_str().unwrap();
    let deny = format!("--deny-run={script}");
    let out = learn(
        &files,
        &[plugin, "run-program", &script, &deny, "-o", "policy.toml"],
    )
    .expect(4);
    assert!(!marker.exists(), "the denied program ran");
    // The plugin was told it is denied (-1), and so was the operator.
    assert_eq!(out.stdout, "-1\n");
    assert!(
        out.stderr.contains(&format!(
            "DENIED process spawn {script} (deny ProcessSpawn({script}))"
        )),
        "{}",
        out.stderr
    );
    let policy = std::fs::read_to_string(files.dir.path().join("policy.toml")).unwrap();
    assert_eq!(
        policy,
        format!("imports = \"warn\"\n\n[[deny]]\nProcessSpawn = [\"{script}\"]\n"),
    );
    // `sh` denied by name, the same.
    let out = learn(
        &files,
        &[
            plugin,
            "run-program",
            "sh",
            "--deny-run=sh",
            "-o",
            "sh.toml",
        ],
    )
    .expect(4);
    assert!(
        out.stderr
            .contains("DENIED process spawn sh (deny ProcessSpawn(sh))"),
        "{}",
        out.stderr
    );
    let policy = std::fs::read_to_string(files.dir.path().join("sh.toml")).unwrap();
    assert!(!policy.contains("[[allow]]"), "{policy}");

    // With --abort-on-violation, the denial ends the call.
    let out = learn(
        &files,
        &[
            plugin,
            "run-program",
            &script,
            &deny,
            "--abort-on-violation",
            "-o",
            "abort.toml",
        ],
    )
    .expect(4);
    assert!(!marker.exists(), "the denied program ran");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("error: security violation in `run-program`"),
        "{}",
        out.stderr
    );

    // Control: without the denial, learn mode runs it, and learns it.
    let out = learn(&files, &[plugin, "run-program", &script]).expect(0);
    assert!(marker.exists());
    assert_eq!(
        out.stdout,
        format!("imports = \"deny\"\n\n[[allow]]\nProcessSpawn = [\"{script}\"]\n")
    );
}

#[test]
fn a_command_sees_the_host_environment_while_learned_but_is_granted_none() {
    let files = Files::new();
    let out = outcome(
        wasm_sandbox()
            .current_dir(files.dir.path())
            .args(["learn", example_plugins::HELLO, "--", "env", "GREETING"])
            .env("GREETING", "hi there"),
    )
    .expect(0);
    // The program saw the variable, as it would under a grant; its output
    // goes to stderr, since stdout is the policy.
    assert!(out.stderr.contains("GREETING=hi there\n"), "{out:#?}");
    assert!(
        out.stderr
            .contains("learn: the plugin listed the environment through WASI"),
        "{out:#?}"
    );
    // No grant: listing the environment does not say which variable was
    // used. The note says how to grant one.
    assert!(!out.stdout.contains("\nEnvironmentRead"), "{out:#?}");
    assert!(
        out.stdout.contains("# EnvironmentRead = [\"NAME\"]"),
        "{out:#?}"
    );
    // Its filesystem imports need `warn` to load, and it says why.
    assert!(out.stdout.starts_with("imports = \"warn\"\n"), "{out:#?}");
    assert!(
        out.stderr.contains("it imports wasi:filesystem/types"),
        "{out:#?}"
    );
    // The policy it wrote runs the program (which then sees no variable).
    std::fs::write(files.dir.path().join("policy.toml"), &out.stdout).unwrap();
    let out = outcome(
        wasm_sandbox()
            .current_dir(files.dir.path())
            .args(["run", example_plugins::HELLO, "--policy", "policy.toml"])
            .args(["--", "env", "GREETING"])
            .env("GREETING", "hi there"),
    )
    .expect(0);
    assert_eq!(out.stdout, "GREETING is not set\n");
}

#[test]
fn a_denied_variable_stays_hidden_in_learn_mode() {
    let files = Files::new();
    let out = outcome(
        wasm_sandbox()
            .current_dir(files.dir.path())
            .args(["learn", example_plugins::HELLO, "--deny-env=GREETING"])
            .args(["--", "env", "GREETING"])
            .env("GREETING", "hi there"),
    )
    .expect(0);
    assert!(out.stderr.contains("GREETING is not set"), "{out:#?}");
    assert!(
        out.stdout
            .contains("[[deny]]\nEnvironmentRead = [\"GREETING\"]"),
        "{out:#?}"
    );
}

#[test]
fn a_command_that_reads_a_file_learns_it_and_keeps_the_default_import_check() {
    let files = Files::new();
    let report = files.path("data/report.txt");
    let out = learn(&files, &[example_plugins::HELLO, "--", "cat", &report]).expect(0);
    assert_eq!(
        out.stdout,
        format!(
            "imports = \"deny\"\n\n[[allow]]\nFileRead = \"{}\"\n",
            files.canonical("data/report.txt")
        )
    );
    assert!(out.stderr.contains("quarterly numbers"), "{out:#?}");
    assert!(!out.stderr.contains("imports = \\\"warn\\\""), "{out:#?}");
}
