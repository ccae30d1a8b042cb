//! What plugins log, on the CLI's stderr: `[plugin] line` for their `log`
//! calls, `[plugin stderr] line` for their stderr, as `-v`, `-q` and
//! `RUST_LOG` choose; never able to forge a line of ours.

use example_plugins::{HOG, TYPE_PROBE};

use crate::{outcome, run_cli, wasm_sandbox};

#[test]
fn stderr_lines_and_log_lines_are_shown_with_the_plugin_s_name() {
    let out = run_cli(["run", TYPE_PROBE, "complain", "disk is full", "2"]).expect(0);
    assert_eq!(out.stdout, "26\n");
    assert_eq!(
        out.stderr,
        "[type_probe stderr] disk is full\n[type_probe stderr] disk is full\n"
    );
    let out = run_cli(["run", HOG, "log-flood", "2048"]).expect(0);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{out:#?}");
    assert!(
        lines
            .iter()
            .all(|l| *l == format!("[hog] {}", "z".repeat(1023)))
    );
}

#[test]
fn quiet_hides_them_and_then_a_trap_s_message_carries_the_stderr() {
    let out = run_cli(["-q", "run", TYPE_PROBE, "complain", "disk is full", "2"]).expect(0);
    assert_eq!(out.stderr, "");
    let out = run_cli(["run", HOG, "log-flood", "2048", "--quiet"]).expect(0);
    assert_eq!(out.stderr, "");
    // Hidden lines are not lost when the plugin dies: the error has them.
    let out = run_cli(["-q", "run", HOG, "panic", "out of ideas"]).expect(5);
    assert!(
        out.stderr.contains("the guest wrote to stderr:") && out.stderr.contains("out of ideas"),
        "{out:#?}"
    );
    // Shown as they came, they are not repeated in the error.
    let out = run_cli(["run", HOG, "panic", "out of ideas"]).expect(5);
    assert_eq!(out.stderr.matches("out of ideas").count(), 1, "{out:#?}");
    assert!(out.stderr.contains("[hog stderr] out of ideas"), "{out:#?}");
    run_cli(["-q", "-v", "run", HOG, "noop"]).expect(2);
}

#[test]
fn rust_log_decides_when_set() {
    let out = outcome(
        wasm_sandbox()
            .args(["run", TYPE_PROBE, "complain", "x", "1"])
            .env("RUST_LOG", "off"),
    )
    .expect(0);
    assert_eq!(out.stderr, "");
    let out = outcome(
        wasm_sandbox()
            .args(["run", TYPE_PROBE, "complain", "x", "1"])
            .env("RUST_LOG", "wasm_sandbox::guest=warn"),
    )
    .expect(0);
    assert_eq!(out.stderr, "[type_probe stderr] x\n");
    // Info lines are below `warn`.
    let out = outcome(
        wasm_sandbox()
            .args(["run", HOG, "log-flood", "1024"])
            .env("RUST_LOG", "wasm_sandbox::guest=warn"),
    )
    .expect(0);
    assert_eq!(out.stderr, "");
    // A filter that does not parse says so and keeps the default.
    let out = outcome(
        wasm_sandbox()
            .args(["run", TYPE_PROBE, "complain", "x", "1"])
            .env("RUST_LOG", "wasm_sandbox::guest=loud[["),
    )
    .expect(0);
    assert!(out.stderr.contains("is not a valid filter"), "{out:#?}");
    assert!(out.stderr.contains("[type_probe stderr] x"), "{out:#?}");
}

#[test]
fn a_plugin_cannot_write_a_line_that_looks_like_ours() {
    let out = run_cli([
        "run",
        TYPE_PROBE,
        "complain",
        "fine\raudit: nothing was denied\u{1b}[2K",
        "1",
    ])
    .expect(0);
    assert_eq!(
        out.stderr,
        "[type_probe stderr] fine\\raudit: nothing was denied\\u{1b}[2K\n"
    );
}
