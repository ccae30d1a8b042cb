//! `wasm-sandbox policy diff`.

use crate::run_cli;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn the_exit_status_says_whether_the_new_policy_widens() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(&dir, "old.toml", "[[allow]]\nFileRead = \"/srv\"\n");
    let new = write(
        &dir,
        "new.json",
        r#"{"allow": [{"FileRead": "/srv/data"}, {"NetworkAccess": {"allowed_hosts": ["api.example.com"], "allowed_ports": [443]}}]}"#,
    );
    let out = run_cli(["policy", "diff", &old, &new]).expect(1);
    assert_eq!(
        out.stdout,
        format!(
            "+ allow NetworkAccess(hosts [api.example.com], ports [443])\n- allow FileRead(/srv)\n{new} widens {old}\n"
        )
    );
    // Back again: /srv is wider than /srv/data.
    let out = run_cli(["policy", "diff", &new, &old]).expect(1);
    assert_eq!(
        out.stdout,
        format!(
            "+ allow FileRead(/srv)\n- allow NetworkAccess(hosts [api.example.com], ports [443])\n{old} widens {new}\n"
        )
    );
    let out = run_cli(["policy", "diff", &old, &old]).expect(0);
    assert_eq!(
        out.stdout,
        format!("no change\n{old} does not widen {old}\n")
    );
    let narrower = write(
        &dir,
        "narrower.toml",
        "[[allow]]\nFileRead = \"/srv/data\"\n",
    );
    let out = run_cli(["policy", "diff", &old, &narrower]).expect(0);
    assert_eq!(
        out.stdout,
        format!("- allow FileRead(/srv)\n{narrower} does not widen {old}\n")
    );
    let v = run_cli(["--json", "policy", "diff", &old, &new])
        .expect(1)
        .json();
    assert_eq!(v["widens"], true);
    assert_eq!(
        v["added"][0]["NetworkAccess"]["allowed_ports"],
        serde_json::json!([443])
    );
    assert_eq!(v["exit_code"], 1);
}

#[test]
fn unreadable_policies_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(&dir, "good.toml", "");
    let bad = write(&dir, "bad.toml", "imports = \"sometimes\"\n");
    let out = run_cli(["policy", "diff", &good, &bad]).expect(2);
    assert!(out.stderr.contains("line 1"), "{}", out.stderr);
    let out = run_cli(["policy", "diff", &good, "missing.toml"]).expect(2);
    assert!(
        out.stderr
            .contains("could not read the policy file `missing.toml`"),
        "{}",
        out.stderr
    );
    run_cli(["policy", "diff", &good]).expect(2);
    run_cli(["policy"]).expect(2);
}

#[test]
fn diff_refuses_policies_that_run_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(&dir, "good.toml", "");
    for (name, text, says) in [
        (
            "relative.toml",
            "[[deny]]\nFileRead = \"secrets\"\n",
            "[[deny]] FileRead",
        ),
        (
            "stack.toml",
            "[limits]\nmax_stack = 0\n",
            "limit `max_stack`",
        ),
        (
            "hosts.toml",
            "[[allow]]\nNetworkAccess = { allowed_hosts = [], allowed_ports = [443] }\n",
            "allowed_hosts",
        ),
        (
            "missing.toml",
            "[[allow]]\nFileRead = \"/no/such/dir/at/all\"\n",
            "FileRead(/no/such/dir/at/all)",
        ),
    ] {
        let bad = write(&dir, name, text);
        let out = run_cli(["policy", "diff", &good, &bad]).expect(2);
        assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
        let out = run_cli(["policy", "diff", &bad, &good]).expect(2);
        assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
    }
}

#[test]
fn a_zero_stack_in_a_policy_is_a_usage_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(&dir, "stack.toml", "[limits]\nmax_stack = 0\n");
    let out = run_cli([
        "run",
        example_plugins::GREETER,
        "--policy",
        &policy,
        "greet",
        "world",
    ])
    .expect(2);
    assert!(
        out.stderr
            .contains("limit `max_stack` = 0 is out of range: it must be from 4096 (4 KiB)"),
        "{}",
        out.stderr
    );
}

