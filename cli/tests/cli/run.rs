//! `wasm-sandbox run`: names, WAVE arguments and results, exit statuses,
//! limits, audit, `--json`.

use example_plugins::{CALCULATOR, FILE_READER, GREETER, HOG};

use crate::{Files, outcome, run_cli, wasm_sandbox, wat};

#[test]
fn calls_a_function_by_any_of_its_names() {
    for name in [
        "greet",
        "plugin#greet",
        "example-interfaces:greeter/plugin#greet",
        "example-interfaces:greeter/plugin@0.1.0#greet",
    ] {
        let out = run_cli(["run", GREETER, name, "world"]).expect(0);
        assert_eq!(out.stdout, "\"Hello, world!\"\n", "{name}");
        assert_eq!(out.stderr, "", "{name}");
    }
}

#[test]
fn strings_are_taken_as_text_unless_quoted_in_wave() {
    let out = run_cli(["run", GREETER, "greet", "\"tab\\there\""]).expect(0);
    assert_eq!(out.stdout, "\"Hello, tab\\there!\"\n");
    // Not starting with a quote: the text itself, quotes and all.
    let out = run_cli(["run", GREETER, "greet", "it's \"me\""]).expect(0);
    assert_eq!(out.stdout, "\"Hello, it\\'s \\\"me\\\"!\"\n");
}

#[test]
fn arguments_and_results_of_every_shape_are_wave() {
    let cases: &[(&[&str], &str)] = &[
        (&["math#add", "2", "3"], "5"),
        (&["math#min-max", "[3, -1, 7]"], "some((-1, 7))"),
        (&["math#min-max", "[]"], "none"),
        (&["math#apply", "subtract", "-1", "-2"], "ok(1)"),
        (&["math#parse-number", "2.5"], "some(2.5)"),
        (
            &["math#summarize", "{name: \"lat\", values: [1.5, 2.5]}"],
            "{name: \"lat\", count: 2, sum: 4, mean: some(2), min: some(1.5), max: some(2.5)}",
        ),
        (&["version"], "\"0.1.0\""),
    ];
    for (args, expected) in cases {
        let mut all = vec!["run", CALCULATOR];
        all.extend_from_slice(args);
        let out = run_cli(&all).expect(0);
        assert_eq!(out.stdout.trim_end(), *expected, "{args:?}");
    }
}

#[test]
fn a_function_without_result_prints_nothing() {
    let out = run_cli(["run", CALCULATOR, "clear"]).expect(0);
    assert_eq!(out.stdout, "");
}

#[test]
fn an_error_value_exits_with_1() {
    let out = run_cli(["run", CALCULATOR, "math#apply", "divide", "1", "0"]).expect(1);
    assert_eq!(out.stdout, "err(division-by-zero)\n");
}

#[test]
fn negative_numbers_are_arguments_and_dash_dash_ends_the_flags() {
    let out = run_cli(["run", CALCULATOR, "math#apply", "add", "-5", "-6"]).expect(0);
    assert_eq!(out.stdout, "ok(-11)\n");
    let out = run_cli(["run", GREETER, "greet", "--", "--flag-like"]).expect(0);
    assert_eq!(out.stdout, "\"Hello, --flag-like!\"\n");
}

