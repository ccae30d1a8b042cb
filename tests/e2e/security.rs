//! The hostile-plugin suite: every privileged operation the `intruder`
//! plugin attempts is denied unless granted, returns a normal error to the
//! guest, and leaves an audit event with the right target; and every granted
//! operation works and is audited as allowed.

use std::path::{Path, PathBuf};

use example_interfaces::{KeyValue, KeyValueHost, RunOutput};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wasm_sandbox::component::{ComponentType, Lift, Lower};
use wasm_sandbox::{
    AuditEvent, CallAudit, Capability, CapabilityKind, Decision, Error, ImportCheck, PortRange,
    SecurityPolicy, WasmSandbox,
};

/// Files for one test: a granted directory with a denied subtree and a
/// symlink pointing out, a writable directory, and a directory outside
/// every grant.
struct Tree {
    _tmp: tempfile::TempDir,
    granted: PathBuf,
    writable: PathBuf,
    outside: PathBuf,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let granted = root.join("granted");
    let writable = root.join("writable");
    let outside = root.join("outside");
    for d in [&granted, &writable, &outside, &granted.join("secrets")] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(granted.join("data.txt"), "public data").unwrap();
    std::fs::write(granted.join("secrets/key.txt"), "top secret").unwrap();
    std::fs::write(outside.join("outside.txt"), "not yours").unwrap();
    std::fs::write(writable.join("draft.txt"), "draft").unwrap();
    std::os::unix::fs::symlink(outside.join("outside.txt"), granted.join("link")).unwrap();
    Tree {
        _tmp: tmp,
        granted,
        writable,
        outside,
    }
}

/// A line-echo server on 127.0.0.1, started by the test.
async fn echo_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                if let Ok(Some(line)) = lines.next_line().await {
                    let _ = w.write_all(format!("echo: {line}\n").as_bytes()).await;
                }
            });
        }
    });
    port
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[derive(Default)]
struct Store;

impl KeyValue for Store {
    fn get(&self, key: String) -> Option<String> {
        Some(format!("value of {key}"))
    }
    fn set(&self, _key: String, _value: String) {}
    fn keys(&self, _prefix: &str) -> Vec<String> {
        Vec::new()
    }
}

/// The policy of most tests: read `granted` except `secrets`, write
/// `writable`, reach `localhost:<port>`, one explicit variable, `echo`.
fn policy(t: &Tree, port: u16) -> SecurityPolicy {
    SecurityPolicy::strict()
        .import_check(ImportCheck::Warn)
        .allow(Capability::FileRead(t.granted.clone()))
        .deny(Capability::FileRead(t.granted.join("secrets")))
        .allow(Capability::FileWrite(t.writable.clone()))
        .allow(Capability::NetworkAccess {
            allowed_hosts: vec!["localhost".to_string()],
            allowed_ports: vec![PortRange::single(port)],
            allowed_schemes: Vec::new(),
        })
        .allow(Capability::EnvironmentRead(vec![
            "GREETING=hello".to_string(),
        ]))
        .allow(Capability::ProcessSpawn(vec!["echo".to_string()]))
}

async fn intruder(policy: SecurityPolicy) -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::INTRUDER)
        .security_policy(policy)
        .host_interface(KeyValueHost::new(Store))
        .build()
        .await
        .expect("the intruder plugin loads")
}