#[test]
fn policy_file_extensions_are_matched_in_any_case() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(&dir, "old.JSON", r#"{"imports": "deny"}"#);
    let new = write(&dir, "new.Toml", "imports = \"warn\"\n");
    let out = run_cli(["policy", "diff", &old, &new]).expect(1);
    assert!(
        out.stdout.contains("+ imports: deny -> warn"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_audit_file_that_cannot_be_opened_is_named_as_the_audit_file() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("no-such-dir/audit.jsonl");
    let audit = audit.display().to_string();
    let out = run_cli([
        "run",
        example_plugins::GREETER,
        "greet",
        "world",
        "--audit",
        &audit,
    ])
    .expect(7);
    assert!(
        out.stderr
            .contains(&format!("could not write audit events to `{audit}`"))
            && !out.stderr.contains("could not read plugin"),
        "{}",
        out.stderr
    );
}

/// Command-line messages that the errors chapter quotes: each is checked
/// against the real output, and the chapter must quote it.
#[test]
fn the_errors_chapter_quotes_the_command_line_messages() {
    use example_plugins::GREETER;
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/errors.md"),
    )
    .unwrap();
    let quoted = |line: &str| {
        assert!(
            chapter.contains(line),
            "book/src/errors.md does not quote this line; update it:\n{line}"
        );
    };
    // A fractional size names the whole-number forms.
    let out = run_cli(["run", GREETER, "greet", "x", "--memory", "1.5G"]).expect(2);
    let line = out.stderr.lines().next().unwrap();
    assert!(line.contains("1536M or 1610612736 (bytes)"), "{line}");
    quoted(line);
    // A zero stack in a policy file is a usage error naming the key.
    let dir = tempfile::tempdir().unwrap();
    let policy = write(&dir, "stack.toml", "[limits]\nmax_stack = 0\n");
    let out = run_cli(["run", GREETER, "greet", "x", "--policy", &policy]).expect(2);
    let line = out.stderr.lines().next().unwrap();
    quoted(&line.replace(&format!("{}/", dir.path().display()), ""));
    // The CLI names its own command, not the library's `list_exports()`.
    let out = run_cli(["run", GREETER, "nosuch", "x"]).expect(2);
    assert!(!out.stderr.contains("list_exports"), "{}", out.stderr);
    for line in out.stderr.lines() {
        quoted(line);
    }
    let out = run_cli(["run", GREETER, "gret", "x"]).expect(2);
    assert!(
        !out.stderr.contains("list_exports") && out.stderr.contains("wasm-sandbox inspect PLUGIN"),
        "{}",
        out.stderr
    );
    // A record argument with a field left out names the field.
    let calc = example_plugins::CALCULATOR;
    let out = run_cli(["run", calc, "summarize", r#"{name: "x"}"#]).expect(2);
    quoted(out.stderr.lines().next().unwrap());
    // A variant case that does not exist lists the cases.
    let probe = example_plugins::TYPE_PROBE;
    let out = run_cli(["run", probe, "echo-variant", "triangle(3)"]).expect(2);
    quoted(out.stderr.lines().next().unwrap());
    // A .cwasm under --fuel: run the .wasm.
    let artifacts = dir.path().join("out");
    run_cli([
        "compile".as_ref(),
        GREETER.as_ref(),
        "-o".as_ref(),
        artifacts.as_os_str(),
    ])
    .expect(0);
    let artifact = artifacts.join("greeter.cwasm");
    let artifact = artifact.display().to_string();
    let out = run_cli([
        "run",
        &artifact,
        "greet",
        "x",
        "--fuel",
        "1000",
        "--allow-precompiled",
    ])
    .expect(3);
    for line in out.stderr.lines() {
        quoted(&line.replace(&artifact, "greeter.cwasm"));
    }
}
