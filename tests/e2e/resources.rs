//! Plugin objects (resources the plugin exports): typed handles, their
//! release, and the rule that a handle is only ever used on the instance
//! that made its object — after a trap, a reset, a reload or a fresh
//! instance, or handed to another sandbox, it is a typed error, never a
//! call on some other object.

use std::time::Duration;

use example_interfaces::TalliesPlugin;
use wasm_sandbox::{CapabilityKind, Error, Limit, ReloadablePool, SandboxPool, WasmSandbox};

async fn sandbox() -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::TALLY)
        .build()
        .await
        .unwrap()
}

fn expired(err: &Error) -> &str {
    match err {
        Error::ResourceExpired { resource, why } => {
            assert_eq!(resource, "tally");
            why
        }
        other => panic!("expected ResourceExpired, got {other:?}: {other}"),
    }
}

#[tokio::test]
async fn handles_call_the_object_that_the_plugin_made() {
    let sandbox = sandbox().await;
    let tallies = TalliesPlugin::load(&sandbox).unwrap();

    let a = tallies.open().await.unwrap();
    let b = tallies.new_tally(10).await.unwrap();
    assert_eq!(a.add("one two three").await.unwrap(), 3);
    assert_eq!(b.add("four").await.unwrap(), 11);
    assert_eq!(
        a.add("five").await.unwrap(),
        4,
        "each object keeps its own state"
    );
    assert_eq!(a.words().await.unwrap(), ["one", "two", "three", "five"]);
    assert_eq!(b.total().await.unwrap(), 11);
    assert_eq!(
        tallies.sum(&a, &b).await.unwrap(),
        15,
        "two objects lent to one call"
    );
    assert_eq!(
        tallies.tally_unit().await.unwrap(),
        "words",
        "a static function"
    );
    assert_eq!(tallies.live().await.unwrap(), 2);
    assert!(a.is_alive() && a.raw().resource_name() == "tally");
}

#[tokio::test]
async fn close_releases_at_once_and_drop_before_the_next_call() {
    let sandbox = sandbox().await;
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let a = tallies.open().await.unwrap();
    let b = tallies.open().await.unwrap();
    let c = tallies.open().await.unwrap();
    assert_eq!(tallies.live().await.unwrap(), 3);

    a.close().await.unwrap();
    assert_eq!(tallies.live().await.unwrap(), 2, "close ran the destructor");

    drop(b);
    // The release runs first thing in the instance's next call.
    assert_eq!(tallies.live().await.unwrap(), 1, "drop released the object");
    assert_eq!(c.total().await.unwrap(), 0, "the other object is untouched");
}

#[tokio::test]
async fn an_object_given_to_the_plugin_is_the_plugin_s_to_drop() {
    let sandbox = sandbox().await;
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let into = tallies.open().await.unwrap();
    let from = tallies.open().await.unwrap();
    into.add("a b").await.unwrap();
    from.add("c").await.unwrap();
    assert_eq!(tallies.live().await.unwrap(), 2);
    // `from` moves into the call: the plugin owns it and drops it.
    assert_eq!(tallies.absorb(&into, from).await.unwrap(), 3);
    assert_eq!(tallies.live().await.unwrap(), 1);
    assert_eq!(into.words().await.unwrap(), ["a", "b", "c"]);
}

#[tokio::test]
async fn a_trap_expires_every_object_of_the_instance_and_the_next_ones_work() {
    let sandbox = sandbox().await;
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let a = tallies.open().await.unwrap();
    a.add("x").await.unwrap();

    let err = tallies.crash().await.unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");
    let err = a.total().await.unwrap_err();
    let why = expired(&err);
    assert!(why.contains("failed"), "{why}");
    crate::assert_errors_chapter_quotes(&err.to_string());
    // The next call replaces the instance; the old object stays expired
    // and is never confused with an object of the new instance.
    let fresh = tallies.open().await.unwrap();
    assert_eq!(fresh.total().await.unwrap(), 0);
    expired(&a.add("y").await.unwrap_err());
    expired(&tallies.sum(&a, &fresh).await.unwrap_err());
    assert!(!a.is_alive());
    expired(&a.close().await.unwrap_err());
    assert_eq!(tallies.live().await.unwrap(), 1);
}

#[tokio::test]
async fn a_reset_expires_the_objects_it_dropped() {
    let sandbox = sandbox().await;
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let old = tallies.open().await.unwrap();
    old.add("before the reset").await.unwrap();
    sandbox.reset().await.unwrap();
    // The new instance's first object sits at the same place in its table
    // as `old` did in the old one: the handle must not reach it.
    let new = tallies.open().await.unwrap();
    new.add("after").await.unwrap();
    let why = expired(&old.total().await.unwrap_err()).to_string();
    assert!(why.contains("gone"), "{why}");
    assert_eq!(new.words().await.unwrap(), ["after"]);
}

