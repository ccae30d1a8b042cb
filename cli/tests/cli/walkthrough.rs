//! The CLI half of the guide's walkthrough (`book/src/walkthrough.md`):
//! the component model book's `adder` (world `adder` of
//! `docs:adder@0.1.0`, plain `wit-bindgen`, `example-plugins/guests/adder`)
//! run and inspected with the real binary. The library half is in
//! `tests/e2e/walkthrough.rs`; the session the page shows is produced by
//! `book.rs`.

use example_plugins::ADDER;

use crate::run_cli;

#[test]
fn the_adder_adds_by_any_name() {
    for name in [
        "add",
        "add#add",
        "docs:adder/add#add",
        "docs:adder/add@0.1.0#add",
    ] {
        let out = run_cli(["run", ADDER, name, "2", "3"]).expect(0);
        assert_eq!(out.stdout, "5\n", "{name}");
        assert_eq!(out.stderr, "", "{name}");
    }
}

#[test]
fn the_adder_wraps_past_u32_max() {
    for (x, y, sum) in [
        ("0", "0", "0"),
        ("4294967295", "0", "4294967295"),
        ("4294967295", "1", "0"),
        ("4294967295", "4294967295", "4294967294"),
    ] {
        let out = run_cli(["run", ADDER, "add", x, y]).expect(0);
        assert_eq!(out.stdout, format!("{sum}\n"), "add {x} {y}");
    }
}

#[test]
fn a_missing_argument_is_a_usage_error_with_the_signature_and_an_example() {
    let out = run_cli(["run", ADDER, "add", "2"]).expect(2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "error: `add#add` takes 2 arguments, but 1 was given: add: func(x: u32, y: u32) -> u32\n\
             hint: for example: wasm-sandbox run {ADDER} add 7 7\n"
        )
    );
}

#[test]
fn an_argument_that_is_not_a_u32_names_the_parameter_and_its_type() {
    let out = run_cli(["run", ADDER, "add", "x", "y"]).expect(2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("error: argument 1 of `add#add` (`x: u32`): `x` is not a valid `u32`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .ends_with("hint: write `u32` in WAVE, for example: 7\n"),
        "{}",
        out.stderr
    );
    // A number outside `u32` says what the range is.
    let out = run_cli(["run", ADDER, "add", "1", "4294967296"]).expect(2);
    assert!(
        out.stderr.contains(
            "argument 2 of `add#add` (`y: u32`): `4294967296` is not a valid `u32` \
             (4294967296 is out of range; it must be from 0 to 4294967295)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn inspect_shows_the_published_package_and_the_add_function() {
    let out = run_cli(["inspect", ADDER]).expect(0);
    let text = &out.stdout;
    assert!(
        text.starts_with(&format!(
            "{ADDER}\npackage: docs:adder@0.1.0 (from its exports)\n\nexports:\n  add#add  add: func(x: u32, y: u32) -> u32\n\nimports:\n"
        )),
        "{text}"
    );
    // Plain arithmetic: nothing to grant.
    assert!(
        text.ends_with(
            "capabilities it can ever use:\n  none: it can compute, log, and read clocks and random numbers, nothing privileged\n"
        ),
        "{text}"
    );
}
