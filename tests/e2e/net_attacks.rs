//! Attacks on the network policy, each asserting both the refusal and its
//! audit event: HTTP by name or by an odd address form to a denied
//! address, redirects into a denial, scheme case, credentials in a URL, a
//! scheme that is not HTTP; socket addresses wasmtime-wasi refuses before
//! the policy check; and an environment variable that used to turn the
//! lookup guard off.
//!
//! Every server is started by its test on 127.0.0.1; nothing else is
//! contacted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use example_interfaces::{FetchRequest, FetcherPlugin, KeyValue, KeyValueHost};
use tokio::io::AsyncReadExt;
use wasm_sandbox::{
    AuditEvent, CallAudit, Capability, CapabilityKind, Decision, ImportCheck, PortRange,
    SecurityPolicy, WasmSandbox,
};

use crate::http::{closed_port, server};

/// `--allow-net --deny-net=127.0.0.0/8` (and the IPv6 loopback, `::1`).
fn loopback_denied() -> SecurityPolicy {
    SecurityPolicy::strict()
        .import_check(ImportCheck::Warn)
        .allow(Capability::NetworkAccess {
            allowed_hosts: vec!["*".to_string()],
            allowed_ports: vec![PortRange::ANY],
            allowed_schemes: Vec::new(),
        })
        .deny(Capability::NetworkAccess {
            allowed_hosts: vec!["127.0.0.0/8".to_string(), "::1".to_string()],
            allowed_ports: vec![PortRange::ANY],
            allowed_schemes: Vec::new(),
        })
}

fn get(url: String) -> FetchRequest {
    FetchRequest {
        method: "GET".to_string(),
        url,
        body: None,
    }
}

async fn load(path: &str, policy: SecurityPolicy) -> WasmSandbox {
    WasmSandbox::builder()
        .source(path)
        .security_policy(policy)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{path} loads: {e}"))
}

/// The `http-request` events of `sandbox`, in order.
fn requests(sandbox: &WasmSandbox) -> Vec<AuditEvent> {
    sandbox
        .audit_log()
        .events()
        .into_iter()
        .filter(|e| e.capability == CapabilityKind::Network && e.operation == "http-request")
        .collect()
}

/// The one `http-request` event of `sandbox`, which must be a denial that
/// is also listed as a violation.
fn the_denial(sandbox: &WasmSandbox) -> AuditEvent {
    let events = requests(sandbox);
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = events[0].clone();
    assert_eq!(e.decision, Decision::Denied, "{e}");
    assert!(sandbox.audit_log().violations().contains(&e), "{e}");
    e
}

mod http {
    use std::sync::atomic::Ordering;

    use super::*;

    /// A host name, or any address form a C library or a URL parser reads
    /// as 127.0.0.1 or ::1, does not get past a denial of those addresses:
    /// each is refused as not an address, or resolved by the host and
    /// denied with the real address named.
    #[tokio::test]
    async fn http_by_name_or_odd_address_form_cannot_reach_a_denied_address() {
        let server = server().await;
        let port = server.port;
        let sandbox = load(example_plugins::FETCHER, loopback_denied()).await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let not_an_address = "is neither a host name nor an IP address in canonical form (an IPv4 address is four \
             decimal numbers, a.b.c.d; an IPv6 address is in brackets)";
        for form in ["127.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.0.0.1."] {
            sandbox.audit_log().clear();
            let url = format!("http://{form}:{port}/hello");
            let result = plugin.fetch(get(url.clone())).await.unwrap();
            assert!(result.is_err(), "{url}: {result:?}");
            let e = the_denial(&sandbox);
            assert_eq!(e.target, format!("GET {url}"));
            assert_eq!(e.rule, format!("`{form}` {not_an_address}"), "{url}");
        }

        sandbox.audit_log().clear();
        let url = format!("http://localhost:{port}/hello");
        let result = plugin.fetch(get(url.clone())).await.unwrap();
        assert!(result.is_err(), "{result:?}");
        let e = the_denial(&sandbox);
        assert_eq!(e.target, format!("GET {url}"));
        // The name resolves to the loopback addresses; the first one checked
        // is named.
        assert!(
            e.rule == format!("deny NetworkAccess(127.0.0.0/8:{port}) [127.0.0.1]")
                || e.rule == format!("deny NetworkAccess(::1:{port}) [::1]"),
            "{e}"
        );

        sandbox.audit_log().clear();
        let url = format!("http://[::1]:{port}/hello");
        let result = plugin.fetch(get(url.clone())).await.unwrap();
        assert!(result.is_err(), "{result:?}");
        let e = the_denial(&sandbox);
        assert_eq!(e.target, format!("GET {url}"));
        assert_eq!(e.rule, format!("deny NetworkAccess(::1:{port})"));

        sandbox.audit_log().clear();
        let url = format!("http://[::ffff:127.0.0.1]:{port}/hello");
        let result = plugin.fetch(get(url.clone())).await.unwrap();
        assert!(result.is_err(), "{result:?}");
        let e = the_denial(&sandbox);
        assert_eq!(e.target, format!("GET {url}"));
        assert_eq!(
            e.rule,
            "IPv4-mapped IPv6 addresses are refused (::ffff:127.0.0.1 is 127.0.0.1); \
             use the IPv4 address"
        );

        assert_eq!(server.served.load(Ordering::SeqCst), 0);
    }