/// Calls `name` and returns the guest's answer with the call's audit.
async fn attempt<P, R>(sandbox: &WasmSandbox, name: &str, params: P) -> (R, CallAudit)
where
    P: wasm_sandbox::wasmtime::component::ComponentNamedList + Lower + Send + Sync,
    R: ComponentType + Lift + Send + Sync + 'static,
{
    sandbox
        .call_with_audit::<P, R>(name, params)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The event of `kind` and `operation` in `audit`. (The C library may repeat
/// an operation, a `stat` for instance; repeats must agree.)
fn event(audit: &CallAudit, kind: CapabilityKind, operation: &str) -> AuditEvent {
    let matching: Vec<&AuditEvent> = audit
        .events
        .iter()
        .filter(|e| e.capability == kind && e.operation == operation)
        .collect();
    assert!(
        !matching.is_empty(),
        "expected a {kind} {operation} event in {:#?}",
        audit.events
    );
    for e in &matching {
        assert_eq!(
            (&e.target, e.decision),
            (&matching[0].target, matching[0].decision),
            "{:#?}",
            audit.events
        );
    }
    matching[0].clone()
}

fn denied(audit: &CallAudit, kind: CapabilityKind, operation: &str, target: &str) -> AuditEvent {
    let e = event(audit, kind, operation);
    assert_eq!(e.decision, Decision::Denied, "{e:?}");
    assert_eq!(e.target, target, "{e:?}");
    assert!(audit.violations.contains(&e));
    e
}

fn allowed(audit: &CallAudit, kind: CapabilityKind, operation: &str, target: &str) -> AuditEvent {
    let e = event(audit, kind, operation);
    assert_eq!(e.decision, Decision::Allowed, "{e:?}");
    assert_eq!(e.target, target, "{e:?}");
    e
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

mod files {
    use super::*;

    #[tokio::test]
    async fn reading_etc_passwd_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", ("/etc/passwd",)).await;
        let msg = r.unwrap_err();
        assert!(msg.contains("ermission denied"), "{msg}");
        let e = denied(&audit, CapabilityKind::FileRead, "open", "/etc/passwd");
        assert_eq!(e.rule, "outside every granted path");
        assert_eq!(
            e.call.as_deref(),
            Some("example-interfaces:intruder/plugin@0.1.0#read-file")
        );
        assert_eq!(e.plugin, "intruder");
    }

    #[tokio::test]
    async fn dot_dot_out_of_a_granted_directory_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let path = format!("{}/../outside/outside.txt", s(&t.granted));
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", (path,)).await;
        assert!(r.is_err());
        let e = denied(
            &audit,
            CapabilityKind::FileRead,
            "open",
            &s(&t.outside.join("outside.txt")),
        );
        assert!(e.rule.contains("leaves the directory"), "{e:?}");
    }

    #[tokio::test]
    async fn an_absolute_path_outside_the_grants_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let target = s(&t.outside.join("outside.txt"));
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", (target.clone(),)).await;
        assert!(r.is_err());
        denied(&audit, CapabilityKind::FileRead, "open", &target);
    }

    #[tokio::test]
    async fn a_symlink_pointing_out_of_a_grant_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let link = s(&t.granted.join("link"));
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", (link.clone(),)).await;
        assert!(r.is_err(), "{r:?}");
        // The event names the object the link leads to, and the link.
        let e = denied(
            &audit,
            CapabilityKind::FileRead,
            "open",
            &s(&t.outside.join("outside.txt")),
        );
        assert!(e.rule.contains("symlink"), "{e:?}");
        assert!(e.rule.contains(&link), "{e:?}");
    }

    #[tokio::test]
    async fn a_denied_subtree_inside_a_grant_is_denied_and_hidden_from_listings() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let key = s(&t.granted.join("secrets/key.txt"));
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", (key.clone(),)).await;
        assert!(r.is_err());
        let e = denied(&audit, CapabilityKind::FileRead, "open", &key);
        assert!(e.rule.starts_with("deny FileRead("), "{e:?}");

        let (names, audit): (Result<Vec<String>, String>, _) =
            attempt(&sandbox, "plugin#list-dir", (s(&t.granted),)).await;
        assert_eq!(
            names.unwrap(),
            ["data.txt", "link"],
            "`secrets` is not listed"
        );
        allowed(&audit, CapabilityKind::FileRead, "list", &s(&t.granted));
    }

    #[tokio::test]
    async fn writing_into_a_read_only_grant_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let path = s(&t.granted.join("new.txt"));
        let (r, audit): (Result<(), String>, _) =
            attempt(&sandbox, "plugin#write-file", (path.clone(), "x")).await;
        assert!(r.is_err());
        let e = denied(&audit, CapabilityKind::FileWrite, "create", &path);
        assert!(e.rule.contains("read-only"), "{e:?}");
        assert!(!t.granted.join("new.txt").exists());
    }

    #[tokio::test]
    async fn deleting_or_renaming_a_read_only_file_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let data = s(&t.granted.join("data.txt"));
        let (r, audit): (Result<(), String>, _) =
            attempt(&sandbox, "plugin#remove-file", (data.clone(),)).await;
        assert!(r.is_err());
        denied(&audit, CapabilityKind::FileWrite, "remove", &data);

        let renamed = s(&t.granted.join("renamed.txt"));
        let (r, audit): (Result<(), String>, _) = attempt(
            &sandbox,
            "plugin#rename-file",
            (data.clone(), renamed.clone()),
        )
        .await;
        assert!(r.is_err());
        denied(
            &audit,
            CapabilityKind::FileWrite,
            "rename",
            &format!("{data} -> {renamed}"),
        );
        assert_eq!(std::fs::read_to_string(&data).unwrap(), "public data");
    }

    #[tokio::test]
    async fn listing_the_root_directory_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let (r, audit): (Result<Vec<String>, String>, _) =
            attempt(&sandbox, "plugin#list-dir", ("/",)).await;
        assert!(r.is_err(), "{r:?}");
        // Listing starts by opening the directory, which is refused.
        denied(&audit, CapabilityKind::FileRead, "open", "/");
        assert!(audit.events.iter().all(|e| e.operation != "list"));
    }

    #[tokio::test]
    async fn granted_file_operations_work_and_are_audited() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let data = s(&t.granted.join("data.txt"));
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", (data.clone(),)).await;
        assert_eq!(r.unwrap(), "public data");
        let e = allowed(&audit, CapabilityKind::FileRead, "open", &data);
        assert_eq!(e.rule, format!("allow FileRead({})", s(&t.granted)));

        let (size, audit): (Result<u64, String>, _) =
            attempt(&sandbox, "plugin#file-size", (data.clone(),)).await;
        assert_eq!(size.unwrap(), 11);
        allowed(&audit, CapabilityKind::FileRead, "stat", &data);

        // Write, rename and remove inside the FileWrite grant.
        let new = s(&t.writable.join("new.txt"));
        let (r, audit): (Result<(), String>, _) = attempt(
            &sandbox,
            "plugin#write-file",
            (new.clone(), "written by the plugin"),
        )
        .await;
        r.unwrap();
        allowed(&audit, CapabilityKind::FileWrite, "create", &new);
        assert_eq!(
            std::fs::read_to_string(t.writable.join("new.txt")).unwrap(),
            "written by the plugin"
        );
        let moved = s(&t.writable.join("moved.txt"));
        let (r, audit): (Result<(), String>, _) =
            attempt(&sandbox, "plugin#rename-file", (new.clone(), moved.clone())).await;
        r.unwrap();
        allowed(
            &audit,
            CapabilityKind::FileWrite,
            "rename",
            &format!("{new} -> {moved}"),
        );
        let (r, audit): (Result<(), String>, _) =
            attempt(&sandbox, "plugin#remove-file", (moved.clone(),)).await;
        r.unwrap();
        allowed(&audit, CapabilityKind::FileWrite, "remove", &moved);
        assert!(!t.writable.join("moved.txt").exists());
    }

    #[tokio::test]
    async fn a_single_file_grant_exposes_only_that_file() {
        let t = tree();
        let data = t.granted.join("data.txt");
        let policy = SecurityPolicy::strict()
            .import_check(ImportCheck::Warn)
            .allow(Capability::FileRead(data.clone()));
        let sandbox = intruder(policy).await;
        let (r, _): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", (s(&data),)).await;
        assert_eq!(r.unwrap(), "public data");
        // Its neighbours stay out of reach.
        let (r, audit): (Result<Vec<String>, String>, _) =
            attempt(&sandbox, "plugin#list-dir", (s(&t.granted),)).await;
        assert!(r.is_err());
        denied(&audit, CapabilityKind::FileRead, "open", &s(&t.granted));
    }
}

