//! `wasm-sandbox inspect`.

use example_plugins::{CALCULATOR, GREETER, INTRUDER};

use crate::run_cli;

#[test]
fn shows_package_exports_with_signatures_and_imports() {
    let out = run_cli(["inspect", CALCULATOR]).expect(0);
    let text = &out.stdout;
    assert!(
        text.starts_with(&format!(
            "{CALCULATOR}\npackage: example:calculator@0.1.0 (from its exports)\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("  math#apply             apply: func(op: op, a: s64, b: s64) -> result<s64, calc-error>\n"),
        "{text}"
    );
    assert!(
        text.contains("  version                version: func() -> string\n"),
        "{text}"
    );
    assert!(text.contains("  wasi:cli/stderr@"), "{text}");
    assert!(
        text.contains("capabilities it can ever use:\n  none: it can compute, log, and read clocks and random numbers, nothing privileged\n"),
        "{text}"
    );
}

#[test]
fn maps_each_import_to_the_capability_it_needs() {
    let out = run_cli(["inspect", INTRUDER]).expect(0);
    let text = &out.stdout;
    for (import, needs) in [
        (
            "wasi:filesystem/preopens@",
            "needs Capability::FileRead or Capability::FileWrite",
        ),
        (
            "wasi:sockets/tcp@",
            "needs Capability::NetworkAccess { .. }",
        ),
        (
            "sandbox:host/process@",
            "needs Capability::ProcessSpawn(..)",
        ),
        (
            "sandbox:host/environment@",
            "needs Capability::EnvironmentRead(..)",
        ),
        (
            "example-interfaces:key-value/key-value@",
            "needs Capability::Custom(\"example-interfaces:key-value/key-value\")",
        ),
    ] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(import))
            .unwrap_or_else(|| panic!("no {import} in {text}"));
        assert!(line.ends_with(needs), "{line}");
    }
    assert!(
        text.contains("example-interfaces:intruder/types@0.1.0"),
        "{text}"
    );
    assert!(text.contains("types only"), "{text}");
    for grant in [
        "grant it with --allow-read=PATH (or --allow-write=PATH)",
        "grant it with --allow-net=HOST:PORT",
        "grant it with --allow-env=VAR",
        "grant it with --allow-run=PROGRAM",
        "an application's host interface",
    ] {
        assert!(text.contains(grant), "{grant} in {text}");
    }
}

#[test]
fn json_lists_the_same() {
    let v = run_cli(["inspect", GREETER, "--json"]).expect(0).json();
    assert_eq!(v["package"], "example-interfaces:greeter@0.1.0");
    assert_eq!(
        v["exported_interfaces"],
        serde_json::json!(["example-interfaces:greeter/plugin@0.1.0"])
    );
    assert_eq!(v["exports"][0]["short_name"], "plugin#greet");
    assert_eq!(v["exports"][0]["signature"], "func(name: string) -> string");
    assert_eq!(v["exports"][0]["params"], serde_json::json!(["string"]));
    assert_eq!(v["capabilities"], serde_json::json!([]));
    assert!(
        v["imports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["capability"].is_null())
    );
}

#[test]
fn a_precompiled_artifact_or_a_bad_file_cannot_be_inspected() {
    let dir = tempfile::tempdir().unwrap();
    crate::run_cli([
        "compile".as_ref(),
        GREETER.as_ref(),
        "-o".as_ref(),
        dir.path().as_os_str(),
    ])
    .expect(0);
    let artifact = dir.path().join("greeter.cwasm");
    let out = run_cli(["inspect".as_ref(), artifact.as_os_str()]).expect(2);
    assert!(
        out.stderr.contains("is a precompiled artifact"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: inspect the .wasm"),
        "{}",
        out.stderr
    );
    run_cli(["inspect", "missing.wasm"]).expect(3);
}

#[test]
fn reads_a_component_that_wasmtime_will_not_compile_without_compiling_it() {
    // Valid WebAssembly, but its core module uses custom page sizes, which
    // wasmtime's defaults refuse: `run` cannot load it, `inspect` reads it.
    let plugin = crate::wat("custom-page-size.wat");
    let out = run_cli(["inspect".as_ref(), plugin.as_os_str()]).expect(0);
    assert!(
        out.stdout.contains("  seven  seven: func() -> s32\n"),
        "{out:#?}"
    );
    let out = run_cli(["run".as_ref(), plugin.as_os_str(), "seven".as_ref()]);
    assert_ne!(out.code, Some(0), "{out:#?}");
    assert!(out.stderr.contains("custom page sizes"), "{out:#?}");
}

#[test]
fn json_lists_parameter_names_and_the_async_abi() {
    let plugin = crate::wat("async-lift.wat");
    let out = run_cli(["--json".as_ref(), "inspect".as_ref(), plugin.as_os_str()]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let uses = json["component_model_async"].as_array().unwrap();
    assert!(
        uses.iter()
            .any(|u| u.as_str().unwrap().contains("task.return")),
        "{json:#}"
    );
    let out = run_cli(["--json", "inspect", CALCULATOR]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let apply = json["exports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["function"] == "apply")
        .unwrap();
    assert_eq!(apply["param_names"], serde_json::json!(["op", "a", "b"]));
    assert_eq!(apply["params"], serde_json::json!(["op", "s64", "s64"]));
}
