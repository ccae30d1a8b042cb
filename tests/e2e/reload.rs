//! Hot reload with `ReloadablePool`: swapping versions, refusing
//! incompatible or wider ones, calls in flight, and watching a file.

use std::path::Path;
use std::time::Duration;

use example_interfaces::{GreeterPlugin, HogPlugin};
use wasm_sandbox::{Error, ReloadablePool, SandboxPool};

async fn greeter_pool(path: &Path) -> ReloadablePool {
    ReloadablePool::new(SandboxPool::builder().source(path).max_instances(4))
        .await
        .expect("the greeter loads")
}

#[tokio::test]
async fn a_reload_swaps_the_version_for_new_calls_and_proxies() {
    let pool = greeter_pool(Path::new(example_plugins::GREETER)).await;
    let greeter = GreeterPlugin::load(pool.clone()).unwrap();
    assert_eq!(greeter.greet("Ada").await.unwrap(), "Hello, Ada!");
    assert_eq!(pool.version(), 1);

    let report = pool.reload(example_plugins::GREETER_V2).await.unwrap();
    assert_eq!(report.version, 2);
    assert!(report.added_exports.is_empty(), "{report:?}");
    assert_eq!(pool.version(), 2);
    // The proxy loaded before the reload calls the new version.
    assert_eq!(greeter.greet("Ada").await.unwrap(), "Howdy, Ada!");
    let text: String = pool.call("plugin#greet", ("Bo",)).await.unwrap();
    assert_eq!(text, "Howdy, Bo!");
    // The plugin keeps its name across versions.
    assert_eq!(pool.current().name(), "greeter");
}

#[tokio::test]
async fn an_incompatible_version_is_refused_and_the_old_one_keeps_serving() {
    let pool = greeter_pool(Path::new(example_plugins::GREETER)).await;
    let err = pool.reload(example_plugins::CALCULATOR).await.unwrap_err();
    match &err {
        Error::ReloadRefused { plugin, reason } => {
            assert_eq!(plugin, "greeter");
            assert!(
                reason.starts_with(
                    "it does not export `greet: func(name: string) -> string` from `example-interfaces:greeter/plugin@0.1.0`"
                ),
                "{reason}"
            );
        }
        other => panic!("expected ReloadRefused, got {other:?}"),
    }
    assert!(
        err.to_string()
            .ends_with("; the running version keeps serving"),
        "{err}"
    );
    assert_eq!(pool.version(), 1);
    let text: String = pool.call("plugin#greet", ("Cy",)).await.unwrap();
    assert_eq!(text, "Hello, Cy!");
}

#[tokio::test]
async fn a_version_that_needs_more_capabilities_is_refused() {
    let pool = greeter_pool(Path::new(example_plugins::GREETER)).await;
    // Under `strict()` it would not even load (it imports wasi:filesystem
    // with no file grant); under a warn-only import check it loads, and the
    // reload check still refuses it.
    let warn = ReloadablePool::new(
        SandboxPool::builder()
            .source(example_plugins::GREETER)
            .security_policy(
                wasm_sandbox::SecurityPolicy::strict()
                    .import_check(wasm_sandbox::ImportCheck::Warn),
            ),
    )
    .await
    .unwrap();
    for pool in [&pool, &warn] {
        let err = pool
            .reload(example_plugins::GREETER_NOSY)
            .await
            .unwrap_err();
        assert_eq!(pool.version(), 1);
        let text: String = pool.call("plugin#greet", ("Di",)).await.unwrap();
        assert_eq!(text, "Hello, Di!");
        if std::ptr::eq(pool, &warn) {
            match &err {
                Error::ReloadRefused { reason, .. } => {
                    assert!(reason.contains("wasi:filesystem/"), "{reason}");
                    assert!(
                        reason.contains("a reload never widens what a plugin can ask for"),
                        "{reason}"
                    );
                }
                other => panic!("expected ReloadRefused, got {other:?}"),
            }
        } else {
            assert!(matches!(err, Error::UnsatisfiableImport { .. }), "{err:?}");
        }
    }
}

#[tokio::test]
async fn a_broken_file_is_refused_and_the_old_version_keeps_serving() {
    let pool = greeter_pool(Path::new(example_plugins::GREETER)).await;
    let err = pool.reload_bytes(b"not wasm".to_vec()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidBinary { .. }), "{err:?}");
    let text: String = pool.call("plugin#greet", ("Ed",)).await.unwrap();
    assert_eq!(text, "Hello, Ed!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_finish_on_the_version_they_started_on() {
    let pool = ReloadablePool::new(SandboxPool::builder().source(example_plugins::HOG))
        .await
        .unwrap();
    let before = pool.current();
    let hog = HogPlugin::load(pool.clone()).unwrap();
    let slow = tokio::spawn(async move { hog.sleep(400).await });
    // Wait until the slow call holds an instance of version 1.
    while before.metrics().in_use == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pool.reload(example_plugins::HOG).await.unwrap();
    assert_eq!(pool.version(), 2);
    // A new call runs on version 2 while the old call is still running.
    let hog = HogPlugin::load(pool.clone()).unwrap();
    assert_eq!(hog.add_one(1).await.unwrap(), 2);
    assert_eq!(pool.current().metrics().checkouts, 1);
    assert_eq!(before.metrics().in_use, 1, "the old call is still running");
    // The old call finishes, on version 1.
    assert_eq!(slow.await.unwrap().unwrap(), 400);
    assert_eq!(before.metrics().checkouts, 1);
    assert_eq!(before.metrics().in_use, 0);
}

#[tokio::test]
async fn watching_a_file_reloads_each_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greeter.wasm");
    std::fs::copy(example_plugins::GREETER, &path).unwrap();
    let pool = greeter_pool(&path).await;
    let mut watcher = pool.watch(&path).unwrap();

    // A new build lands as a new file renamed over the old one.
    let staged = dir.path().join("greeter.wasm.new");
    std::fs::copy(example_plugins::GREETER_V2, &staged).unwrap();
    std::fs::rename(&staged, &path).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(30), watcher.next_reload())
        .await
        .expect("the change is noticed")
        .expect("the watcher runs")
        .expect("version 2 is compatible");
    assert_eq!(report.version, 2);
    let text: String = pool.call("plugin#greet", ("Flo",)).await.unwrap();
    assert_eq!(text, "Howdy, Flo!");

    // An incompatible build written in place is refused; version 2 serves.
    std::fs::copy(example_plugins::CALCULATOR, &path).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(30), watcher.next_reload())
        .await
        .expect("the change is noticed")
        .expect("the watcher runs");
    assert!(
        matches!(outcome, Err(Error::ReloadRefused { .. })),
        "{outcome:?}"
    );
    assert_eq!(pool.version(), 2);
    let text: String = pool.call("plugin#greet", ("Gus",)).await.unwrap();
    assert_eq!(text, "Howdy, Gus!");
}

#[test]
fn watching_needs_a_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = rt.block_on(greeter_pool(Path::new(example_plugins::GREETER)));
    let err = pool.watch(example_plugins::GREETER).unwrap_err();
    assert!(err.to_string().contains("needs a tokio runtime"), "{err}");
}
