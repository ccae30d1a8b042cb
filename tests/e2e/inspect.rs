//! `ComponentInfo`: a plugin's imports, exports and the capabilities it
//! could ever use, read without instantiating it.

use wasm_sandbox::{ComponentInfo, Error};

use crate::calculator;

#[tokio::test]
async fn exports_are_the_ones_a_sandbox_lists() {
    let info = ComponentInfo::from_file(example_plugins::CALCULATOR).unwrap();
    let sandbox = calculator().await;
    let listed: Vec<(String, String)> = sandbox
        .list_exports()
        .iter()
        .map(|e| (e.name().to_string(), e.signature().to_string()))
        .collect();
    let inspected: Vec<(String, String)> = info
        .exports()
        .iter()
        .map(|e| (e.name().to_string(), e.signature().to_string()))
        .collect();
    assert_eq!(inspected, listed);
    assert_eq!(info.package(), Some("example:calculator@0.1.0"));
    assert_eq!(
        info.exported_interfaces(),
        ["example:calculator/math@0.1.0"]
    );
    // Only WASI interfaces every plugin may use.
    assert!(info.needed_capabilities().is_empty());
    assert!(
        info.imports()
            .iter()
            .all(|i| i.name.starts_with("wasi:") && i.capability.is_none()),
        "{:?}",
        info.imports()
    );
}

#[test]
fn every_privileged_import_names_its_capability() {
    let info = ComponentInfo::from_file(example_plugins::INTRUDER).unwrap();
    assert_eq!(
        info.needed_capabilities(),
        [
            "Capability::Custom(\"example-interfaces:key-value/key-value\")",
            "Capability::FileRead or Capability::FileWrite",
            "Capability::NetworkAccess { .. }",
            "Capability::EnvironmentRead(..)",
            "Capability::ProcessSpawn(..)",
        ]
    );
    let types = info
        .imports()
        .iter()
        .find(|i| i.name.starts_with("example-interfaces:intruder/types"))
        .unwrap();
    assert!(types.types_only);
    assert_eq!(types.capability, None);
    let process = info
        .imports()
        .iter()
        .find(|i| i.name.starts_with("sandbox:host/process"))
        .unwrap();
    assert_eq!(process.functions, ["run"]);
}

#[test]
fn a_file_reader_needs_a_file_grant_only() {
    let info = ComponentInfo::from_file(example_plugins::FILE_READER).unwrap();
    assert_eq!(
        info.needed_capabilities(),
        ["Capability::FileRead or Capability::FileWrite"]
    );
    assert_eq!(info.exports().len(), 1);
    assert_eq!(
        info.exports()[0].to_string(),
        "read-file: func(path: string) -> result<string, string>"
    );
}

#[test]
fn a_missing_file_is_an_io_error() {
    let err = ComponentInfo::from_file("no/such/plugin.wasm").unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

/// The outline (read from the binary, not compiled) agrees with the
/// compiled reading on every plugin, names, signatures, imports and
/// capabilities alike.
#[test]
fn the_outline_agrees_with_the_compiled_reading() {
    use wasm_sandbox::ComponentOutline;
    for plugin in [
        example_plugins::CALCULATOR,
        example_plugins::INTRUDER,
        example_plugins::TEXT_FILTER,
        example_plugins::TALLY,
        example_plugins::PAINTER,
        example_plugins::RESOLVER,
    ] {
        let info = ComponentInfo::from_file(plugin).unwrap();
        let outline = ComponentOutline::from_file(plugin).unwrap();
        let compiled: Vec<(&str, &str, &str)> = info
            .exports()
            .iter()
            .map(|e| (e.name(), e.short_name(), e.signature()))
            .collect();
        let read: Vec<(&str, &str, &str)> = outline
            .exports
            .iter()
            .map(|e| (e.name.as_str(), e.short_name.as_str(), e.signature.as_str()))
            .collect();
        assert_eq!(read, compiled, "{plugin}");
        assert_eq!(outline.imports, info.imports(), "{plugin}");
        assert_eq!(outline.package.as_deref(), info.package(), "{plugin}");
        assert_eq!(outline.exported_interfaces, info.exported_interfaces());
        assert!(outline.async_abi.is_empty());
    }
    let tally = ComponentOutline::from_file(example_plugins::TALLY).unwrap();
    let absorb = tally
        .exports
        .iter()
        .find(|e| e.function == "absorb")
        .unwrap();
    assert_eq!(
        absorb.params,
        [
            ("into".to_string(), "borrow<tally>".to_string()),
            ("from".to_string(), "tally".to_string())
        ]
    );
    assert_eq!(absorb.result.as_deref(), Some("u32"));
}

#[test]
fn the_outline_reads_components_wasmtime_would_not_compile() {
    use wasm_sandbox::ComponentOutline;
    // Custom page sizes: valid WebAssembly that wasmtime's defaults refuse.
    let wat = r#"(component
        (core module $m (memory 1 (pagesize 1)) (func (export "f") (result i32) i32.const 7))
        (core instance $i (instantiate $m))
        (func (export "seven") (result s32) (canon lift (core func $i "f"))))"#;
    let err = ComponentInfo::from_bytes(wat).unwrap_err();
    assert!(matches!(err, Error::Compile { .. }), "{err:?}");
    let outline = ComponentOutline::from_bytes(wat).unwrap();
    assert_eq!(outline.exports.len(), 1);
    assert_eq!(outline.exports[0].to_string(), "seven: func() -> s32");
    // Garbage and core modules are refused as when loading.
    let err = ComponentOutline::from_bytes(b"\0asm\x0d\0\x01\0\xff".to_vec()).unwrap_err();
    assert!(matches!(err, Error::InvalidBinary { .. }), "{err:?}");
    let err = ComponentOutline::from_bytes("(module)").unwrap_err();
    assert!(matches!(err, Error::NotAComponent { .. }), "{err:?}");
}