mod environment {
    use super::*;

    #[tokio::test]
    async fn a_variable_that_is_not_granted_is_invisible_and_audited() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        // PATH is set on the host but not granted.
        assert!(std::env::var("PATH").is_ok());
        let (v, audit): (Option<String>, _) =
            attempt(&sandbox, "plugin#env-var-audited", ("PATH",)).await;
        assert_eq!(v, None);
        let e = denied(&audit, CapabilityKind::Environment, "env-read", "PATH");
        assert_eq!(e.rule, "no EnvironmentRead grant names this variable");

        // Through WASI the variable is simply not there.
        let (v, audit): (Option<String>, _) = attempt(&sandbox, "plugin#env-var", ("PATH",)).await;
        assert_eq!(v, None);
        allowed(&audit, CapabilityKind::Environment, "env-list", "GREETING");
    }

    #[tokio::test]
    async fn enumerating_the_environment_shows_only_grants() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let (all, audit): (Vec<String>, _) = attempt(&sandbox, "plugin#env-all", ()).await;
        assert_eq!(all, ["GREETING=hello"]);
        allowed(&audit, CapabilityKind::Environment, "env-list", "GREETING");

        let (v, audit): (Option<String>, _) =
            attempt(&sandbox, "plugin#env-var-audited", ("GREETING",)).await;
        assert_eq!(v.as_deref(), Some("hello"));
        allowed(&audit, CapabilityKind::Environment, "env-read", "GREETING");
    }
}

mod network {
    use super::*;

    #[tokio::test]
    async fn looking_up_a_name_that_is_not_granted_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let (r, audit): (Result<Vec<String>, String>, _) =
            attempt(&sandbox, "plugin#resolve", ("example.com",)).await;
        assert!(r.is_err(), "{r:?}");
        denied(&audit, CapabilityKind::Network, "dns-lookup", "example.com");
    }

    #[tokio::test]
    async fn a_granted_name_on_a_port_that_is_not_granted_is_denied() {
        let t = tree();
        let port = echo_server().await;
        let other = closed_port();
        let sandbox = intruder(policy(&t, port)).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#connect", ("localhost", other, "hi")).await;
        assert!(r.is_err(), "{r:?}");
        allowed(&audit, CapabilityKind::Network, "dns-lookup", "localhost");
        let e = denied(
            &audit,
            CapabilityKind::Network,
            "connect",
            &format!("localhost:{other}"),
        );
        assert!(e.rule.contains(&format!("not port {other}")), "{e:?}");
    }

    #[tokio::test]
    async fn connecting_straight_to_an_ip_that_is_not_granted_is_denied() {
        let t = tree();
        let port = echo_server().await;
        let sandbox = intruder(policy(&t, port)).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#connect", ("127.0.0.1", port, "hi")).await;
        assert!(r.is_err(), "{r:?}");
        denied(
            &audit,
            CapabilityKind::Network,
            "connect",
            &format!("127.0.0.1:{port}"),
        );
    }

    #[tokio::test]
    async fn binding_a_listening_socket_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#listen", ("127.0.0.1:0",)).await;
        assert!(r.is_err(), "{r:?}");
        denied(&audit, CapabilityKind::Network, "bind", "127.0.0.1:0");

        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#listen", ("0.0.0.0:0",)).await;
        assert!(r.is_err(), "{r:?}");
        let e = event(&audit, CapabilityKind::Network, "listen");
        assert_eq!(e.decision, Decision::Denied);
    }

    #[tokio::test]
    async fn a_granted_connection_works_and_is_audited() {
        let t = tree();
        let port = echo_server().await;
        let sandbox = intruder(policy(&t, port)).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#connect", ("localhost", port, "ping")).await;
        assert_eq!(r.unwrap(), "echo: ping");
        allowed(&audit, CapabilityKind::Network, "dns-lookup", "localhost");
        let e = allowed(
            &audit,
            CapabilityKind::Network,
            "connect",
            &format!("localhost:{port}"),
        );
        assert!(e.rule.starts_with("allow NetworkAccess(localhost"), "{e:?}");
        assert!(e.rule.contains("127.0.0.1"), "{e:?}");
    }

    #[tokio::test]
    async fn udp_datagrams_follow_the_same_grants() {
        let t = tree();
        let receiver = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = receiver.local_addr().unwrap().port();
        let policy = policy(&t, 1).allow(Capability::NetworkAccess {
            allowed_hosts: vec!["127.0.0.1".to_string()],
            allowed_ports: vec![PortRange::single(port)],
            allowed_schemes: Vec::new(),
        });
        let sandbox = intruder(policy).await;
        let (r, audit): (Result<(), String>, _) = attempt(
            &sandbox,
            "plugin#send-datagram",
            ("127.0.0.1", port, "hello udp"),
        )
        .await;
        r.unwrap();
        allowed(
            &audit,
            CapabilityKind::Network,
            "send",
            &format!("127.0.0.1:{port}"),
        );
        let mut buf = [0u8; 64];
        let (n, _) = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            receiver.recv_from(&mut buf),
        )
        .await
        .expect("the datagram arrives")
        .unwrap();
        assert_eq!(&buf[..n], b"hello udp");

        // Another port on the same host is not granted.
        let other = closed_port();
        let (r, audit): (Result<(), String>, _) = attempt(
            &sandbox,
            "plugin#send-datagram",
            ("127.0.0.1", other, "nope"),
        )
        .await;
        assert!(r.is_err(), "{r:?}");
        denied(
            &audit,
            CapabilityKind::Network,
            "send",
            &format!("127.0.0.1:{other}"),
        );
    }

    #[tokio::test]
    async fn with_no_network_grant_nothing_is_reachable() {
        let t = tree();
        let port = echo_server().await;
        let policy = SecurityPolicy::strict()
            .import_check(ImportCheck::Warn)
            .allow(Capability::FileRead(t.granted.clone()));
        let sandbox = intruder(policy).await;
        let (r, audit): (Result<Vec<String>, String>, _) =
            attempt(&sandbox, "plugin#resolve", ("localhost",)).await;
        assert!(r.is_err());
        denied(&audit, CapabilityKind::Network, "dns-lookup", "localhost");
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#connect", ("127.0.0.1", port, "hi")).await;
        assert!(r.is_err());
        denied(
            &audit,
            CapabilityKind::Network,
            "connect",
            &format!("127.0.0.1:{port}"),
        );
    }
}