    /// A redirect from an allowed URL to a name that resolves into the
    /// denial is refused when the plugin's client follows it.
    #[tokio::test]
    async fn a_redirect_into_a_denied_address_is_checked_again() {
        let server = server().await;
        let other = closed_port();
        let policy = SecurityPolicy::strict()
            .allow(Capability::NetworkAccess {
                allowed_hosts: vec!["*".to_string()],
                allowed_ports: vec![PortRange::ANY],
                allowed_schemes: Vec::new(),
            })
            .deny(Capability::NetworkAccess {
                allowed_hosts: vec!["127.0.0.0/8".to_string(), "::1".to_string()],
                allowed_ports: vec![PortRange::single(other)],
                allowed_schemes: Vec::new(),
            });
        let sandbox = load(example_plugins::FETCHER, policy).await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let base = format!("http://127.0.0.1:{}", server.port);
        let url = format!("{base}/redirect?to=http://localhost:{other}/hello");
        let result = plugin.fetch(get(url)).await.unwrap();
        assert!(result.is_err(), "{result:?}");
        let events = requests(&sandbox);
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(events[0].decision, Decision::Allowed, "{}", events[0]);
        assert_eq!(events[0].target, format!("GET {base}/redirect?…"));
        assert_eq!(events[1].decision, Decision::Denied, "{}", events[1]);
        assert_eq!(
            events[1].target,
            format!("GET http://localhost:{other}/hello")
        );
        assert!(
            events[1].rule == format!("deny NetworkAccess(127.0.0.0/8:{other}) [127.0.0.1]")
                || events[1].rule == format!("deny NetworkAccess(::1:{other}) [::1]"),
            "{}",
            events[1]
        );
        assert_eq!(server.served.load(Ordering::SeqCst), 1);
    }

