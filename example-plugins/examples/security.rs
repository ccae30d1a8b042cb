//! Run with: `cargo run --example security`
//!
//! The `intruder` plugin tries privileged operations; a policy grants some
//! of them. Every attempt, allowed or denied, is in the audit trail. Then
//! learn mode writes the least-privilege policy for what the plugin did.

use std::path::PathBuf;

use example_interfaces::{IntruderPlugin, KeyValue, KeyValueHost};
use wasm_sandbox::{Capability, CapabilityKind, SecurityPolicy, WasmSandbox};

struct NoStore;

impl KeyValue for NoStore {
    fn get(&self, _key: String) -> Option<String> {
        None
    }
    fn set(&self, _key: String, _value: String) {}
    fn keys(&self, _prefix: &str) -> Vec<String> {
        Vec::new()
    }
}

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    let dir = std::env::temp_dir().join(format!("wasm-sandbox-security-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("secrets")).expect("a temporary directory");
    std::fs::write(dir.join("report.txt"), "quarterly numbers").expect("a file");
    std::fs::write(dir.join("secrets/key.txt"), "hunter2").expect("a file");

    // ANCHOR: policy
    // Read all of `dir` except `dir/secrets`; the rest comes from a file.
    let policy = SecurityPolicy::from_file(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/intruder.toml"),
    )?
    .allow(Capability::FileRead(dir.clone()))
    .deny(Capability::FileRead(dir.join("secrets")));

    let sandbox = WasmSandbox::builder()
        .source(example_plugins::INTRUDER)
        .security_policy(policy)
        .host_interface(KeyValueHost::new(NoStore))
        .build()
        .await?;
    // ANCHOR_END: policy

    // ANCHOR: audit
    let path = |p: &str| dir.join(p).to_string_lossy().into_owned();
    let attempts: Vec<(&str, String)> = vec![
        ("plugin#read-file", path("report.txt")),
        ("plugin#read-file", path("secrets/key.txt")),
        ("plugin#read-file", "/etc/passwd".to_string()),
    ];
    for (export, file) in attempts {
        let (result, audit) = sandbox
            .call_with_audit::<_, Result<String, String>>(export, (file.as_str(),))
            .await?;
        println!("read {file}: {result:?}");
        for event in &audit.events {
            println!("    audit: {event}");
        }
    }
    // ANCHOR_END: audit

    // ANCHOR: violations
    // The proxy works too; the sandbox's log has every event.
    let intruder = IntruderPlugin::load(&sandbox)?;
    let _ = intruder
        .env_var_audited("AWS_SECRET_ACCESS_KEY".to_string())
        .await?;
    let _ = intruder
        .run("sh".to_string(), vec!["-c".to_string(), "id".to_string()])
        .await?;
    for event in sandbox.audit_log().violations() {
        println!(
            "violation: {} {} {} ({})",
            event.capability, event.operation, event.target, event.rule
        );
    }
    let json = sandbox.audit_log().to_json();
    println!("the log as JSON has {} bytes", json.len());
    // ANCHOR_END: violations

    // ANCHOR: learn
    // Learn mode: run the plugin under the observing policy, then ask for the
    // least privilege that would have allowed what it did.
    let observed = WasmSandbox::builder()
        .source(example_plugins::INTRUDER)
        .security_policy(SecurityPolicy::observe())
        .host_interface(KeyValueHost::new(NoStore))
        .build()
        .await?;
    let learner = IntruderPlugin::load(&observed)?;
    let _ = learner.read_file(path("report.txt")).await?;
    let _ = learner
        .run("echo".to_string(), vec!["hi".to_string()])
        .await?;
    let learned = observed.audit_log().learned_policy();
    println!("learned policy:\n{}", learned.to_toml());

    // What would adopting it add to a strict baseline?
    let diff = SecurityPolicy::strict().diff(&learned);
    println!("diff from strict (widens: {}):\n{diff}", diff.widens());
    // ANCHOR_END: learn

    let kinds: Vec<CapabilityKind> = sandbox
        .audit_log()
        .events()
        .iter()
        .map(|e| e.capability)
        .collect();
    assert!(kinds.contains(&CapabilityKind::FileRead));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