mod processes {
    use super::*;

    #[tokio::test]
    async fn a_program_that_is_not_allowlisted_is_denied() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let args = vec!["-c".to_string(), "id".to_string()];
        let (r, audit): (Result<RunOutput, String>, _) =
            attempt(&sandbox, "plugin#run", ("sh", args)).await;
        assert!(r.unwrap_err().starts_with("denied"));
        denied(&audit, CapabilityKind::Process, "spawn", "sh -c id");

        // A path to an allowlisted program's binary is a different program.
        let (r, audit): (Result<RunOutput, String>, _) =
            attempt(&sandbox, "plugin#run", ("/bin/echo", vec!["x".to_string()])).await;
        assert!(r.is_err());
        denied(&audit, CapabilityKind::Process, "spawn", "/bin/echo x");
    }

    #[tokio::test]
    async fn shell_metacharacters_are_never_interpreted() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        // Allowlisted program, hostile argument: echo prints it literally.
        let args = vec!["hi; cat /etc/passwd".to_string()];
        let (r, audit): (Result<RunOutput, String>, _) =
            attempt(&sandbox, "plugin#run", ("echo", args)).await;
        let out = r.unwrap();
        assert_eq!(out.stdout, "hi; cat /etc/passwd\n");
        assert_eq!(out.status, Some(0));
        allowed(
            &audit,
            CapabilityKind::Process,
            "spawn",
            "echo hi; cat /etc/passwd",
        );

        // Metacharacters in the program name make it a different program.
        let (r, audit): (Result<RunOutput, String>, _) =
            attempt(&sandbox, "plugin#run", ("echo;id", Vec::<String>::new())).await;
        assert!(r.is_err());
        denied(&audit, CapabilityKind::Process, "spawn", "echo;id");
    }
}

mod custom {
    use super::*;

    #[tokio::test]
    async fn an_ungranted_host_interface_call_is_a_security_violation() {
        let t = tree();
        let sandbox = intruder(policy(&t, 1)).await;
        let err = sandbox
            .call::<(&str,), Option<String>>("plugin#kv-get", ("k",))
            .await
            .unwrap_err();
        let Error::SecurityViolation {
            target, capability, ..
        } = &err
        else {
            panic!("expected SecurityViolation, got {err:?}")
        };
        assert_eq!(target, "example-interfaces:key-value/key-value#get");
        assert_eq!(
            capability,
            "Capability::Custom(\"example-interfaces:key-value/key-value\")"
        );
        let violations = sandbox.audit_log().violations();
        let e = violations.last().unwrap();
        assert_eq!(e.capability, CapabilityKind::Custom);
        assert_eq!(e.target, "example-interfaces:key-value/key-value#get");
        // The sandbox keeps working.
        let (r, _): (Result<String, String>, _) = attempt(
            &sandbox,
            "plugin#read-file",
            (s(&t.granted.join("data.txt")),),
        )
        .await;
        assert_eq!(r.unwrap(), "public data");
    }

    #[tokio::test]
    async fn a_granted_host_interface_call_works_and_is_audited() {
        let t = tree();
        let policy = policy(&t, 1).allow(Capability::Custom(KeyValueHost::CAPABILITY.to_string()));
        let sandbox = intruder(policy).await;
        let (v, audit): (Option<String>, _) = attempt(&sandbox, "plugin#kv-get", ("k",)).await;
        assert_eq!(v.as_deref(), Some("value of k"));
        allowed(
            &audit,
            CapabilityKind::Custom,
            "call",
            "example-interfaces:key-value/key-value#get",
        );
    }
}

mod load_check {
    use super::*;

    #[tokio::test]
    async fn strict_refuses_a_plugin_whose_imports_can_never_be_used() {
        let err = WasmSandbox::builder()
            .source(example_plugins::INTRUDER)
            .host_interface(KeyValueHost::new(Store))
            .build()
            .await
            .unwrap_err();
        let Error::UnsatisfiableImport { import, capability } = &err else {
            panic!("expected UnsatisfiableImport, got {err:?}")
        };
        assert!(
            import.starts_with("wasi:") || import.starts_with("example-interfaces:"),
            "{import}"
        );
        assert!(capability.starts_with("Capability::"), "{capability}");
        assert!(err.to_string().contains("grant"), "{err}");
    }

