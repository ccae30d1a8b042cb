//! The guide's walkthrough (`book/src/walkthrough.md`): the component model
//! book's first component, world `adder` of `docs:adder@0.1.0`, built from
//! its published WIT with plain `wit-bindgen` (`example-plugins/guests/adder`)
//! and run through the `#[sandbox_plugin(wit = ..)]` proxy and by name, so
//! the path a newcomer takes first cannot break unnoticed. The CLI half is
//! in `cli/tests/cli/walkthrough.rs`.

use example_interfaces::{AdderPlugin, CalculatorPlugin};
use wasm_sandbox::{Error, SecurityPolicy, WasmSandbox};

// ANCHOR: load
/// The adder under the strictest preset: it needs nothing.
async fn adder() -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::ADDER)
        .security_policy(SecurityPolicy::strict())
        .audit_enabled(true)
        .build()
        .await
        .expect("the adder plugin loads")
}
// ANCHOR_END: load

#[tokio::test]
async fn the_proxy_adds() -> wasm_sandbox::Result<()> {
    let sandbox = adder().await;
    // ANCHOR: proxy
    let adder = AdderPlugin::load(&sandbox)?;
    assert_eq!(adder.add(2, 3).await?, 5);
    // ANCHOR_END: proxy
    assert_eq!(adder.add(0, 0).await?, 0);
    assert_eq!(adder.add(u32::MAX, 0).await?, u32::MAX);
    assert_eq!(adder.add(0, u32::MAX).await?, u32::MAX);
    Ok(())
}

#[tokio::test]
async fn a_sum_past_u32_max_wraps_around() -> wasm_sandbox::Result<()> {
    let sandbox = adder().await;
    let adder = AdderPlugin::load(&sandbox)?;
    // The guest adds with `wrapping_add`: no trap, no error, modulo 2^32.
    assert_eq!(adder.add(u32::MAX, 1).await?, 0);
    assert_eq!(adder.add(u32::MAX, u32::MAX).await?, u32::MAX - 1);
    // The instance is the first one still: nothing trapped.
    assert_eq!(sandbox.instances_created(), 1);
    Ok(())
}

#[tokio::test]
async fn every_name_of_the_export_calls_it() -> wasm_sandbox::Result<()> {
    let sandbox = adder().await;
    // ANCHOR: by_name
    let sum: u32 = sandbox.call("add#add", (2u32, 3u32)).await?;
    assert_eq!(sum, 5);
    // ANCHOR_END: by_name
    for name in ["docs:adder/add#add", "docs:adder/add@0.1.0#add"] {
        let sum: u32 = sandbox.call(name, (40u32, 2u32)).await?;
        assert_eq!(sum, 42, "{name}");
    }
    Ok(())
}

#[tokio::test]
async fn the_bare_function_name_works_while_no_other_export_has_it() -> wasm_sandbox::Result<()> {
    // `add` is a function of the exported interface `add`, not of the
    // world; the plain name still calls it, since nothing else is called
    // `add`.
    let sandbox = adder().await;
    // ANCHOR: bare_name
    let sum: u32 = sandbox.call("add", (2u32, 3u32)).await?;
    assert_eq!(sum, 5);
    // ANCHOR_END: bare_name
    // A misspelt name says which names exist.
    let err = sandbox
        .call::<_, u32>("ad", (2u32, 3u32))
        .await
        .unwrap_err();
    let Error::ExportNotFound {
        name, suggestions, ..
    } = &err
    else {
        panic!("expected ExportNotFound, got {err:?}")
    };
    assert_eq!(name, "ad");
    assert_eq!(suggestions.first().map(String::as_str), Some("add#add"));
    // Nothing failed that ran, so nothing was replaced.
    assert_eq!(sandbox.instances_created(), 1);
    Ok(())
}

#[tokio::test]
async fn the_exports_are_the_published_world() {
    let sandbox = adder().await;
    // ANCHOR: exports
    let exports = sandbox.list_exports();
    // One function: `add` of the interface `docs:adder/add@0.1.0`.
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].name(), "docs:adder/add@0.1.0#add");
    assert_eq!(exports[0].interface(), Some("docs:adder/add@0.1.0"));
    assert_eq!(exports[0].to_string(), "add: func(x: u32, y: u32) -> u32");
    // ANCHOR_END: exports
    assert_eq!(exports[0].short_name(), "add#add");
    // The WIT the proxy was checked against is the published world.
    assert!(
        example_interfaces::ADDER_WIT.starts_with("package docs:adder@0.1.0;"),
        "{}",
        example_interfaces::ADDER_WIT
    );
}

#[tokio::test]
async fn pure_arithmetic_needs_no_capability_and_leaves_no_audit_events() {
    let sandbox = adder().await;
    let (sum, audit) = sandbox
        .call_with_audit::<_, u32>("add#add", (7u32, 8u32))
        .await
        .unwrap();
    assert_eq!(sum, 15);
    assert!(audit.events.is_empty(), "{:?}", audit.events);
    assert!(audit.violations.is_empty(), "{:?}", audit.violations);
}

#[tokio::test]
async fn wrong_types_are_refused_before_anything_runs() {
    let sandbox = adder().await;
    // Signed integers where the WIT has `u32`.
    let err = sandbox
        .call::<_, u32>("add#add", (2i32, 3i32))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("the plugin exports `func(x: u32, y: u32) -> u32`"),
        "{err}"
    );
    // One argument where the WIT has two.
    let err = sandbox
        .call::<_, u32>("add#add", (2u32,))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");
    // Nothing ran, so nothing was replaced.
    assert_eq!(sandbox.instances_created(), 1);
}

#[tokio::test]
async fn the_proxies_tell_the_adder_and_the_calculator_apart() {
    // The calculator exports an `add: func(a: u32, b: u32) -> u32` too, in
    // another package: not the published world.
    let calculator = crate::calculator().await;
    let err = AdderPlugin::load(&calculator).unwrap_err();
    let Error::InterfaceMismatch {
        interface, world, ..
    } = &err
    else {
        panic!("expected InterfaceMismatch, got {err:?}")
    };
    assert_eq!(interface, "Adder");
    assert_eq!(world, "docs:adder/adder@0.1.0");
    let sandbox = adder().await;
    let err = CalculatorPlugin::load(&sandbox).unwrap_err();
    assert!(matches!(err, Error::InterfaceMismatch { .. }), "{err:?}");
}
