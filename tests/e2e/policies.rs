//! Policies never weaken silently: every key is known, every path in
//! `allow` and `deny` is checked the same way, every limit is in range, and
//! a file's format is found whatever the case of its extension.

use wasm_sandbox::{Error, ResourceLimits, SecurityPolicy, WasmSandbox};

/// The detail of a policy error, or a panic naming what was accepted.
fn policy_error(result: wasm_sandbox::Result<SecurityPolicy>) -> String {
    match result {
        Err(Error::Policy { detail }) => detail,
        Err(other) => panic!("expected a policy error, got {other}"),
        Ok(policy) => panic!("accepted {policy:?}"),
    }
}

#[test]
fn unknown_keys_inside_network_access_are_refused_in_json_and_toml() {
    let json = r#"{"allow": [{"NetworkAccess": {"allowed_hosts": ["*"], "allowed_ports": [80],
        "allowed_scheme": ["https"]}}]}"#;
    let detail = policy_error(SecurityPolicy::from_json(json));
    assert!(detail.contains("allowed_scheme"), "{detail}");
    let toml = "[[allow]]\nNetworkAccess = { allowed_hosts = [\"*\"], allowed_ports = [80], \
                allowed_scheme = [\"https\"] }\n";
    let detail = policy_error(SecurityPolicy::from_toml(toml));
    assert!(detail.contains("allowed_scheme"), "{detail}");
}

