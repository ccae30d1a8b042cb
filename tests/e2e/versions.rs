//! Interface versions: one host serves plugins built against either version
//! of the greeter interface, and a reloadable pool moves between them.

use example_interfaces::{AnyGreeter, GreeterPlugin};
use wasm_sandbox::{Error, ImportCheck, ReloadablePool, SandboxPool, SecurityPolicy, WasmSandbox};

async fn sandbox(path: &str) -> WasmSandbox {
    WasmSandbox::builder().source(path).build().await.unwrap()
}

/// What a host does with any greeter: the 0.2.0 way when it can.
async fn greet_both(greeter: &AnyGreeter<&WasmSandbox>) -> Vec<String> {
    let names = vec!["Ada".to_string(), "Grace".to_string()];
    match greeter {
        AnyGreeter::V0_2(next) => next.greet_all(&names).await.unwrap(),
        AnyGreeter::V0_1(first) => {
            let mut out = Vec::new();
            for name in &names {
                out.push(first.greet(name).await.unwrap());
            }
            out
        }
    }
}

#[tokio::test]
async fn one_host_serves_plugins_built_against_either_version_and_says_which() {
    let old = sandbox(example_plugins::GREETER).await;
    let new = sandbox(example_plugins::GREETER_NEXT).await;

    let greeter = AnyGreeter::load(&old).unwrap();
    assert!(matches!(greeter, AnyGreeter::V0_1(_)), "{greeter:?}");
    assert_eq!(greeter.version(), "0.1.0");
    assert_eq!(greeter.world(), "example-interfaces:greeter/greeter@0.1.0");
    assert_eq!(greet_both(&greeter).await, ["Hello, Ada!", "Hello, Grace!"]);

    let greeter = AnyGreeter::load(&new).unwrap();
    assert!(matches!(greeter, AnyGreeter::V0_2(_)), "{greeter:?}");
    assert_eq!(greeter.version(), "0.2.0");
    assert_eq!(greet_both(&greeter).await, ["Hi, Ada!", "Hi, Grace!"]);

    // The versions are told apart by their exports: the 0.1.0 proxy does
    // not take a 0.2.0 plugin.
    let err = GreeterPlugin::load(&new).unwrap_err();
    assert!(matches!(err, Error::InterfaceMismatch { .. }), "{err:?}");
}

#[tokio::test]
async fn a_plugin_of_no_served_version_is_refused_with_what_each_version_missed() {
    let calculator = sandbox(example_plugins::CALCULATOR).await;
    let err = AnyGreeter::load(&calculator).unwrap_err();
    let Error::NoServedVersion {
        interface,
        served,
        problems,
    } = &err
    else {
        panic!("expected NoServedVersion, got {err:?}")
    };
    assert_eq!(interface, "AnyGreeter");
    assert_eq!(
        served,
        &[
            "example-interfaces:greeter/greeter@0.2.0",
            "example-interfaces:greeter/greeter@0.1.0"
        ]
    );
    assert_eq!(problems.len(), 2);
    assert!(problems[0].contains("greet-all"), "{problems:?}");
    let message = err.to_string();
    assert!(
        message.ends_with("rebuild it against one of them"),
        "{message}"
    );
    crate::assert_errors_chapter_quotes(&message);
}

#[tokio::test]
async fn a_reloadable_pool_that_serves_versions_moves_between_them() -> wasm_sandbox::Result<()> {
    // Imports are only warned about at load, so that the reload's own
    // check is what refuses a plugin that asks for more.
    let pool = ReloadablePool::new(
        SandboxPool::builder()
            .source(example_plugins::GREETER)
            .security_policy(SecurityPolicy::strict().import_check(ImportCheck::Warn)),
    )
    .await
    .unwrap();
    // Without versions, 0.2.0 lacks 0.1.0's `greet` and is refused.
    let err = pool
        .reload(example_plugins::GREETER_NEXT)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ReloadRefused { .. }), "{err:?}");
    assert_eq!(pool.served_world(), None);

    // ANCHOR: reload
    let world = pool.serve_versions::<AnyGreeter<SandboxPool>>()?;
    assert_eq!(world, "example-interfaces:greeter/greeter@0.1.0");
    let report = pool.reload(example_plugins::GREETER_NEXT).await?;
    assert_eq!(
        report.world,
        Some("example-interfaces:greeter/greeter@0.2.0")
    );
    // ANCHOR_END: reload
    assert_eq!(pool.served_world(), report.world);
    let greeter = AnyGreeter::load(pool.current()).unwrap();
    assert_eq!(greeter.version(), "0.2.0");

    // And back.
    let report = pool.reload(example_plugins::GREETER).await.unwrap();
    assert_eq!(
        report.world,
        Some("example-interfaces:greeter/greeter@0.1.0")
    );

    // A plugin of no served version is refused; the running one serves on.
    let err = pool.reload(example_plugins::CALCULATOR).await.unwrap_err();
    let Error::ReloadRefused { reason, .. } = &err else {
        panic!("expected ReloadRefused, got {err:?}")
    };
    assert!(
        reason.starts_with("the plugin implements none of the versions of `AnyGreeter`"),
        "{reason}"
    );
    // A served version that asks for more than the running one is still
    // refused: a reload never widens what a plugin can ask for.
    let err = pool
        .reload(example_plugins::GREETER_NOSY)
        .await
        .unwrap_err();
    let Error::ReloadRefused { reason, .. } = &err else {
        panic!("expected ReloadRefused, got {err:?}")
    };
    assert!(reason.contains("never widens"), "{reason}");
    assert_eq!(
        pool.served_world(),
        Some("example-interfaces:greeter/greeter@0.1.0")
    );
    let text: String = pool.call("plugin#greet", ("Ada",)).await.unwrap();
    assert_eq!(text, "Hello, Ada!");
    Ok(())
}

#[tokio::test]
async fn serve_versions_refuses_a_running_plugin_of_no_served_version() {
    let pool = ReloadablePool::new(SandboxPool::builder().source(example_plugins::CALCULATOR))
        .await
        .unwrap();
    let err = pool
        .serve_versions::<AnyGreeter<SandboxPool>>()
        .unwrap_err();
    assert!(matches!(err, Error::NoServedVersion { .. }), "{err:?}");
    assert_eq!(pool.served_world(), None);
}