    /// A raw TCP server that records the first bytes of every connection,
    /// and closes it.
    async fn recorder() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0; 512];
                let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                buf.truncate(n);
                record.lock().unwrap().push(buf);
            }
        });
        (port, seen)
    }

    fn grant(port: u16) -> SecurityPolicy {
        SecurityPolicy::strict().allow(Capability::NetworkAccess {
            allowed_hosts: vec!["127.0.0.1".to_string()],
            allowed_ports: vec![PortRange::single(port)],
            allowed_schemes: Vec::new(),
        })
    }

    /// `HTTPS://` is https: audited as https, sent with TLS (a plaintext
    /// server sees a TLS handshake, never a request line), and its default
    /// port is 443. `Http://` is plain http.
    #[tokio::test]
    async fn the_scheme_is_normalised_once_and_sent_as_audited() {
        let (port, seen) = recorder().await;
        let sandbox = load(example_plugins::RAW_FETCHER, grant(port)).await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let result = plugin
            .fetch(get(format!("HTTPS://127.0.0.1:{port}/hello")))
            .await
            .unwrap();
        assert!(
            result.is_err(),
            "a plaintext server cannot answer TLS: {result:?}"
        );
        let events = requests(&sandbox);
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].decision, Decision::Allowed);
        assert_eq!(
            events[0].target,
            format!("GET https://127.0.0.1:{port}/hello")
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "{seen:?}");
        // A TLS record of type handshake, not `GET /hello HTTP/1.1`.
        assert_eq!(
            seen[0].first(),
            Some(&0x16),
            "{:?}",
            String::from_utf8_lossy(&seen[0])
        );
        assert!(!seen[0].starts_with(b"GET"));

        // The default port of `HTTPS` is 443, which is not granted.
        sandbox.audit_log().clear();
        let result = plugin
            .fetch(get("HTTPS://127.0.0.1/hello".to_string()))
            .await
            .unwrap();
        assert!(result.is_err(), "{result:?}");
        let e = the_denial(&sandbox);
        assert_eq!(e.target, "GET https://127.0.0.1:443/hello");
        assert_eq!(e.rule, "the host is granted, but not port 443");

        // `Http` is http, sent in plain text.
        let http = server().await;
        let sandbox = load(example_plugins::RAW_FETCHER, grant(http.port)).await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let response = plugin
            .fetch(get(format!("Http://127.0.0.1:{}/hello", http.port)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "hello from 127.0.0.1");
        let events = requests(&sandbox);
        assert_eq!(
            events[0].target,
            format!("GET http://127.0.0.1:{}/hello", http.port)
        );
    }

    /// A URL with user credentials is refused with a rule that says why,
    /// and the credentials stay out of the audit log.
    #[tokio::test]
    async fn credentials_in_a_url_are_refused() {
        let server = server().await;
        let port = server.port;
        let sandbox = load(example_plugins::FETCHER, grant(port)).await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let result = plugin
            .fetch(get(format!("http://user:secret@127.0.0.1:{port}/hello")))
            .await
            .unwrap();
        assert!(result.is_err(), "{result:?}");
        let e = the_denial(&sandbox);
        assert_eq!(e.target, format!("GET http://127.0.0.1:{port}/hello"));
        assert_eq!(
            e.rule,
            "the URL carries user credentials (user:password@host), which plugins may not \
             send in a URL; send an Authorization header instead"
        );
        assert!(!sandbox.audit_log().to_json().contains("secret"));
        assert_eq!(server.served.load(Ordering::SeqCst), 0);
    }

    /// A scheme other than http and https is refused and audited.
    #[tokio::test]
    async fn a_scheme_that_is_not_http_is_refused() {
        let (port, seen) = recorder().await;
        let sandbox = load(example_plugins::RAW_FETCHER, grant(port)).await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let result = plugin
            .fetch(get(format!("ftp://127.0.0.1:{port}/file")))
            .await
            .unwrap();
        assert_eq!(result, Err("ErrorCode::HttpRequestDenied".to_string()));
        let e = the_denial(&sandbox);
        assert_eq!(e.target, format!("GET ftp://127.0.0.1:{port}/file"));
        assert_eq!(
            e.rule,
            "`ftp` is not an HTTP scheme; plugins send http and https requests only"
        );
        assert!(seen.lock().unwrap().is_empty());
    }
}

/// A key-value host interface the intruder plugin imports (unused here).
#[derive(Default)]
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

async fn intruder(policy: SecurityPolicy) -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::INTRUDER)
        .security_policy(policy)
        .host_interface(KeyValueHost::new(NoStore))
        .build()
        .await
        .expect("the intruder plugin loads")
}