#[test]
fn bad_wave_names_the_parameter_its_type_and_an_example() {
    let out = run_cli(["run", CALCULATOR, "math#min-max", "[3, x]"]).expect(2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(
            "argument 1 of `math#min-max` (`values: list<s32>`): `[3, x]` is not a valid `list<s32>`"
        ),
        "{}",
        out.stderr
    );
    // The caret points at the bad element.
    assert!(
        out.stderr.contains("    [3, x]\n        ^\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: write `list<s32>` in WAVE, for example: [-7]"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_enum_argument_lists_its_cases() {
    let out = run_cli(["run", CALCULATOR, "math#apply", "div", "1", "2"]).expect(2);
    assert!(
        out.stderr
            .contains("(there is no case `div`; the cases are: add, subtract, multiply, divide)"),
        "{}",
        out.stderr
    );
    // Once, not again in the hint.
    assert_eq!(
        out.stderr.matches("the cases are").count(),
        1,
        "{}",
        out.stderr
    );
    // An argument of the right shape but the wrong kind (a keyword where a
    // case goes) still lists the cases, in the hint.
    let out = run_cli(["run", CALCULATOR, "math#apply", "ok", "1", "2"]).expect(2);
    assert!(
        out.stderr
            .contains("hint: write `op` in WAVE, for example: add (the cases are: add, subtract, multiply, divide)"),
        "{}",
        out.stderr
    );
}

/// Each mistake in a structured argument is named, however deep it sits,
/// and WAVE's silent leniency (unknown or repeated record fields) is an
/// error rather than a dropped value.
#[test]
fn structured_arguments_name_what_is_wrong() {
    use example_plugins::TYPE_PROBE;
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            CALCULATOR,
            "summarize",
            r#"{name: "x"}"#,
            "field `values` is missing; for example `values: [1.5]`",
        ),
        (
            CALCULATOR,
            "summarize",
            r#"{name: "x", values: [1.0], valuse: [2.0]}"#,
            "it has no field `valuse`; the fields are: name, values",
        ),
        (
            CALCULATOR,
            "summarize",
            r#"{name: "x", name: "y", values: []}"#,
            "duplicate field",
        ),
        (
            TYPE_PROBE,
            "echo-nested",
            "[some([ok(triangle)])]",
            "there is no case `triangle`; the cases are: point, circle(..), rect(..), labeled(..)",
        ),
        (
            TYPE_PROBE,
            "echo-variant",
            "circle",
            "case `circle` needs a value, for example `circle(1.5)`",
        ),
        (
            TYPE_PROBE,
            "echo-variant",
            "point(1)",
            "case `point` takes no value; write `point`",
        ),
        (
            TYPE_PROBE,
            "echo-unit-result",
            "err(bogus)",
            "there is no case `bogus`; the cases are: missing(..), out-of-range(..)",
        ),
        (
            TYPE_PROBE,
            "echo-tuple",
            r#"(1, "a")"#,
            "the tuple takes 3 values, not 2",
        ),
        (
            TYPE_PROBE,
            "echo-u8",
            "256",
            "256 is out of range; it must be from 0 to 255",
        ),
        (
            TYPE_PROBE,
            "echo-s64",
            "9223372036854775808",
            "it must be from -9223372036854775808",
        ),
        (
            TYPE_PROBE,
            "echo-enum",
            "purple",
            "there is no case `purple`; the cases are:",
        ),
    ];
    for (plugin, function, arg, says) in cases {
        let out = run_cli(["run", plugin, function, arg]).expect(2);
        assert_eq!(out.stdout, "", "{function} {arg}");
        assert!(
            out.stderr.contains(says),
            "{function} {arg}: {}",
            out.stderr
        );
        // The function never ran: there is no result, and no trap.
        assert!(!out.stderr.contains("trap"), "{}", out.stderr);
    }
}

/// A huge argument is not echoed whole, twice, into the terminal.
#[test]
fn a_huge_bad_argument_is_shown_in_part() {
    let arg = format!("[{}]", "1, ".repeat(20_000) + "x");
    let out = run_cli(["run", CALCULATOR, "min-max", &arg]).expect(2);
    assert!(out.stderr.len() < 2_000, "{} bytes", out.stderr.len());
    assert!(
        out.stderr.contains("… (60003 characters)"),
        "{}",
        out.stderr
    );
    // The caret still points at the bad element, at the end of the window.
    let lines: Vec<&str> = out.stderr.lines().collect();
    let caret = lines.iter().position(|l| l.trim() == "^").unwrap();
    let col = lines[caret].find('^').unwrap();
    assert_eq!(
        lines[caret - 1].chars().nth(col),
        Some('x'),
        "{}",
        out.stderr
    );
    // Nesting deeper than WAVE parses is an error, not a crash.
    let deep = "[".repeat(100_000);
    let out = run_cli(["run", CALCULATOR, "min-max", &deep]).expect(2);
    assert!(
        out.stderr.contains("value nesting too deep"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unsigned_parameter_refuses_a_negative_number() {
    let out = run_cli(["run", CALCULATOR, "add", "-1", "2"]).expect(2);
    assert!(
        out.stderr.contains("`a: u32`): `-1` is not a valid `u32`"),
        "{}",
        out.stderr
    );
}

#[test]
fn wrong_arity_shows_the_signature_and_an_example_command() {
    let out = run_cli(["run", CALCULATOR, "math#add", "2"]).expect(2);
    assert!(
        out.stderr.contains(
            "`math#add` takes 2 arguments, but 1 was given: add: func(a: u32, b: u32) -> u32"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "hint: for example: wasm-sandbox run {CALCULATOR} math#add 7 7"
        )),
        "{}",
        out.stderr
    );
    let out = run_cli(["run", CALCULATOR, "version", "extra"]).expect(2);
    assert!(
        out.stderr
            .contains("`version` takes no arguments, but 1 was given"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_function_gets_suggestions() {
    let out = run_cli(["run", GREETER, "gret", "x"]).expect(2);
    assert!(
        out.stderr.contains("did you mean `plugin#greet`?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: `wasm-sandbox inspect PLUGIN` lists the exported functions"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_name_two_interfaces_export_must_be_qualified() {
    let dir = tempfile::tempdir().unwrap();
    let twice = dir.path().join("twice.wat");
    std::fs::write(
        &twice,
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 1)
                            (func (export "g") (result i32) i32.const 2))
            (core instance $i (instantiate $m))
            (func $f (result u32) (canon lift (core func $i "f")))
            (func $g (result u32) (canon lift (core func $i "g")))
            (instance $a (export "get" (func $f)))
            (instance $b (export "get" (func $g)))
            (export "acme:demo/a" (instance $a))
            (export "acme:demo/b" (instance $b)))"#,
    )
    .unwrap();
    let out = run_cli(["run".as_ref(), twice.as_os_str(), "get".as_ref()]).expect(2);
    assert!(
        out.stderr
            .contains("several exports are called `get`: `a#get`, `b#get`"),
        "{}",
        out.stderr
    );
    let out = run_cli(["run".as_ref(), twice.as_os_str(), "b#get".as_ref()]).expect(0);
    assert_eq!(out.stdout, "2\n");
}

#[test]
fn a_missing_file_is_a_load_failure() {
    let out = run_cli(["run", "no/such/plugin.wasm", "f"]).expect(3);
    assert!(
        out.stderr
            .contains("could not read plugin `no/such/plugin.wasm`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_core_module_or_garbage_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wat");
    std::fs::write(&core, "(module (func (export \"f\")))").unwrap();
    let out = run_cli(["run".as_ref(), core.as_os_str(), "f".as_ref()]).expect(3);
    assert!(
        out.stderr
            .contains("is a core WebAssembly module, not a component"),
        "{}",
        out.stderr
    );
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\x7fELF not wasm").unwrap();
    let out = run_cli(["run".as_ref(), garbage.as_os_str(), "f".as_ref()]).expect(3);
    assert!(
        out.stderr
            .contains("does not start with the WebAssembly magic number"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_panic_is_a_trap_with_the_guest_message() {
    let out = run_cli(["run", HOG, "panic", "boom"]).expect(5);
    assert!(
        out.stderr
            .contains("plugin trapped in `example-interfaces:hog/plugin@0.1.0#panic`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("boom"), "{}", out.stderr);
    let out = run_cli(["run", CALCULATOR, "math#divide-unchecked", "1", "0"]).expect(5);
    assert!(
        out.stderr.contains("attempt to divide by zero"),
        "{}",
        out.stderr
    );
}

#[test]
fn timeout_stops_a_spinning_plugin() {
    let out = run_cli(["run", HOG, "spin", "--timeout", "200ms"]).expect(6);
    assert!(
        out.stderr
            .contains("resource limit exceeded: time: the call ran past its deadline of 200ms"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: raise it with --timeout"),
        "{}",
        out.stderr
    );
    // The limit is reported once, as the error, not also as an audit note.
    assert!(!out.stderr.contains("audit:"), "{}", out.stderr);
    // A sleep counts too: the deadline is wall-clock time.
    run_cli(["run", HOG, "sleep", "10000", "--timeout", "0.1"]).expect(6);
}

#[test]
fn fuel_bounds_the_instructions_of_a_call() {
    let out = run_cli(["run", HOG, "spin", "--fuel", "100000"]).expect(6);
    assert!(
        out.stderr
            .contains("fuel: the call used up its budget of 100000 units"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: raise it with --fuel"),
        "{}",
        out.stderr
    );
    let out = run_cli(["run", HOG, "fib", "20", "--fuel", "100000000"]).expect(0);
    assert_eq!(out.stdout, "6765\n");
}

#[test]
fn memory_bounds_what_a_plugin_may_allocate() {
    let out = run_cli(["run", HOG, "allocate", "100000000", "--memory", "16MiB"]).expect(6);
    assert!(
        out.stderr.contains("but the limit is 16.0 MiB"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: raise it with --memory"),
        "{}",
        out.stderr
    );
    let out = run_cli(["run", HOG, "allocate", "1000000", "--memory", "64M"]).expect(0);
    assert_eq!(out.stdout, "1000000\n");
}

#[test]
fn a_denied_read_is_exit_4_with_the_audit_line_on_stderr_and_in_the_file() {
    let files = Files::new();
    let audit = files.path("audit.jsonl");
    let out = run_cli([
        "run",
        FILE_READER,
        "read-file",
        "/etc/passwd",
        &format!("--allow-read={}", files.path("data")),
        "--audit",
        &audit,
    ])
    .expect(4);
    // The plugin saw an error and returned it.
    assert_eq!(
        out.stdout,
        "err(\"/etc/passwd: Permission denied (os error 2)\")\n"
    );
    assert!(
        out.stderr
            .contains("DENIED file-read open /etc/passwd (outside every granted path)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.starts_with("audit: "), "{}", out.stderr);
    let lines = std::fs::read_to_string(&audit).unwrap();
    let events: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{lines}");
    assert_eq!(events[0]["decision"], "denied");
    assert_eq!(events[0]["target"], "/etc/passwd");
    assert_eq!(events[0]["plugin"], "file_reader");
    assert_eq!(
        events[0]["call"],
        "example-interfaces:file-reader/plugin@0.1.0#read-file"
    );
}

#[test]
fn an_allowed_read_is_audited_in_the_file_only() {
    let files = Files::new();
    // Relative grants are taken from the current directory.
    let out = crate::outcome(crate::wasm_sandbox().current_dir(files.dir.path()).args([
        "run",
        FILE_READER,
        "read-file",
        &files.path("data/report.txt"),
        "--allow-read=data",
        "--audit",
        "audit.jsonl",
    ]))
    .expect(0);
    assert_eq!(out.stdout, "ok(\"quarterly numbers\\n\")\n");
    assert_eq!(out.stderr, "");
    let lines = std::fs::read_to_string(files.dir.path().join("audit.jsonl")).unwrap();
    assert!(lines.contains("\"decision\":\"allowed\""), "{lines}");
    assert!(
        lines.contains(&format!(
            "\"rule\":\"allow FileRead({})\"",
            files.canonical("data")
        )),
        "{lines}"
    );
}

#[test]
fn json_output_has_the_result_the_value_and_the_audit() {
    let files = Files::new();
    let out = run_cli([
        "--json",
        "run",
        FILE_READER,
        "read-file",
        "/etc/passwd",
        &format!("--allow-read={}", files.path("data")),
    ])
    .expect(4);
    assert_eq!(out.stderr, "");
    let v = out.json();
    assert_eq!(v["exit_code"], 4);
    assert_eq!(
        v["function"],
        "example-interfaces:file-reader/plugin@0.1.0#read-file"
    );
    assert_eq!(
        v["result"],
        "err(\"/etc/passwd: Permission denied (os error 2)\")"
    );
    assert_eq!(
        v["value"]["err"],
        "/etc/passwd: Permission denied (os error 2)"
    );
    assert_eq!(v["audit"][0]["decision"], "denied");

    let v = run_cli([
        "run",
        CALCULATOR,
        "math#summarize",
        "{name: \"x\", values: [1.5, 2.5]}",
        "--json",
    ])
    .expect(0)
    .json();
    assert_eq!(v["value"]["mean"], 2.0);
    assert_eq!(v["value"]["name"], "x");
    assert_eq!(v["audit"], serde_json::json!([]));

    // Errors are JSON too, with the exit status and a hint.
    let v = run_cli(["--json", "run", HOG, "spin", "--timeout", "100ms"])
        .expect(6)
        .json();
    assert_eq!(v["error"]["kind"], "limit");
    assert!(v["error"]["hint"].as_str().unwrap().contains("--timeout"));
    let v = run_cli(["--json", "run", "missing.wasm", "f"])
        .expect(3)
        .json();
    assert_eq!(v["error"]["kind"], "load");
    assert_eq!(v["exit_code"], 3);
}

#[test]
fn a_char_parameter_takes_a_bare_character() {
    // `type_probe` has a char round trip.
    let out = run_cli(["run", example_plugins::TYPE_PROBE, "echo-char", "λ"]).expect(0);
    assert_eq!(out.stdout, "'λ'\n");
    let out = run_cli([
        "run",
        example_plugins::TYPE_PROBE,
        "echo-char",
        "'\\u{3bb}'",
    ])
    .expect(0);
    assert_eq!(out.stdout, "'λ'\n");
}

#[test]
fn hand_written_components_in_text_format_run_too() {
    let out = run_cli([
        "run".as_ref(),
        wat("env.wat").as_os_str(),
        "get-env".as_ref(),
        "X".as_ref(),
    ])
    .expect(4);
    assert!(
        out.stderr.contains("grant it with --allow-env=VAR"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_plugin_cannot_forge_an_audit_line() {
    let files = Files::new();
    let forged = format!(
        "{}\naudit: 2026-01-01T00:00:00.000Z allowed file-read open /etc/shadow (allow FileRead(/))\u{1b}[2K",
        files.path("data/x")
    );
    let grant = format!("--allow-read={}", files.path("data/report.txt"));
    let out = run_cli(["run", FILE_READER, "read-file", &forged, &grant]).expect(4);
    let audit_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("audit:"))
        .collect();
    assert_eq!(audit_lines.len(), 1, "{}", out.stderr);
    assert!(
        audit_lines[0].contains(" DENIED file-read open "),
        "{}",
        out.stderr
    );
    assert!(
        audit_lines[0].contains("/x\\naudit: 2026-01-01T00:00:00.000Z allowed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
    // The JSON form keeps the real path.
    let v = run_cli(["--json", "run", FILE_READER, "read-file", &forged, &grant])
        .expect(4)
        .json();
    assert!(
        v["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"] == forged.as_str()),
        "{v:#}"
    );
}

fn get_env(flags: &[&str]) -> crate::Outcome {
    let mut cmd = wasm_sandbox();
    cmd.env("WSB_CLI_TEST", "hello")
        .arg("run")
        .arg(wat("env.wat"))
        .args(["get-env", "WSB_CLI_TEST", "--allow-env=OTHER"])
        .args(flags);
    outcome(&mut cmd)
}

#[test]
fn abort_on_violation_ends_the_call_at_the_first_denial() {
    // Without it, the plugin gets no value and carries on.
    let out = get_env(&[]).expect(4);
    assert_eq!(out.stdout, "none\n");
    // With it, the call ends.
    let out = get_env(&["--abort-on-violation"]).expect(4);
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stderr);
    assert!(
        lines[0].starts_with("audit: ")
            && lines[0].ends_with(
                " DENIED environment env-read WSB_CLI_TEST \
                 (no EnvironmentRead grant names this variable)"
            ),
        "{}",
        out.stderr
    );
    assert_eq!(
        lines[1],
        "error: security violation in `get-env`: the plugin called `WSB_CLI_TEST`, which the \
         policy does not allow (no EnvironmentRead grant names this variable); grant \
         Capability::EnvironmentRead(\"WSB_CLI_TEST\") if it should"
    );
    assert_eq!(lines[2], "hint: grant it with --allow-env=VAR");
    let v = crate::outcome(
        wasm_sandbox()
            .env("WSB_CLI_TEST", "hello")
            .arg("--json")
            .arg("run")
            .arg(wat("env.wat"))
            .args([
                "get-env",
                "WSB_CLI_TEST",
                "--allow-env=OTHER",
                "--abort-on-violation",
            ]),
    )
    .expect(4)
    .json();
    assert_eq!(v["error"]["kind"], "denied");
    assert_eq!(v["exit_code"], 4);

    // The same from a policy file.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "on_violation = \"abort-call\"\n\n[[allow]]\nEnvironmentRead = [\"OTHER\"]\n",
    )
    .unwrap();
    let out = get_env(&["--policy", policy.to_str().unwrap()]).expect(4);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("error: security violation in `get-env`"),
        "{}",
        out.stderr
    );
}

#[test]
fn abort_on_violation_runs_no_denied_program() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let script = dir.path().join("mark.sh");
    std::fs::write(&script, format!("#!/bin/sh\n: > '{}'\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = script.to_str().unwrap();
    let out = run_cli([
        "run".as_ref(),
        wat("process.wat").as_os_str(),
        "run-program".as_ref(),
        script.as_ref(),
        "--allow-run=true".as_ref(),
        "--abort-on-violation".as_ref(),
    ])
    .expect(4);
    assert!(!marker.exists());
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(&format!(
            "error: security violation in `run-program`: the plugin called `{script}`"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: grant it with --allow-run=PROGRAM"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_component_that_uses_the_async_abi_runs_unless_refused() {
    let plugin = wat("async-lift.wat");
    let out = run_cli(["run".as_ref(), plugin.as_os_str(), "run".as_ref()]).expect(0);
    assert_eq!(out.stdout, "42\n");
    let out = outcome(
        wasm_sandbox()
            .arg("run")
            .arg(&plugin)
            .arg("run")
            .args(["--component-model-async", "off"]),
    )
    .expect(3);
    assert!(
        out.stderr
            .contains("the plugin uses the component model's async ABI")
            && out.stderr.contains("the `task.return` built-in"),
        "{out:#?}"
    );
    let out = run_cli(["inspect".as_ref(), plugin.as_os_str()]).expect(0);
    assert!(out.stdout.contains("run: func() -> u32"), "{out:#?}");
}
