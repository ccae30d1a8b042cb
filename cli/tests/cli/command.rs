//! `wasm-sandbox run PLUGIN -- ARGS` for a command component (a program
//! with a `main`): its output on the terminal, its exit status ours, its
//! stdin the CLI's, and the policy still in charge.

use example_plugins::{GREETER, HELLO};

use crate::{Files, outcome, run_cli, wasm_sandbox};

#[test]
fn a_command_prints_to_the_terminal_and_exits_with_its_status() {
    let out = run_cli(["run", HELLO, "--imports=warn"]).expect(0);
    assert_eq!(out.stdout, "hello, world\n");
    // The one note: the filesystem imports Rust's standard library links.
    assert!(
        out.stderr.starts_with("audit: warning: loaded 2 imports"),
        "{out:#?}"
    );
    let out = run_cli(["run", HELLO, "--imports=warn", "--", "echo", "a b", "-x"]).expect(0);
    assert_eq!(out.stdout, "a b\n-x\n");
    // `run` named, as `inspect` lists it, is the same program.
    let out = run_cli(["run", HELLO, "run", "--imports=warn", "--", "echo", "hi"]).expect(0);
    assert_eq!(out.stdout, "hi\n");
}

#[test]
fn exit_codes_are_the_program_s() {
    let out = run_cli(["run", HELLO, "--imports=warn", "--", "exit", "0"]).expect(0);
    assert_eq!(out.stdout, "exiting with 0\n");
    run_cli(["run", HELLO, "--imports=warn", "--", "exit", "1"]).expect(1);
    // The program's own failure message, on stderr as it wrote it.
    let out = run_cli(["run", HELLO, "--imports=warn", "--", "nonsense"]).expect(1);
    assert!(
        out.stderr.contains("hello: unknown command \"nonsense\""),
        "{out:#?}"
    );
}

#[test]
fn a_panic_is_a_trap_with_its_message_once() {
    let out = run_cli(["run", HELLO, "--imports=warn", "--", "panic"]).expect(5);
    assert_eq!(out.stderr.matches("told to panic").count(), 1, "{out:#?}");
    assert!(out.stderr.contains("error: plugin trapped"), "{out:#?}");
}

#[test]
fn stdin_is_passed_through_as_the_program_reads_it() {
    let out = outcome(
        wasm_sandbox()
            .args(["run", HELLO, "--imports=warn", "--", "shout"])
            .write_stdin("from a pipe\n"),
    )
    .expect(0);
    assert_eq!(out.stdout, "FROM A PIPE\n");
}

#[test]
fn files_and_variables_are_only_what_the_flags_grant() {
    let files = Files::new();
    let report = files.path("data/report.txt");
    let out = run_cli([
        "run",
        HELLO,
        &format!("--allow-read={}", files.path("data")),
        "--",
        "cat",
        &report,
    ])
    .expect(0);
    assert_eq!(out.stdout, "quarterly numbers\n");
    // Without the grant: refused, audited on stderr, and the program's own
    // status (it reported the failure itself).
    let out = run_cli(["run", HELLO, "--imports=warn", "--", "cat", &report]).expect(1);
    assert!(out.stdout.is_empty(), "{out:#?}");
    assert!(out.stderr.contains("DENIED file-read open"), "{out:#?}");

    let out = outcome(
        wasm_sandbox()
            .args(["run", HELLO, "--imports=warn", "--allow-env=GREETING"])
            .args(["--", "env", "GREETING"])
            .env("GREETING", "hi there"),
    )
    .expect(0);
    assert_eq!(out.stdout, "GREETING=hi there\n");
    let out = outcome(
        wasm_sandbox()
            .args(["run", HELLO, "--imports=warn", "--", "env", "GREETING"])
            .env("GREETING", "hi there"),
    )
    .expect(0);
    assert_eq!(out.stdout, "GREETING is not set\n");
}

#[test]
fn a_command_refused_for_its_imports_is_pointed_at_imports_warn_first() {
    let out = run_cli(["run", HELLO]).expect(4);
    let hint = out
        .stderr
        .lines()
        .find(|l| l.starts_with("hint: "))
        .unwrap_or_else(|| panic!("{out:#?}"));
    assert!(
        hint.starts_with("hint: this plugin is a command")
            && hint.contains("load it with --imports=warn"),
        "{hint}"
    );
}

#[test]
fn json_captures_the_output() {
    let out = run_cli(["--json", "run", HELLO, "--imports=warn", "--", "echo", "x"]).expect(0);
    let json = out.json();
    assert_eq!(json["command"], true);
    assert_eq!(json["status"], 0);
    assert_eq!(json["stdout"], "x\n");
    assert_eq!(json["args"], serde_json::json!(["echo", "x"]));
    let out = run_cli(["--json", "run", HELLO, "--imports=warn", "--", "panic"]).expect(5);
    let json = out.json();
    assert_eq!(json["status"], serde_json::Value::Null);
    assert_eq!(json["error"]["kind"], "trap");
    assert!(json["stderr"].as_str().unwrap().contains("told to panic"));
}

#[test]
fn inspect_calls_it_a_command() {
    let out = run_cli(["inspect", HELLO]).expect(0);
    assert!(
        out.stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("command: a program with a `main`"),
        "{out:#?}"
    );
    assert!(!out.stdout.contains("package: wasi:cli"), "{out:#?}");
    let json = run_cli(["--json", "inspect", HELLO]).expect(0).json();
    assert_eq!(json["kind"], "command");
    let json = run_cli(["--json", "inspect", GREETER]).expect(0).json();
    assert_eq!(json["kind"], "plugin");
}

#[test]
fn a_plugin_without_a_function_named_is_a_usage_error_that_lists_its_functions() {
    let out = run_cli(["run", GREETER]).expect(2);
    assert!(
        out.stderr.contains("no function given") && out.stderr.contains("it exports plugin#greet"),
        "{out:#?}"
    );
    // Arguments after `--` are still WAVE arguments of a function.
    let out = run_cli(["run", GREETER, "greet", "--", "-dash"]).expect(0);
    assert_eq!(out.stdout, "\"Hello, -dash!\"\n");
}