async fn attempt<P, R>(sandbox: &WasmSandbox, name: &str, params: P) -> (R, CallAudit)
where
    P: wasm_sandbox::wasmtime::component::ComponentNamedList
        + wasm_sandbox::component::Lower
        + Send
        + Sync,
    R: wasm_sandbox::component::ComponentType
        + wasm_sandbox::component::Lift
        + Send
        + Sync
        + 'static,
{
    sandbox
        .call_with_audit::<P, R>(name, params)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The one network event of `operation` in `audit`: a denial of `target`
/// with `rule`, listed as a violation.
fn denied(audit: &CallAudit, operation: &str, target: &str, rule: &str) {
    let matching: Vec<&AuditEvent> = audit
        .events
        .iter()
        .filter(|e| e.capability == CapabilityKind::Network && e.operation == operation)
        .collect();
    assert_eq!(matching.len(), 1, "{:#?}", audit.events);
    let e = matching[0];
    assert_eq!(e.decision, Decision::Denied, "{e}");
    assert_eq!(e.target, target, "{e}");
    assert_eq!(e.rule, rule, "{e}");
    assert!(audit.violations.contains(e), "{e}");
}

mod sockets {
    use super::*;

    /// wasmtime-wasi refuses an IPv4-mapped IPv6 address before the policy
    /// check; the refusal is audited with the address and the reason.
    #[tokio::test]
    async fn a_connect_to_an_ipv4_mapped_address_is_audited() {
        let port = closed_port();
        let sandbox = intruder(loopback_denied()).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#connect", ("::ffff:127.0.0.1", port, "hi")).await;
        assert!(r.is_err(), "{r:?}");
        denied(
            &audit,
            "connect",
            &format!("[::ffff:127.0.0.1]:{port}"),
            "IPv4-mapped IPv6 addresses are refused (::ffff:127.0.0.1 is 127.0.0.1); \
             use the IPv4 address",
        );
    }

    /// Port 0 is refused by wasmtime-wasi, and audited.
    #[tokio::test]
    async fn a_connect_to_port_0_is_audited() {
        let sandbox = intruder(loopback_denied()).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#connect", ("127.0.0.1", 0u16, "hi")).await;
        assert!(r.is_err(), "{r:?}");
        denied(
            &audit,
            "connect",
            "127.0.0.1:0",
            "port 0 cannot be connected to",
        );
    }

    /// A datagram to port 0 is refused by wasmtime-wasi, and audited.
    #[tokio::test]
    async fn a_datagram_to_port_0_is_audited() {
        let sandbox = intruder(loopback_denied()).await;
        let (r, audit): (Result<(), String>, _) =
            attempt(&sandbox, "plugin#send-datagram", ("127.0.0.1", 0u16, "x")).await;
        assert!(r.is_err(), "{r:?}");
        denied(
            &audit,
            "send",
            "127.0.0.1:0",
            "port 0 cannot be connected to",
        );
    }

    /// Binding an IPv4-mapped address is refused by wasmtime-wasi, and
    /// audited.
    #[tokio::test]
    async fn binding_an_ipv4_mapped_address_is_audited() {
        let sandbox = intruder(loopback_denied()).await;
        let (r, audit): (Result<String, String>, _) =
            attempt(&sandbox, "plugin#listen", ("[::ffff:127.0.0.1]:0",)).await;
        assert!(r.is_err(), "{r:?}");
        denied(
            &audit,
            "bind",
            "[::ffff:127.0.0.1]:0",
            "IPv4-mapped IPv6 addresses are refused (::ffff:127.0.0.1 is 127.0.0.1); \
             use the IPv4 address",
        );
    }

    /// A lookup of a name the policy does not grant is denied (the guard
    /// that `NO_NET_GUARD` used to turn off).
    #[tokio::test]
    async fn a_lookup_the_policy_does_not_grant_is_denied() {
        let policy = SecurityPolicy::strict()
            .import_check(ImportCheck::Warn)
            .allow(Capability::NetworkAccess {
                allowed_hosts: vec!["localhost".to_string()],
                allowed_ports: vec![PortRange::ANY],
                allowed_schemes: Vec::new(),
            });
        let sandbox = intruder(policy).await;
        let (r, audit): (Result<Vec<String>, String>, _) =
            attempt(&sandbox, "plugin#resolve", ("example.com",)).await;
        assert!(r.is_err(), "{r:?}");
        denied(
            &audit,
            "dns-lookup",
            "example.com",
            "no NetworkAccess grant names this host",
        );
    }

    /// Nothing in the host's environment turns the lookup guard off: the
    /// test above, run again in a process with `NO_NET_GUARD=1` (the switch
    /// that used to skip it), still passes.
    #[test]
    fn the_environment_does_not_turn_the_lookup_guard_off() {
        let name = "net_attacks::sockets::a_lookup_the_policy_does_not_grant_is_denied";
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--test-threads=1"])
            .env("NO_NET_GUARD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}