#[test]
fn unknown_keys_are_refused_at_every_level() {
    for (json, key) in [
        (r#"{"imprts": "warn"}"#, "imprts"),
        (r#"{"limits": {"memroy": 65536}}"#, "memroy"),
        (r#"{"allow": [{"FileRaed": "/tmp"}]}"#, "FileRaed"),
    ] {
        let detail = policy_error(SecurityPolicy::from_json(json));
        assert!(detail.contains(key), "{json}: {detail}");
    }
    for (toml, key) in [
        ("imprts = \"warn\"\n", "imprts"),
        ("[limits]\nmemroy = 65536\n", "memroy"),
        ("[[deny]]\nFileRaed = \"/tmp\"\n", "FileRaed"),
    ] {
        let detail = policy_error(SecurityPolicy::from_toml(toml));
        assert!(detail.contains(key), "{toml}: {detail}");
    }
}

#[test]
fn denied_paths_are_checked_like_granted_ones() {
    for (path, says) in [
        ("relative/dir", "relative"),
        (" /srv", "white space"),
        ("~/secrets", "`~`"),
    ] {
        for side in ["allow", "deny"] {
            let toml = format!("[[{side}]]\nFileRead = \"{path}\"\n");
            let detail = policy_error(SecurityPolicy::from_toml(&toml));
            assert!(
                detail.contains(&format!("[[{side}]] FileRead")) && detail.contains(says),
                "{toml}: {detail}"
            );
        }
    }
    let json = r#"{"deny": [{"FileWrite": "/srv/a\u0000b"}]}"#;
    let detail = policy_error(SecurityPolicy::from_json(json));
    assert!(
        detail.contains("[[deny]] FileWrite") && detail.contains("NUL"),
        "{detail}"
    );
    // Built in code, the same policy is refused when it is validated.
    let policy = SecurityPolicy::strict().deny(wasm_sandbox::Capability::FileRead("~/x".into()));
    match policy.validate() {
        Err(Error::Policy { detail }) => assert!(detail.contains("[[deny]] FileRead"), "{detail}"),
        other => panic!("accepted: {other:?}"),
    }
    // A denied path that does not exist yet is still fine.
    SecurityPolicy::from_toml("[[deny]]\nFileRead = \"/no/such/dir/yet\"\n")
        .unwrap()
        .validate()
        .unwrap();
}

#[test]
fn limits_out_of_range_are_errors_naming_the_key() {
    for (line, key) in [
        ("max_stack = 0", "max_stack"),
        ("max_stack = 18446744073709551615", "max_stack"),
        ("memory = 0", "memory"),
        ("cpu_timeout_ms = 0", "cpu_timeout_ms"),
        ("cpu_timeout_ms = 9223372036854775807", "cpu_timeout_ms"),
        ("fuel = 0", "fuel"),
        ("table_elements = 0", "table_elements"),
        ("instances = 0", "instances"),
        ("max_output = 0", "max_output"),
        ("http_timeout_ms = 0", "http_timeout_ms"),
    ] {
        let toml = format!("[limits]\n{line}\n");
        let detail = policy_error(SecurityPolicy::from_toml(&toml));
        assert!(
            detail.contains(&format!("limit `{key}`")) && detail.contains("out of range"),
            "{line}: {detail}"
        );
    }
    let detail = policy_error(SecurityPolicy::from_json(r#"{"limits": {"max_stack": 0}}"#));
    assert!(detail.contains("limit `max_stack`"), "{detail}");
    // Values at the ends of the ranges are accepted.
    SecurityPolicy::from_toml(
        "[limits]\nmax_stack = 4096\nmemory = 65536\nlog_output = 0\nhttp_request_bytes = 0\n",
    )
    .unwrap();
    SecurityPolicy::from_toml("[limits]\nmax_stack = 268435456\n").unwrap();
}

#[tokio::test]
async fn the_builder_refuses_limits_out_of_range() {
    let mut no_fuel = ResourceLimits::default();
    no_fuel.fuel = Some(0);
    for builder in [
        WasmSandbox::builder().max_stack(0),
        WasmSandbox::builder().max_stack(usize::MAX),
        WasmSandbox::builder().memory_limit(0),
        WasmSandbox::builder().resource_limits(no_fuel),
    ] {
        match builder.source(example_plugins::GREETER).build().await {
            Err(Error::Policy { detail }) => assert!(detail.contains("out of range"), "{detail}"),
            Err(other) => panic!("expected a policy error, got {other}"),
            Ok(_) => panic!("a limit out of range was accepted"),
        }
    }
}

#[test]
fn a_huge_engine_stack_is_an_error_not_an_overflow() {
    let mut config = wasm_sandbox::EngineConfig::new();
    config.max_wasm_stack(usize::MAX);
    match wasm_sandbox::Engine::new(&config) {
        Err(Error::Config { detail }) => assert!(detail.contains("max_wasm_stack"), "{detail}"),
        Err(other) => panic!("expected a config error, got {other}"),
        Ok(_) => panic!("an overflowing stack size was accepted"),
    }
}

#[test]
fn policy_file_extensions_are_matched_in_any_case() {
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{"imports": "warn"}"#;
    for name in ["p.json", "p.JSON", "p.Json"] {
        let path = dir.path().join(name);
        std::fs::write(&path, json).unwrap();
        let policy = SecurityPolicy::from_file(&path).unwrap();
        assert_eq!(policy.imports(), wasm_sandbox::ImportCheck::Warn, "{name}");
    }
    for name in ["p.toml", "p.Toml", "p.TOML"] {
        let path = dir.path().join(name);
        std::fs::write(&path, "imports = \"warn\"\n").unwrap();
        let policy = SecurityPolicy::from_file(&path).unwrap();
        assert_eq!(policy.imports(), wasm_sandbox::ImportCheck::Warn, "{name}");
    }
}

#[test]
fn the_errors_chapter_quotes_these_messages() {
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/errors.md"),
    )
    .unwrap();
    for text in [
        "[limits]\nmax_stack = 0\n",
        "[[deny]]\nFileRead = \"~/secrets\"\n",
    ] {
        let message = SecurityPolicy::from_toml(text).unwrap_err().to_string();
        assert!(
            chapter.contains(&message),
            "book/src/errors.md does not quote this message; update it:\n{message}"
        );
    }
}

#[test]
fn policy_files_are_read_bounded_and_only_when_regular() {
    let tmp = tempfile::tempdir().unwrap();
    // A device that never ends, a directory, a FIFO (refused without
    // blocking: opening it would otherwise wait for a writer).
    let fifo = tmp.path().join("policy.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for (path, kind) in [
        (std::path::PathBuf::from("/dev/zero"), "character device"),
        (tmp.path().to_path_buf(), "directory"),
        (fifo, "FIFO"),
    ] {
        let detail = policy_error(SecurityPolicy::from_file(&path));
        assert!(detail.contains(kind), "{detail}");
        assert!(detail.contains("not a regular file"), "{detail}");
    }
    // A sparse file that announces 4 GiB is refused by its size.
    let sparse = tmp.path().join("big.toml");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let detail = policy_error(SecurityPolicy::from_file(&sparse));
    assert!(detail.contains("4294967296 bytes"), "{detail}");
    assert!(
        detail.contains(&SecurityPolicy::MAX_FILE_BYTES.to_string()),
        "{detail}"
    );
    // Bytes that are not UTF-8.
    let latin1 = tmp.path().join("latin1.toml");
    std::fs::write(&latin1, b"imports = \"deny\" # caf\xe9\n").unwrap();
    let detail = policy_error(SecurityPolicy::from_file(&latin1));
    assert!(detail.contains("not UTF-8"), "{detail}");
    // A good file still reads.
    let good = tmp.path().join("good.toml");
    std::fs::write(&good, "imports = \"warn\"\n").unwrap();
    assert!(SecurityPolicy::from_file(&good).is_ok());
}
