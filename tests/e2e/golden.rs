//! The WIT generated from the example traits is checked in under
//! `wit/example-interfaces/`, so plugin authors in other languages have real
//! `.wit` files. This test fails when a file is stale; run
//! `WASM_SANDBOX_BLESS=1 cargo test -p wasm-sandbox-tests --test e2e golden`
//! to rewrite them.

use std::path::{Path, PathBuf};

const GOLDEN: &[(&str, &str, &str)] = &[
    ("greeter", "greeter", example_interfaces::GREETER_WIT),
    (
        "text-filter",
        "text-filter",
        example_interfaces::TEXT_FILTER_WIT,
    ),
    (
        "type-probe",
        "type-probe",
        example_interfaces::TYPE_PROBE_WIT,
    ),
    ("hog", "hog", example_interfaces::HOG_WIT),
    ("bench", "bench", example_interfaces::BENCH_WIT),
    (
        "file-reader",
        "file-reader",
        example_interfaces::FILE_READER_WIT,
    ),
    ("fetcher", "fetcher", example_interfaces::FETCHER_WIT),
    ("fs-script", "fs-script", example_interfaces::FS_SCRIPT_WIT),
    ("resolver", "resolver", example_interfaces::RESOLVER_WIT),
    ("tallies", "tallies", example_interfaces::TALLIES_WIT),
    ("reviewer", "reviewer", example_interfaces::REVIEWER_WIT),
];

fn golden_path(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wit/example-interfaces")
        .join(dir)
        .join(format!("{dir}.wit"))
}

#[test]
fn generated_wit_matches_the_golden_files() {
    let bless = std::env::var_os("WASM_SANDBOX_BLESS").is_some();
    let mut stale = Vec::new();
    for (dir, _, text) in GOLDEN {
        let path = golden_path(dir);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == *text => {}
            Ok(_) => stale.push(format!("{} is stale", path.display())),
            Err(e) => stale.push(format!("{} cannot be read: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "{}; run `WASM_SANDBOX_BLESS=1 cargo test -p wasm-sandbox-tests --test e2e golden` to rewrite them",
        stale.join("; ")
    );
}

#[test]
fn golden_files_are_valid_wit_with_the_expected_world() {
    for (dir, world, _) in GOLDEN {
        let path = golden_path(dir);
        let mut resolve = wit_parser::Resolve::default();
        let (pkg, _) = resolve
            .push_dir(path.parent().unwrap())
            .unwrap_or_else(|e| panic!("{} does not parse: {e:#}", path.display()));
        let world = resolve
            .select_world(&[pkg], Some(world))
            .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        assert!(!resolve.worlds[world].exports.is_empty());
    }
}

#[test]
fn text_filter_world_imports_the_key_value_host_interface() {
    let dir = golden_path("text-filter");
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve.push_dir(dir.parent().unwrap()).unwrap();
    let world = resolve.select_world(&[pkg], Some("text-filter")).unwrap();
    let imports: Vec<String> = resolve.worlds[world]
        .imports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .collect();
    assert!(
        imports.contains(&"example-interfaces:key-value/key-value@0.1.0".to_string()),
        "{imports:?}"
    );
    let exports: Vec<String> = resolve.worlds[world]
        .exports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .collect();
    assert_eq!(exports, ["example-interfaces:text-filter/plugin@0.1.0"]);
    let plugin = resolve.worlds[world]
        .exports
        .values()
        .find_map(|item| match item {
            wit_parser::WorldItem::Interface { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    let functions: Vec<&str> = resolve.interfaces[plugin]
        .functions
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(functions, ["name", "filter", "stats"]);
}