    #[tokio::test]
    async fn warn_mode_loads_it_and_records_a_warning_per_import() {
        let sandbox = intruder(SecurityPolicy::strict().import_check(ImportCheck::Warn)).await;
        let warnings: Vec<AuditEvent> = sandbox
            .audit_log()
            .events()
            .into_iter()
            .filter(|e| e.decision == Decision::Warning)
            .collect();
        let targets: Vec<&str> = warnings.iter().map(|e| e.target.as_str()).collect();
        assert!(
            targets.iter().any(|t| t.starts_with("wasi:filesystem/")),
            "{targets:?}"
        );
        assert!(
            targets.iter().any(|t| t.starts_with("wasi:sockets/")),
            "{targets:?}"
        );
        assert!(
            targets.contains(&"sandbox:host/process@0.1.0"),
            "{targets:?}"
        );
        assert!(
            targets.contains(&"example-interfaces:key-value/key-value@0.1.0"),
            "{targets:?}"
        );
        assert!(
            warnings
                .iter()
                .all(|e| e.capability == CapabilityKind::Import)
        );
        assert!(
            warnings
                .iter()
                .any(|e| e.rule.contains("Capability::NetworkAccess"))
        );
    }

    #[tokio::test]
    async fn an_invalid_policy_is_a_typed_error() {
        let err = WasmSandbox::builder()
            .source(example_plugins::GREETER)
            .security_policy(
                SecurityPolicy::strict().allow(Capability::FileRead("relative/path".into())),
            )
            .build()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Policy { .. }), "{err:?}");
        assert!(err.to_string().contains("absolute"), "{err}");
        let err = WasmSandbox::builder()
            .source(example_plugins::GREETER)
            .security_policy(SecurityPolicy::strict().allow(Capability::NetworkAccess {
                allowed_hosts: vec!["bad host!".into()],
                allowed_ports: vec![PortRange::ANY],
                allowed_schemes: Vec::new(),
            }))
            .build()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("bad host!"), "{err}");
    }
}

mod audit_trail {
    use super::*;

    #[tokio::test]
    async fn events_go_to_a_json_lines_file_and_export_as_json() {
        let t = tree();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.jsonl");
        let sandbox = WasmSandbox::builder()
            .source(example_plugins::INTRUDER)
            .security_policy(policy(&t, 1))
            .host_interface(KeyValueHost::new(Store))
            .audit_file(&file)
            .build()
            .await
            .unwrap();
        let _: Result<String, String> = sandbox
            .call("plugin#read-file", ("/etc/shadow",))
            .await
            .unwrap();
        // Denials are flushed at once: the line is there before the sandbox goes.
        let text = std::fs::read_to_string(&file).unwrap();
        let last: AuditEvent = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last.target, "/etc/shadow");
        assert_eq!(last.decision, Decision::Denied);
        assert_eq!(last.sandbox_id, sandbox.audit_log().sandbox_id());

        let exported: Vec<AuditEvent> =
            serde_json::from_str(&sandbox.audit_log().to_json()).unwrap();
        assert_eq!(exported, sandbox.audit_log().events());
        assert!(exported.iter().any(|e| e.target == "/etc/shadow"));
    }

    #[tokio::test]
    async fn disabling_audit_records_nothing_but_still_enforces() {
        let t = tree();
        let sandbox = WasmSandbox::builder()
            .source(example_plugins::INTRUDER)
            .security_policy(policy(&t, 1))
            .host_interface(KeyValueHost::new(Store))
            .audit_enabled(false)
            .build()
            .await
            .unwrap();
        let r: Result<String, String> = sandbox
            .call("plugin#read-file", ("/etc/passwd",))
            .await
            .unwrap();
        assert!(r.is_err());
        assert!(sandbox.audit_log().events().is_empty());
    }
}

mod learn {
    use super::*;

    #[tokio::test]
    async fn learn_mode_writes_a_least_privilege_policy_that_then_suffices() {
        let t = tree();
        let port = echo_server().await;
        let data = s(&t.granted.join("data.txt"));
        let out = s(&t.writable.join("out.txt"));

        // 1. Run under the observing policy.
        let observed = intruder(SecurityPolicy::observe()).await;
        let run = |sandbox: WasmSandbox| {
            let (data, out) = (data.clone(), out.clone());
            async move {
                let r: Result<String, String> =
                    sandbox.call("plugin#read-file", (data,)).await.unwrap();
                assert_eq!(r.unwrap(), "public data");
                let r: Result<(), String> = sandbox
                    .call("plugin#write-file", (out, "learned"))
                    .await
                    .unwrap();
                r.unwrap();
                let r: Result<String, String> = sandbox
                    .call("plugin#connect", ("localhost", port, "hello"))
                    .await
                    .unwrap();
                assert_eq!(r.unwrap(), "echo: hello");
                let r: Result<RunOutput, String> = sandbox
                    .call("plugin#run", ("echo", vec!["ok".to_string()]))
                    .await
                    .unwrap();
                assert_eq!(r.unwrap().stdout, "ok\n");
                let v: Option<String> = sandbox
                    .call("plugin#env-var-audited", ("PATH",))
                    .await
                    .unwrap();
                assert!(v.is_some());
                let v: Option<String> = sandbox.call("plugin#kv-get", ("k",)).await.unwrap();
                assert_eq!(v.as_deref(), Some("value of k"));
                sandbox
            }
        };
        let observed = run(observed).await;
        let learned = observed.audit_log().learned_policy();
        let toml = learned.to_toml();

        // 2. It names exactly what was used.
        assert!(
            learned
                .grants()
                .contains(&Capability::FileRead(data.clone().into())),
            "{toml}"
        );
        assert!(
            learned
                .grants()
                .contains(&Capability::FileWrite(out.clone().into())),
            "{toml}"
        );
        assert!(
            learned.grants().contains(&Capability::NetworkAccess {
                allowed_hosts: vec!["localhost".to_string()],
                allowed_ports: vec![PortRange::single(port)],
                allowed_schemes: Vec::new(),
            }),
            "{toml}"
        );
        assert!(
            learned
                .grants()
                .contains(&Capability::ProcessSpawn(vec!["echo".to_string()])),
            "{toml}"
        );
        assert!(
            learned
                .grants()
                .contains(&Capability::EnvironmentRead(vec!["PATH".to_string()])),
            "{toml}"
        );
        assert!(
            learned
                .grants()
                .contains(&Capability::Custom(KeyValueHost::CAPABILITY.to_string())),
            "{toml}"
        );
        assert!(SecurityPolicy::strict().diff(&learned).widens());

        // 3. The same run under the learned policy (read back from TOML)
        //    succeeds with no denials.
        let reloaded = SecurityPolicy::from_toml(&toml).unwrap();
        let sandbox = run(intruder(reloaded).await).await;
        let violations = sandbox.audit_log().violations();
        assert!(violations.is_empty(), "{violations:#?}");
    }
}

