//! The compile cache and precompiled artifacts, through the public API:
//! a miss then a hit, a corrupted entry replaced, an artifact from an
//! engine with other settings refused, damaged artifacts named as such.

use std::path::{Path, PathBuf};

use wasm_sandbox::{CacheOutcome, Error, WasmSandbox};

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    found.sort();
    found
}

async fn greeter_cached(dir: &Path) -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .cache_dir(dir)
        .build()
        .await
        .expect("the greeter loads")
}

async fn greet(sandbox: &WasmSandbox) -> String {
    sandbox.call("plugin#greet", ("cache",)).await.unwrap()
}

#[tokio::test]
async fn a_miss_stores_an_entry_and_the_next_load_hits_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = greeter_cached(dir.path()).await;
    assert_eq!(first.cache_outcome(), Some(&CacheOutcome::Miss));
    assert_eq!(entries(dir.path()).len(), 1);

    let second = greeter_cached(dir.path()).await;
    assert_eq!(second.cache_outcome(), Some(&CacheOutcome::Hit));
    assert_eq!(greet(&first).await, greet(&second).await);

    // Other engine settings are another entry, not a hit.
    let fuel = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .cache_dir(dir.path())
        .fuel(1_000_000)
        .build()
        .await
        .unwrap();
    assert_eq!(fuel.cache_outcome(), Some(&CacheOutcome::Miss));
    assert_eq!(entries(dir.path()).len(), 2);

    // With the cache off nothing is looked up.
    let uncached = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .enable_cache(false)
        .build()
        .await
        .unwrap();
    assert_eq!(uncached.cache_outcome(), None);
}

#[tokio::test]
async fn a_corrupted_entry_is_detected_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    drop(greeter_cached(dir.path()).await);
    let entry = entries(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();

    let sandbox = greeter_cached(dir.path()).await;
    match sandbox.cache_outcome() {
        Some(CacheOutcome::Replaced { reason }) => {
            assert!(reason.contains("corrupt"), "{reason}");
        }
        other => panic!("expected a replaced entry, got {other:?}"),
    }
    assert!(greet(&sandbox).await.contains("cache"));
    // The replacement is valid again.
    assert_eq!(
        greeter_cached(dir.path()).await.cache_outcome(),
        Some(&CacheOutcome::Hit)
    );
}

#[tokio::test]
async fn a_truncated_entry_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    drop(greeter_cached(dir.path()).await);
    let entry = entries(dir.path()).pop().unwrap();
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 3]).unwrap();
    let sandbox = greeter_cached(dir.path()).await;
    assert!(
        matches!(sandbox.cache_outcome(), Some(CacheOutcome::Replaced { reason }) if reason.contains("truncated")),
        "{:?}",
        sandbox.cache_outcome()
    );
    assert!(greet(&sandbox).await.contains("cache"));
}

#[tokio::test]
async fn a_cache_directory_others_can_write_to_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let sandbox = greeter_cached(dir.path()).await;
    match sandbox.cache_outcome() {
        Some(CacheOutcome::NotStored { reason }) => {
            assert!(reason.contains("writable"), "{reason}");
        }
        other => panic!("expected the cache to be refused, got {other:?}"),
    }
    assert!(entries(dir.path()).is_empty());
    assert!(greet(&sandbox).await.contains("cache"));
}

#[tokio::test]
async fn a_precompiled_artifact_loads_without_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("greeter.cwasm");
    let bytes = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .precompile()
        .unwrap();
    std::fs::write(&artifact, bytes).unwrap();
    let sandbox = WasmSandbox::builder()
        .precompiled(&artifact)
        .build()
        .await
        .unwrap();
    assert_eq!(sandbox.name(), "greeter");
    assert_eq!(sandbox.cache_outcome(), None);
    assert!(greet(&sandbox).await.contains("cache"));

    // The free function makes the same artifact for a given engine.
    let engine = wasm_sandbox::Engine::shared().unwrap();
    let wasm = std::fs::read(example_plugins::GREETER).unwrap();
    let again = wasm_sandbox::precompile(&engine, &wasm).unwrap();
    std::fs::write(&artifact, again).unwrap();
    let sandbox = WasmSandbox::builder()
        .precompiled(&artifact)
        .build()
        .await
        .unwrap();
    assert!(greet(&sandbox).await.contains("cache"));
}

#[tokio::test]
async fn an_artifact_from_an_engine_with_other_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("greeter-fuel.cwasm");
    let bytes = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .fuel(1_000)
        .precompile()
        .unwrap();
    std::fs::write(&artifact, bytes).unwrap();
    let err = WasmSandbox::builder()
        .precompiled(&artifact)
        .build()
        .await
        .unwrap_err();
    match &err {
        Error::InvalidArtifact { path, reason } => {
            assert_eq!(path, &artifact);
            assert!(reason.contains("different settings"), "{reason}");
        }
        other => panic!("expected InvalidArtifact, got {other:?}"),
    }
    assert!(err.to_string().contains("recompile it"), "{err}");
    // With the same settings it loads.
    let sandbox = WasmSandbox::builder()
        .precompiled(&artifact)
        .fuel(1_000_000)
        .build()
        .await
        .unwrap();
    assert!(greet(&sandbox).await.contains("cache"));
}

