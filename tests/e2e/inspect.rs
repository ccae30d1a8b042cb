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