/// Learn mode (`SecurityPolicy::observe`) allows what is not denied, but an
/// explicit denial refuses in learn mode as in any other, for every kind of
/// capability, and the learned policy never grants what was denied.
mod learn_mode_denials {
    use super::*;

    /// Runs `f` on the intruder under `observe()` with `denial`, and
    /// returns the learned policy after checking that it keeps the denial
    /// and that none of its grants is `forbidden`.
    async fn learned_under<F, Fut>(
        denial: Capability,
        forbidden: impl Fn(&Capability) -> bool,
        f: F,
    ) -> SecurityPolicy
    where
        F: FnOnce(WasmSandbox) -> Fut,
        Fut: std::future::Future<Output = WasmSandbox>,
    {
        let sandbox = f(intruder(SecurityPolicy::observe().deny(denial.clone())).await).await;
        let learned = sandbox.audit_log().learned_policy();
        let toml = learned.to_toml();
        assert!(learned.denials().contains(&denial), "{toml}");
        assert!(!learned.grants().iter().any(forbidden), "{toml}");
        // The written form keeps the denial too.
        let reloaded = SecurityPolicy::from_toml(&toml).unwrap();
        assert!(reloaded.denials().contains(&denial), "{toml}");
        learned
    }

    #[tokio::test]
    async fn a_denied_program_is_not_run() {
        let tmp = tempfile::tempdir().unwrap();
        let marker = tmp.path().join("ran");
        let m = s(&marker);
        learned_under(
            Capability::ProcessSpawn(vec!["touch".to_string()]),
            |g| matches!(g, Capability::ProcessSpawn(_)),
            |sandbox| async move {
                let (r, audit): (Result<RunOutput, String>, _) =
                    attempt(&sandbox, "plugin#run", ("touch", vec![m.clone()])).await;
                let msg = r.unwrap_err();
                assert!(msg.contains("deny ProcessSpawn(touch)"), "{msg}");
                let e = denied(
                    &audit,
                    CapabilityKind::Process,
                    "spawn",
                    &format!("touch {m}"),
                );
                assert_eq!(e.rule, "deny ProcessSpawn(touch)");
                sandbox
            },
        )
        .await;
        assert!(!marker.exists(), "the denied program ran");

        // Control: a program that is not denied runs in learn mode, and is
        // learned.
        let sandbox = intruder(SecurityPolicy::observe()).await;
        let (r, _): (Result<RunOutput, String>, _) =
            attempt(&sandbox, "plugin#run", ("touch", vec![s(&marker)])).await;
        assert_eq!(r.unwrap().status, Some(0));
        assert!(marker.exists());
        assert!(
            sandbox
                .audit_log()
                .learned_policy()
                .grants()
                .contains(&Capability::ProcessSpawn(vec!["touch".to_string()]))
        );
    }