#[tokio::test]
async fn an_object_of_one_sandbox_never_reaches_another_sandbox_s_objects() {
    let first = sandbox().await;
    let second = sandbox().await;
    let one = TalliesPlugin::load(&first).unwrap();
    let two = TalliesPlugin::load(&second).unwrap();
    let mine = one.open().await.unwrap();
    mine.add("mine").await.unwrap();
    let theirs = two.open().await.unwrap();
    theirs.add("theirs and more").await.unwrap();

    // Both objects are entry 1 of their own instance's table. Passing one
    // sandbox's handle to the other sandbox's proxy is refused; it would
    // otherwise name the other sandbox's object.
    let err = two.sum(&mine, &mine).await.unwrap_err();
    let why = expired(&err);
    assert!(why.contains("another sandbox"), "{why}");
    let err = two.sum(&mine, &theirs).await.unwrap_err();
    assert!(
        matches!(err, Error::ResourcesFromDifferentInstances { ref function } if function.ends_with("#sum")),
        "{err:?}"
    );
    crate::assert_errors_chapter_quotes(&err.to_string());
    let err = two.absorb(&theirs, mine).await.unwrap_err();
    assert!(
        matches!(err, Error::ResourcesFromDifferentInstances { .. }),
        "{err:?}"
    );
    assert_eq!(theirs.words().await.unwrap(), ["theirs", "and", "more"]);
    assert_eq!(two.live().await.unwrap(), 1);
    // The handle given to the refused call was dropped with it, so its
    // object is released in its own sandbox.
    assert_eq!(
        one.live().await.unwrap(),
        0,
        "the refused object was released"
    );
}

