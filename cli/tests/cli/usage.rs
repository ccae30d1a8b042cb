//! Help, version, completions and command-line mistakes.

use example_plugins::GREETER;

use crate::run_cli;

#[test]
fn help_lists_commands_examples_and_exit_statuses() {
    let out = run_cli(["--help"]).expect(0);
    for text in [
        "run",
        "inspect",
        "validate",
        "compile",
        "learn",
        "policy",
        "completions",
        "Examples:",
        "Exit status:",
        "4  denied",
        "--json",
    ] {
        assert!(out.stdout.contains(text), "{text} in {}", out.stdout);
    }
    let out = run_cli(["run", "--help"]).expect(0);
    for text in [
        "--allow-read[=<PATH>]",
        "--deny-net[=<HOST:PORT>]",
        "--policy <FILE>",
        "--memory <SIZE>",
        "--timeout <DURATION>",
        "--fuel <UNITS>",
        "--audit <FILE.jsonl>",
        "--allow-read            everything (/), as in Deno",
        "5  the plugin trapped",
    ] {
        assert!(out.stdout.contains(text), "{text} in {}", out.stdout);
    }
    for command in ["inspect", "validate", "compile", "learn", "completions"] {
        let out = run_cli([command, "--help"]).expect(0);
        assert!(out.stdout.contains("Example"), "{command}: {}", out.stdout);
    }
    let out = run_cli(["policy", "diff", "--help"]).expect(0);
    assert!(out.stdout.contains("1 NEW widens OLD"), "{}", out.stdout);
}

#[test]
fn version() {
    let out = run_cli(["--version"]).expect(0);
    assert_eq!(
        out.stdout,
        format!("wasm-sandbox {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _wasm__sandbox"),
        ("zsh", "#compdef wasm-sandbox"),
        ("fish", "complete -c wasm-sandbox"),
    ] {
        let out = run_cli(["completions", shell]).expect(0);
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("allow-read"), "{shell}");
        assert!(out.stdout.contains("inspect"), "{shell}");
    }
    for shell in ["elvish", "powershell"] {
        let out = run_cli(["completions", shell]).expect(0);
        assert!(
            out.stdout.contains("wasm-sandbox"),
            "{shell}: {}",
            out.stdout
        );
        assert!(out.stdout.contains("allow-read"), "{shell}");
    }
    let out = run_cli(["completions", "tcsh"]).expect(2);
    assert!(
        out.stderr.contains("invalid value 'tcsh'"),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_mistakes_exit_with_2() {
    let out = run_cli(Vec::<&str>::new()).expect(2);
    assert!(out.stderr.contains("Usage: wasm-sandbox"), "{}", out.stderr);
    run_cli(["frobnicate"]).expect(2);
    run_cli(["run", GREETER]).expect(2);
    run_cli(["run", GREETER, "greet", "x", "--no-such-flag"]).expect(2);
    let out = run_cli(["run", GREETER, "greet", "x", "--memory", "lots"]).expect(2);
    assert!(
        out.stderr.contains("`lots` is not a size"),
        "{}",
        out.stderr
    );
    let out = run_cli(["run", GREETER, "greet", "x", "--timeout", "2h"]).expect(2);
    assert!(
        out.stderr.contains("`2h` has an unknown unit"),
        "{}",
        out.stderr
    );
    run_cli(["run", GREETER, "greet", "x", "--fuel", "-5"]).expect(2);
    // Grant values need `=`: a separate word is an argument, not a path.
    let out = run_cli(["run", GREETER, "greet", "--allow-read", "x"]).expect(0);
    assert_eq!(out.stdout, "\"Hello, x!\"\n");
}