    #[tokio::test]
    async fn a_denied_file_is_not_read_nor_learned() {
        let t = tree();
        let secrets = t.granted.join("secrets");
        let key = s(&secrets.join("key.txt"));
        let key_path = secrets.join("key.txt");
        let granted = s(&t.granted);
        let learned = learned_under(
            Capability::FileRead(secrets.clone()),
            |g| matches!(g, Capability::FileRead(p) if p.starts_with(&secrets)),
            |sandbox| async move {
                let (r, audit): (Result<String, String>, _) =
                    attempt(&sandbox, "plugin#read-file", (key.clone(),)).await;
                assert!(r.is_err(), "{r:?}");
                denied(&audit, CapabilityKind::FileRead, "open", &key);
                // Its directory can be listed (and is learned) ...
                let (r, _): (Result<Vec<String>, String>, _) =
                    attempt(&sandbox, "plugin#list-dir", (granted,)).await;
                assert!(r.unwrap().contains(&"data.txt".to_string()));
                sandbox
            },
        )
        .await;
        assert!(
            learned
                .grants()
                .contains(&Capability::FileRead(t.granted.clone())),
            "{}",
            learned.to_toml()
        );
        // ... but the learned policy denies the subtree, under the
        // policy's own rules.
        let reloaded = intruder(learned).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&reloaded, "plugin#read-file", (s(&key_path),)).await;
        assert!(r.is_err(), "{r:?}");
        assert_eq!(audit.violations.len(), 1, "{:#?}", audit.events);
    }

    #[tokio::test]
    async fn a_denied_write_is_not_written_nor_learned() {
        let t = tree();
        let target = t.writable.join("draft.txt");
        let path = s(&target);
        learned_under(
            Capability::FileWrite(t.writable.clone()),
            |g| matches!(g, Capability::FileWrite(_)),
            |sandbox| async move {
                let (r, audit): (Result<(), String>, _) =
                    attempt(&sandbox, "plugin#write-file", (path.clone(), "overwritten")).await;
                assert!(r.is_err(), "{r:?}");
                assert!(
                    audit
                        .violations
                        .iter()
                        .any(|e| e.capability == CapabilityKind::FileWrite && e.target == path),
                    "{:#?}",
                    audit.events
                );
                sandbox
            },
        )
        .await;
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "draft");
    }

    #[tokio::test]
    async fn a_denied_variable_is_not_read_nor_learned() {
        learned_under(
            Capability::EnvironmentRead(vec!["PATH".to_string()]),
            |g| matches!(g, Capability::EnvironmentRead(_)),
            |sandbox| async move {
                let (v, audit): (Option<String>, _) =
                    attempt(&sandbox, "plugin#env-var-audited", ("PATH",)).await;
                assert_eq!(v, None);
                let e = denied(&audit, CapabilityKind::Environment, "env-read", "PATH");
                assert_eq!(e.rule, "deny EnvironmentRead(PATH)");
                sandbox
            },
        )
        .await;
    }

    #[tokio::test]
    async fn a_denied_host_is_not_reached_nor_learned() {
        let port = echo_server().await;
        learned_under(
            Capability::NetworkAccess {
                allowed_hosts: vec!["localhost".to_string(), "127.0.0.0/8".to_string()],
                allowed_ports: vec![PortRange::ANY],
                allowed_schemes: Vec::new(),
            },
            |g| matches!(g, Capability::NetworkAccess { .. }),
            |sandbox| async move {
                let (r, audit): (Result<String, String>, _) =
                    attempt(&sandbox, "plugin#connect", ("localhost", port, "hi")).await;
                assert!(r.is_err(), "{r:?}");
                denied(&audit, CapabilityKind::Network, "dns-lookup", "localhost");
                let (r, audit): (Result<String, String>, _) =
                    attempt(&sandbox, "plugin#connect", ("127.0.0.1", port, "hi")).await;
                assert!(r.is_err(), "{r:?}");
                assert!(
                    audit
                        .violations
                        .iter()
                        .any(|e| e.target == format!("127.0.0.1:{port}")),
                    "{:#?}",
                    audit.events
                );
                sandbox
            },
        )
        .await;
    }

    #[tokio::test]
    async fn a_denied_host_interface_is_not_called_nor_learned() {
        learned_under(
            Capability::Custom(KeyValueHost::CAPABILITY.to_string()),
            |g| matches!(g, Capability::Custom(_)),
            |sandbox| async move {
                let err = sandbox
                    .call::<(&str,), Option<String>>("plugin#kv-get", ("k",))
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, Error::SecurityViolation { rule, .. }
                        if rule == &format!("deny Custom({})", KeyValueHost::CAPABILITY)),
                    "{err:?}"
                );
                sandbox
            },
        )
        .await;
    }
}

/// Plugin-controlled text cannot forge a line of the audit log's text form.
mod audit_text {
    use super::*;

    #[tokio::test]
    async fn a_newline_in_a_path_cannot_forge_an_audit_line() {
        let forged = "/tmp/x\naudit: 2026-01-01T00:00:00.000Z allowed file-read open /etc/shadow (allow FileRead(/))\u{1b}[2K";
        let sandbox = intruder(SecurityPolicy::strict().import_check(ImportCheck::Warn)).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#read-file", (forged,)).await;
        assert!(r.is_err());
        let e = denied(&audit, CapabilityKind::FileRead, "open", forged);
        let text = e.to_string();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            text.contains("open /tmp/x\\naudit: 2026-01-01T00:00:00.000Z allowed"),
            "{text}"
        );
    }
}

/// `ViolationAction::AbortCall`: the first refused operation ends the call
/// with `Error::SecurityViolation`, and the next call runs on a fresh
/// instance; `ViolationAction::Deny` (the default) hands the plugin an
/// error.
mod violation_modes {
    use super::*;
    use wasm_sandbox::ViolationAction;

    fn aborting(t: &Tree) -> SecurityPolicy {
        policy(t, 1).on_violation(ViolationAction::AbortCall)
    }

    /// The call fails with a security violation whose target is `target`.
    fn violation(err: Error, target: &str, capability: &str) {
        match &err {
            Error::SecurityViolation {
                target: t,
                capability: c,
                function,
                ..
            } => {
                assert_eq!(t, target, "{err}");
                assert!(c.contains(capability), "{err}");
                assert!(
                    function.starts_with("example-interfaces:intruder/"),
                    "{err}"
                );
            }
            other => panic!("expected SecurityViolation, got {other:?}"),
        }
    }

    /// The sandbox still works, on a fresh instance.
    async fn next_call_works(sandbox: &WasmSandbox, t: &Tree, instances_before: u64) {
        let (r, audit): (Result<String, String>, _) = attempt(
            sandbox,
            "plugin#read-file",
            (s(&t.granted.join("data.txt")),),
        )
        .await;
        assert_eq!(r.unwrap(), "public data");
        assert!(audit.violations.is_empty());
        assert_eq!(sandbox.instances_created(), instances_before + 1);
    }

    #[tokio::test]
    async fn an_environment_read_ends_the_call() {
        let t = tree();
        let sandbox = intruder(aborting(&t)).await;
        let before = sandbox.instances_created();
        let err = sandbox
            .call::<(&str,), Option<String>>("plugin#env-var-audited", ("SECRET",))
            .await
            .unwrap_err();
        violation(err, "SECRET", "EnvironmentRead");
        let v = sandbox.audit_log().violations();
        assert_eq!(v.len(), 1, "{v:#?}");
        assert_eq!(v[0].target, "SECRET");
        next_call_works(&sandbox, &t, before).await;
    }