#[tokio::test]
async fn functions_with_objects_cannot_be_called_by_name() {
    let sandbox = sandbox().await;
    let err = sandbox
        .call::<(), wasm_sandbox::wasmtime::component::ResourceAny>("plugin#open", ())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::PluginObjectsNeedHandles { function } if function.ends_with("#open")),
        "{err:?}"
    );
    crate::assert_errors_chapter_quotes(&err.to_string());
    let err = sandbox
        .call_dynamic("plugin#[method]tally.total", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::PluginObjectsNeedHandles { .. }),
        "{err:?}"
    );
    let (result, _) = sandbox
        .call_with_audit_outcome::<(), u32>("plugin#[static]tally.unit", ())
        .await;
    // A static function without objects is callable by name.
    assert!(
        matches!(result, Err(Error::TypeMismatch { .. })),
        "{result:?}"
    );
    let unit: String = sandbox.call("plugin#[static]tally.unit", ()).await.unwrap();
    assert_eq!(unit, "words");
    let listed = sandbox.export("plugin#open").unwrap();
    assert!(listed.uses_plugin_objects());
    // Nothing ran: the instance is untouched and still serves calls.
    assert_eq!(sandbox.call::<(), u32>("plugin#live", ()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_destructor_that_traps_fails_close_and_poisons_only_that_instance() {
    let sandbox = sandbox().await;
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let bomb = tallies.open().await.unwrap();
    let other = tallies.open().await.unwrap();
    bomb.fail_on_release().await.unwrap();
    let err = bomb.close().await.unwrap_err();
    match &err {
        Error::Trap { function, .. } => assert!(function.contains("destructor"), "{err}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    expired(&other.total().await.unwrap_err());
    let fresh = tallies.open().await.unwrap();
    assert_eq!(fresh.add("still works").await.unwrap(), 2);
}

#[tokio::test]
async fn a_dropped_object_whose_destructor_traps_fails_the_next_call_only() {
    let sandbox = sandbox().await;
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let bomb = tallies.open().await.unwrap();
    bomb.fail_on_release().await.unwrap();
    drop(bomb);
    let err = tallies.live().await.unwrap_err();
    assert!(
        matches!(err, Error::Trap { ref function, .. } if function.contains("destructor")),
        "{err:?}"
    );
    assert_eq!(
        tallies.live().await.unwrap(),
        0,
        "a fresh instance serves the call after"
    );
}

#[tokio::test]
async fn limits_cover_object_methods() {
    let timeout = Duration::from_millis(200);
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TALLY)
        .cpu_timeout(timeout)
        .build()
        .await
        .unwrap();
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let a = tallies.open().await.unwrap();
    let err = a.spin(u64::MAX).await.unwrap_err();
    assert!(
        matches!(&err, Error::ResourceLimitExceeded(Limit::Time { deadline }) if *deadline == timeout),
        "{err:?}"
    );
    let limits: Vec<_> = sandbox
        .audit_log()
        .events()
        .into_iter()
        .filter(|e| e.capability == CapabilityKind::Limit)
        .collect();
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert!(
        limits[0]
            .call
            .as_deref()
            .is_some_and(|c| c.ends_with("#[method]tally.spin")),
        "{limits:?}"
    );
    expired(&a.total().await.unwrap_err());
}

#[tokio::test]
async fn fresh_instances_per_call_keep_no_objects() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TALLY)
        .fresh_instance_per_call(true)
        .build()
        .await
        .unwrap();
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let a = tallies.open().await.unwrap();
    expired(&a.add("x").await.unwrap_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_pool_each_object_is_used_on_its_own_instance_even_when_busy() {
    let pool = SandboxPool::builder()
        .source(example_plugins::TALLY)
        .max_instances(2)
        .preload_instances(1)
        .build()
        .await
        .unwrap();
    let tallies = TalliesPlugin::load(&pool).unwrap();
    let first = tallies.open().await.unwrap();
    first.add("first instance").await.unwrap();

    // Keep the first instance busy, then make an object: it must come from
    // a second instance.
    let spinning = {
        let first = &first;
        async move { first.spin(300_000_000).await }
    };
    let second = async {
        while pool.metrics().in_use == 0 {
            tokio::task::yield_now().await;
        }
        let second = tallies.open().await.unwrap();
        second.add("second").await.unwrap();
        // A call on the first object waits for its busy instance rather
        // than run on this one.
        let total = first.total().await.unwrap();
        (second, total)
    };
    let (spun, (second, first_total)) = tokio::join!(spinning, second);
    spun.unwrap();
    assert_eq!(first_total, 2);
    assert_eq!(pool.metrics().created, 2);
    assert_eq!(second.words().await.unwrap(), ["second"]);
    assert_eq!(first.words().await.unwrap(), ["first", "instance"]);
    let err = tallies.sum(&first, &second).await.unwrap_err();
    assert!(
        matches!(err, Error::ResourcesFromDifferentInstances { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_reload_expires_the_old_version_s_objects() {
    let pool = ReloadablePool::new(SandboxPool::builder().source(example_plugins::TALLY))
        .await
        .unwrap();
    let tallies = TalliesPlugin::load(&pool).unwrap();
    let old = tallies.open().await.unwrap();
    old.add("old").await.unwrap();
    pool.reload(example_plugins::TALLY).await.unwrap();
    let why = expired(&old.total().await.unwrap_err()).to_string();
    assert!(why.contains("reloaded"), "{why}");
    let new = tallies.open().await.unwrap();
    assert_eq!(new.add("new version").await.unwrap(), 2);
}

#[tokio::test]
async fn objects_work_on_the_synchronous_path() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TALLY)
        .synchronous_calls(true)
        .build()
        .await
        .unwrap();
    assert!(sandbox.is_synchronous());
    let tallies = TalliesPlugin::load(&sandbox).unwrap();
    let a = tallies.open().await.unwrap();
    let b = tallies.open().await.unwrap();
    assert_eq!(a.add("a b").await.unwrap(), 2);
    drop(b);
    assert_eq!(tallies.live().await.unwrap(), 1);
    a.close().await.unwrap();
    assert_eq!(tallies.live().await.unwrap(), 0);
}

#[tokio::test]
async fn a_trait_bound_to_published_wit_with_a_resource_drives_the_same_plugin() {
    use example_interfaces::published::PublishedTalliesPlugin;
    let sandbox = sandbox().await;
    let tallies = PublishedTalliesPlugin::load(&sandbox).unwrap();
    let a = tallies.new_tally(1).await.unwrap();
    let b = tallies.open().await.unwrap();
    assert_eq!(a.add("x y").await.unwrap(), 3);
    assert_eq!(b.add("z").await.unwrap(), 1);
    assert_eq!(tallies.absorb(&a, b).await.unwrap(), 4);
    assert_eq!(a.words().await.unwrap(), ["x", "y", "z"]);
    assert_eq!(tallies.tally_unit().await.unwrap(), "words");
    assert_eq!(tallies.live().await.unwrap(), 1);
    // The two proxies describe the same world: an object of one is an
    // object of the same instance for the other.
    let derived = TalliesPlugin::load(&sandbox).unwrap();
    let c = derived.open().await.unwrap();
    assert_eq!(derived.live().await.unwrap(), 2);
    c.close().await.unwrap();
    assert_eq!(tallies.live().await.unwrap(), 1);
}