#[tokio::test]
async fn damaged_or_foreign_artifacts_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("greeter.cwasm");
    let good = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .precompile()
        .unwrap();
    let load = |bytes: Vec<u8>| {
        std::fs::write(&artifact, bytes).unwrap();
        WasmSandbox::builder().precompiled(&artifact).build()
    };

    let err = load(good[..good.len() - 100].to_vec()).await.unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");

    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let err = load(flipped).await.unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");

    // A plain component is not an artifact: load it with `.source(..)`.
    let err = load(std::fs::read(example_plugins::GREETER).unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not a wasm-sandbox precompiled artifact"),
        "{err}"
    );
    assert!(err.to_string().contains("as a source instead"), "{err}");
}

/// What a case is, what the reason names, and how to put it in place.
type Case<'a> = (&'static str, &'static str, &'a dyn Fn(&Path));

/// Whatever stands where the cache entry should be — a FIFO, a directory,
/// a symlink to `/dev/zero`, a truncated file, a file over the size limit —
/// the next build compiles afresh, replaces it with a healthy entry, and
/// the build after that hits it. A timeout only detects a hang.
#[tokio::test]
async fn anything_in_place_of_an_entry_is_replaced_by_a_healthy_one() {
    let dir = tempfile::tempdir().unwrap();
    drop(greeter_cached(dir.path()).await);
    let entry = entries(dir.path()).pop().unwrap();
    let healthy = std::fs::read(&entry).unwrap();

    let make_fifo = |path: &Path| {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    };
    let cases: [Case<'_>; 5] = [
        ("a FIFO", "a FIFO (named pipe)", &make_fifo),
        ("a directory", "a directory", &|path: &Path| {
            std::fs::create_dir(path).unwrap();
            std::fs::write(path.join("inside"), b"x").unwrap();
        }),
        (
            "a symlink to /dev/zero",
            "a symbolic link",
            &|path: &Path| {
                std::os::unix::fs::symlink("/dev/zero", path).unwrap();
            },
        ),
        ("a truncated file", "truncated", &|path: &Path| {
            std::fs::write(path, &healthy[..40]).unwrap();
        }),
        ("a sparse 4 GiB file", "over the limit", &|path: &Path| {
            std::fs::File::create(path)
                .unwrap()
                .set_len(4 << 30)
                .unwrap();
        }),
    ];
    for (what, reason_says, make) in cases {
        std::fs::remove_file(&entry).unwrap();
        make(&entry);
        let sandbox = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            greeter_cached(dir.path()),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: the build hung"));
        match sandbox.cache_outcome() {
            Some(CacheOutcome::Replaced { reason }) => {
                assert!(reason.contains(reason_says), "{what}: {reason}");
            }
            other => panic!("{what}: expected Replaced, got {other:?}"),
        }
        assert!(greet(&sandbox).await.contains("cache"), "{what}");
        let metadata = std::fs::symlink_metadata(&entry).unwrap();
        assert!(metadata.is_file(), "{what}: the entry is not a file again");
        assert_eq!(
            greeter_cached(dir.path()).await.cache_outcome(),
            Some(&CacheOutcome::Hit),
            "{what}: the replaced entry is not healthy"
        );
    }
}

/// An entry copied under another plugin's name is never loaded as that
/// plugin: its header names the component it was compiled from, the loader
/// compares it, and the entry is rewritten.
#[tokio::test]
async fn an_entry_copied_under_another_plugins_name_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    drop(greeter_cached(dir.path()).await);
    let greeter_entry = entries(dir.path()).pop().unwrap();
    let calculator = || {
        WasmSandbox::builder()
            .source(example_plugins::CALCULATOR)
            .cache_dir(dir.path())
            .build()
    };
    drop(calculator().await.unwrap());
    let calculator_entry = entries(dir.path())
        .into_iter()
        .find(|e| e != &greeter_entry)
        .unwrap();
    std::fs::copy(&greeter_entry, &calculator_entry).unwrap();

    let sandbox = calculator().await.unwrap();
    match sandbox.cache_outcome() {
        Some(CacheOutcome::Replaced { reason }) => {
            assert!(
                reason.contains("compiled from another component"),
                "{reason}"
            );
        }
        other => panic!("expected a replaced entry, got {other:?}"),
    }
    // The calculator's behaviour, not the greeter's.
    let sum: u32 = sandbox.call("math#add", (2u32, 3u32)).await.unwrap();
    assert_eq!(sum, 5);
    assert!(sandbox.export("plugin#greet").is_err());
    // The entry was rewritten, and is a hit from now on.
    assert_ne!(
        std::fs::read(&calculator_entry).unwrap(),
        std::fs::read(&greeter_entry).unwrap()
    );
    assert_eq!(
        calculator().await.unwrap().cache_outcome(),
        Some(&CacheOutcome::Hit)
    );
}