    #[tokio::test]
    async fn a_process_spawn_ends_the_call_and_runs_nothing() {
        let t = tree();
        let marker = t.writable.join("ran");
        let sandbox = intruder(aborting(&t)).await;
        let before = sandbox.instances_created();
        let err = sandbox
            .call::<(&str, Vec<String>), Result<RunOutput, String>>(
                "plugin#run",
                ("touch", vec![s(&marker)]),
            )
            .await
            .unwrap_err();
        violation(
            err,
            &format!("touch {}", s(&marker)),
            "ProcessSpawn(\"touch\")",
        );
        assert!(!marker.exists());
        next_call_works(&sandbox, &t, before).await;
    }

    #[tokio::test]
    async fn any_refusal_during_the_call_ends_it() {
        // Whichever guard refused (here the filesystem's), a refusal recorded
        // during the call fails it.
        let t = tree();
        let sandbox = intruder(aborting(&t)).await;
        let before = sandbox.instances_created();
        let err = sandbox
            .call::<(&str,), Result<String, String>>("plugin#read-file", ("/etc/passwd",))
            .await
            .unwrap_err();
        violation(err, "/etc/passwd", "FileRead");
        next_call_works(&sandbox, &t, before).await;
    }

    #[tokio::test]
    async fn the_call_ends_with_auditing_turned_off_too() {
        let t = tree();
        let sandbox = WasmSandbox::builder()
            .source(example_plugins::INTRUDER)
            .security_policy(aborting(&t))
            .audit_enabled(false)
            .host_interface(KeyValueHost::new(Store))
            .build()
            .await
            .unwrap();
        let err = sandbox
            .call::<(&str,), Result<String, String>>("plugin#read-file", ("/etc/passwd",))
            .await
            .unwrap_err();
        violation(err, "/etc/passwd", "FileRead");
        let err = sandbox
            .call::<(&str,), Option<String>>("plugin#env-var-audited", ("SECRET",))
            .await
            .unwrap_err();
        violation(err, "SECRET", "EnvironmentRead");
        assert!(sandbox.audit_log().events().is_empty());
    }

    #[tokio::test]
    async fn deny_mode_hands_the_plugin_an_error_and_keeps_the_instance() {
        let t = tree();
        for sandbox in [
            intruder(policy(&t, 1)).await,
            // The builder's setting wins over the policy's.
            WasmSandbox::builder()
                .source(example_plugins::INTRUDER)
                .security_policy(aborting(&t))
                .on_violation(ViolationAction::Deny)
                .host_interface(KeyValueHost::new(Store))
                .build()
                .await
                .unwrap(),
        ] {
            let before = sandbox.instances_created();
            let (v, audit): (Option<String>, _) =
                attempt(&sandbox, "plugin#env-var-audited", ("SECRET",)).await;
            assert_eq!(v, None);
            denied(&audit, CapabilityKind::Environment, "env-read", "SECRET");
            let (r, _): (Result<RunOutput, String>, _) =
                attempt(&sandbox, "plugin#run", ("sh", Vec::<String>::new())).await;
            assert!(r.unwrap_err().starts_with("denied"));
            assert_eq!(sandbox.instances_created(), before);
        }
        // And the other way round: the builder turns it on.
        let sandbox = WasmSandbox::builder()
            .source(example_plugins::INTRUDER)
            .security_policy(policy(&t, 1))
            .on_violation(ViolationAction::AbortCall)
            .host_interface(KeyValueHost::new(Store))
            .build()
            .await
            .unwrap();
        assert_eq!(
            sandbox.security_policy().violation_action(),
            ViolationAction::AbortCall
        );
        let err = sandbox
            .call::<(&str,), Option<String>>("plugin#env-var-audited", ("SECRET",))
            .await
            .unwrap_err();
        violation(err, "SECRET", "EnvironmentRead");
    }

    #[tokio::test]
    async fn the_mode_round_trips_through_a_policy_file() {
        let t = tree();
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("p.toml", aborting(&t).to_toml()),
            ("p.json", serde_json::to_string(&aborting(&t)).unwrap()),
        ] {
            assert!(text.contains("abort-call"), "{text}");
            let path = dir.path().join(name);
            std::fs::write(&path, &text).unwrap();
            let read = SecurityPolicy::from_file(&path).unwrap();
            assert_eq!(read, aborting(&t));
            let sandbox = intruder(read).await;
            let err = sandbox
                .call::<(&str,), Option<String>>("plugin#env-var-audited", ("SECRET",))
                .await
                .unwrap_err();
            violation(err, "SECRET", "EnvironmentRead");
        }
    }
}

/// Native code loads only through `.precompiled(..)`.
mod artifacts {
    use super::*;

    #[tokio::test]
    async fn source_never_loads_a_precompiled_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = WasmSandbox::builder()
            .source(example_plugins::GREETER)
            .precompile()
            .unwrap();
        let disguised = dir.path().join("x.wasm");
        std::fs::write(&disguised, &bytes).unwrap();
        let err = WasmSandbox::builder()
            .source(&disguised)
            .build()
            .await
            .unwrap_err();
        let Error::InvalidBinary { reason, .. } = &err else {
            panic!("expected InvalidBinary, got {err:?}")
        };
        assert!(reason.contains("precompiled artifact"), "{err}");
        assert!(reason.contains(".precompiled(..)"), "{err}");
        assert!(reason.contains("trusted code only"), "{err}");
        // Bytes too.
        let err = WasmSandbox::builder()
            .bytes(bytes.clone())
            .build()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidBinary { .. }), "{err:?}");
        // Said explicitly, it loads.
        let sandbox = WasmSandbox::builder()
            .precompiled(&disguised)
            .build()
            .await
            .unwrap();
        let text: String = sandbox.call("plugin#greet", ("artifact",)).await.unwrap();
        assert_eq!(text, "Hello, artifact!");
    }
}
