//! Outbound HTTP (`wasi:http`) under the `NetworkAccess` grants, against a
//! server on 127.0.0.1 started by each test. The same assertions run against
//! the Rust plugin (guest SDK `http` module) and the JavaScript one
//! (`fetch()`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use example_interfaces::{FetchRequest, FetcherPlugin};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use wasm_sandbox::{
    AuditEvent, Capability, CapabilityKind, Decision, Error, PortRange, ResourceLimits,
    SecurityPolicy, WasmSandbox,
};

use crate::polyglot::component;

/// A small HTTP/1.1 server: `GET /hello`, redirects, a large body, a body
/// echo, and a path that never answers. Counts the requests it served.
pub(crate) struct Server {
    pub(crate) port: u16,
    pub(crate) served: Arc<AtomicUsize>,
}

pub(crate) async fn server() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut reader = BufReader::new(r);
                let mut line = String::new();
                if reader.read_line(&mut line).await.is_err() {
                    return;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let header = header.trim();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                count.fetch_add(1, Ordering::SeqCst);
                let (status, location, reply) = match path.as_str() {
                    "/hello" => ("200 OK", None, b"hello from 127.0.0.1".to_vec()),
                    "/echo" => (
                        "200 OK",
                        None,
                        format!("{method} {} bytes", body.len()).into_bytes(),
                    ),
                    "/big" => ("200 OK", None, vec![b'x'; 100_000]),
                    "/slow" => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                    p if p.starts_with("/redirect?to=") => (
                        "302 Found",
                        Some(p["/redirect?to=".len()..].to_string()),
                        Vec::new(),
                    ),
                    _ => ("404 Not Found", None, b"no such page".to_vec()),
                };
                let mut head = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    reply.len()
                );
                if let Some(location) = location {
                    head.push_str(&format!("location: {location}\r\n"));
                }
                head.push_str("\r\n");
                let _ = w.write_all(head.as_bytes()).await;
                let _ = w.write_all(&reply).await;
                let _ = w.shutdown().await;
            });
        }
    });
    Server { port, served }
}

/// A port nothing listens on.
pub(crate) fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `127.0.0.1:<port>`, any scheme.
fn grant(port: u16) -> Capability {
    Capability::NetworkAccess {
        allowed_hosts: vec!["127.0.0.1".to_string()],
        allowed_ports: vec![PortRange::single(port)],
        allowed_schemes: Vec::new(),
    }
}

fn get(url: String) -> FetchRequest {
    FetchRequest {
        method: "GET".to_string(),
        url,
        body: None,
    }
}

async fn fetcher(
    path: &std::path::Path,
    policy: SecurityPolicy,
    limits: ResourceLimits,
) -> WasmSandbox {
    WasmSandbox::builder()
        .source(path)
        .security_policy(policy)
        .resource_limits(limits)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{} loads: {e}", path.display()))
}

/// The `http-request` events, in order.
fn requests(sandbox: &WasmSandbox) -> Vec<AuditEvent> {
    sandbox
        .audit_log()
        .events()
        .into_iter()
        .filter(|e| e.capability == CapabilityKind::Network && e.operation == "http-request")
        .collect()
}

/// The assertions every fetcher plugin must pass.
mod contract {
    use std::path::Path;

    use super::*;

    /// A granted request succeeds and is audited with its status and bytes.
    pub(crate) async fn an_allowed_request_succeeds_and_is_audited(path: &Path) {
        let server = server().await;
        let sandbox = fetcher(
            path,
            SecurityPolicy::strict().allow(grant(server.port)),
            ResourceLimits::default(),
        )
        .await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let url = format!("http://127.0.0.1:{}/hello", server.port);
        let response = plugin.fetch(get(url.clone())).await.unwrap().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "hello from 127.0.0.1");

        let post = FetchRequest {
            method: "POST".to_string(),
            url: format!("http://127.0.0.1:{}/echo", server.port),
            body: Some("four".to_string()),
        };
        let response = plugin.fetch(post).await.unwrap().unwrap();
        assert_eq!(response.body, "POST 4 bytes");

        let events = sandbox.audit_log().events();
        let request = events
            .iter()
            .find(|e| e.operation == "http-request")
            .expect("an http-request event");
        assert_eq!(request.decision, Decision::Allowed, "{request}");
        assert_eq!(request.target, format!("GET {url}"));
        assert_eq!(
            request.rule,
            format!("allow NetworkAccess(127.0.0.1:{})", server.port)
        );
        assert_eq!(
            request.call.as_deref(),
            Some("example-interfaces:fetcher/plugin@0.1.0#fetch")
        );
        let responses: Vec<&AuditEvent> = events
            .iter()
            .filter(|e| e.operation == "http-response")
            .collect();
        assert_eq!(responses.len(), 2, "{events:#?}");
        assert_eq!(responses[0].target, format!("GET {url}"));
        assert!(
            responses[0]
                .rule
                .starts_with("status 200, 0 bytes sent, 20 bytes received"),
            "{}",
            responses[0]
        );
        assert!(
            responses[1]
                .rule
                .starts_with("status 200, 4 bytes sent, 12 bytes received"),
            "{}",
            responses[1]
        );
    }

    /// A host, a port or a scheme the grant does not cover is refused
    /// before anything is sent, and audited.
    pub(crate) async fn hosts_ports_and_schemes_outside_the_grant_are_denied(path: &Path) {
        let server = server().await;
        let other = closed_port();
        let https_only = Capability::NetworkAccess {
            allowed_hosts: vec!["127.0.0.1".to_string()],
            allowed_ports: vec![PortRange::single(server.port)],
            allowed_schemes: vec!["https".to_string()],
        };
        let policy = SecurityPolicy::strict().allow(https_only);
        let sandbox = fetcher(path, policy, ResourceLimits::default()).await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();

        let cases = [
            (
                format!("http://localhost:{}/hello", server.port),
                "no NetworkAccess grant names this host (an IP grant covers URLs that use the IP)"
                    .to_string(),
            ),
            (
                format!("https://127.0.0.1:{other}/hello"),
                format!("the host is granted, but not port {other}"),
            ),
            (
                format!("http://127.0.0.1:{}/hello", server.port),
                "the host and port are granted, but not the scheme `http` (add it to allowed_schemes)"
                    .to_string(),
            ),
        ];
        for (url, rule) in cases {
            sandbox.audit_log().clear();
            let result = plugin.fetch(get(url.clone())).await.unwrap();
            assert!(result.is_err(), "{url}: {result:?}");
            let events = requests(&sandbox);
            assert_eq!(events.len(), 1, "{events:#?}");
            assert_eq!(events[0].decision, Decision::Denied, "{}", events[0]);
            assert_eq!(events[0].target, format!("GET {url}"));
            assert_eq!(events[0].rule, rule);
        }
        assert_eq!(server.served.load(Ordering::SeqCst), 0);
    }

    /// A redirect within the grant is followed; a redirect to a port
    /// outside it is refused when the plugin's client follows it.
    pub(crate) async fn redirects_are_checked_like_any_request(path: &Path) {
        let server = server().await;
        let other = closed_port();
        let sandbox = fetcher(
            path,
            SecurityPolicy::strict().allow(grant(server.port)),
            ResourceLimits::default(),
        )
        .await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let base = format!("http://127.0.0.1:{}", server.port);

        let inside = format!("{base}/redirect?to={base}/hello");
        let response = plugin.fetch(get(inside)).await.unwrap().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "hello from 127.0.0.1");

        sandbox.audit_log().clear();
        let outside = format!("{base}/redirect?to=http://127.0.0.1:{other}/hello");
        let result = plugin.fetch(get(outside.clone())).await.unwrap();
        assert!(result.is_err(), "{result:?}");
        let events = requests(&sandbox);
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(events[0].decision, Decision::Allowed);
        assert_eq!(events[0].target, format!("GET {}/redirect?…", base));
        assert_eq!(events[1].decision, Decision::Denied);
        assert_eq!(
            events[1].target,
            format!("GET http://127.0.0.1:{other}/hello")
        );
    }

    /// Response and request bodies over the limits fail in the plugin;
    /// the host keeps serving.
    pub(crate) async fn bodies_over_the_size_limits_fail(path: &Path) {
        let server = server().await;
        let mut limits = ResourceLimits::default();
        limits.http_response_bytes = Some(10_000);
        limits.http_request_bytes = Some(1_000);
        let sandbox = fetcher(
            path,
            SecurityPolicy::strict().allow(grant(server.port)),
            limits,
        )
        .await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let base = format!("http://127.0.0.1:{}", server.port);

        let big = plugin.fetch(get(format!("{base}/big"))).await.unwrap();
        assert!(
            big.is_err(),
            "100 000 bytes over a 10 000-byte limit: {big:?}"
        );
        let limit = sandbox
            .audit_log()
            .events()
            .into_iter()
            .find(|e| e.capability == CapabilityKind::Limit)
            .expect("a limit event");
        assert_eq!(limit.operation, "http-response-size");

        let post = FetchRequest {
            method: "POST".to_string(),
            url: format!("{base}/echo"),
            body: Some("y".repeat(5_000)),
        };
        let result = plugin.fetch(post).await;
        assert!(
            !matches!(result, Ok(Ok(_))),
            "5 000 bytes over a 1 000-byte limit: {result:?}"
        );

        // The sandbox still serves requests within the limits.
        let fine = plugin.fetch(get(format!("{base}/hello"))).await;
        let fine = match fine {
            Ok(r) => r,
            // A plugin whose client trapped on the error gets a new instance.
            Err(_) => plugin.fetch(get(format!("{base}/hello"))).await.unwrap(),
        };
        assert_eq!(fine.unwrap().status, 200);
    }

    /// A server that never answers: the HTTP timeout fails the request in
    /// the plugin.
    pub(crate) async fn a_slow_server_times_out(path: &Path) {
        let server = server().await;
        let mut limits = ResourceLimits::default();
        limits.http_timeout_ms = Some(300);
        let sandbox = fetcher(
            path,
            SecurityPolicy::strict().allow(grant(server.port)),
            limits,
        )
        .await;
        let plugin = FetcherPlugin::load(&sandbox).unwrap();
        let result = plugin
            .fetch(get(format!("http://127.0.0.1:{}/slow", server.port)))
            .await
            .unwrap();
        assert!(result.is_err(), "{result:?}");
        let response = sandbox
            .audit_log()
            .events()
            .into_iter()
            .find(|e| e.operation == "http-response")
            .expect("an http-response event");
        assert!(
            response.rule.starts_with("failed: ")
                && response
                    .rule
                    .ends_with("(the limit is 300 ms, http_timeout_ms)"),
            "{response}"
        );
    }
}

macro_rules! per_language {
    ($module:ident, $language:expr) => {
        mod $module {
            use super::{component, contract};

            async fn run<F: std::future::Future<Output = ()>>(
                test: impl FnOnce(std::path::PathBuf) -> F,
            ) {
                if let Some(path) = component($language, "fetcher") {
                    test(path).await;
                }
            }

            #[tokio::test]
            async fn an_allowed_request_succeeds_and_is_audited() {
                run(|p| async move { contract::an_allowed_request_succeeds_and_is_audited(&p).await })
                    .await;
            }

            #[tokio::test]
            async fn hosts_ports_and_schemes_outside_the_grant_are_denied() {
                run(|p| async move {
                    contract::hosts_ports_and_schemes_outside_the_grant_are_denied(&p).await
                })
                .await;
            }

            #[tokio::test]
            async fn redirects_are_checked_like_any_request() {
                run(|p| async move { contract::redirects_are_checked_like_any_request(&p).await })
                    .await;
            }

            #[tokio::test]
            async fn bodies_over_the_size_limits_fail() {
                run(|p| async move { contract::bodies_over_the_size_limits_fail(&p).await }).await;
            }

            #[tokio::test]
            async fn a_slow_server_times_out() {
                run(|p| async move { contract::a_slow_server_times_out(&p).await }).await;
            }
        }
    };
}

per_language!(rust, None);
per_language!(
    javascript,
    Some(example_plugins::polyglot::Language::JavaScript)
);

/// The Rust plugin's error says what happened.
#[tokio::test]
async fn the_guest_sdk_reports_a_denial_as_such() {
    let server = server().await;
    let sandbox = fetcher(
        std::path::Path::new(example_plugins::FETCHER),
        SecurityPolicy::strict().allow(grant(server.port)),
        ResourceLimits::default(),
    )
    .await;
    let plugin = FetcherPlugin::load(&sandbox).unwrap();
    let url = format!("http://localhost:{}/hello", server.port);
    let message = plugin.fetch(get(url.clone())).await.unwrap().unwrap_err();
    assert_eq!(
        message,
        format!("the host's policy denied the request to {url} (http-request-denied)")
    );
}

/// With no network grant, a plugin that imports `wasi:http` does not load
/// under the strict policy, and the error names the grant it needs.
#[tokio::test]
async fn without_a_grant_a_plugin_that_imports_http_is_refused_at_load() {
    let err = WasmSandbox::builder()
        .source(example_plugins::FETCHER)
        .build()
        .await
        .unwrap_err();
    match &err {
        Error::UnsatisfiableImport { import, capability } => {
            assert!(import.starts_with("wasi:http/"), "{err}");
            assert_eq!(capability, "Capability::NetworkAccess { .. }");
        }
        other => panic!("expected UnsatisfiableImport, got {other:?}"),
    }
}

/// The call's own deadline bounds a request too: a call stuck on a server
/// that never answers ends with the time limit error at the call's deadline,
/// well before the (longer) HTTP timeout, and the sandbox serves the next
/// call.
#[tokio::test]
async fn the_call_deadline_ends_a_hanging_request() {
    let server = server().await;
    let mut limits = ResourceLimits::default();
    limits.cpu_timeout_ms = Some(500);
    limits.http_timeout_ms = Some(60_000);
    let sandbox = fetcher(
        std::path::Path::new(example_plugins::FETCHER),
        SecurityPolicy::strict().allow(grant(server.port)),
        limits,
    )
    .await;
    let plugin = FetcherPlugin::load(&sandbox).unwrap();
    let err = plugin
        .fetch(get(format!("http://127.0.0.1:{}/slow", server.port)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResourceLimitExceeded(wasm_sandbox::Limit::Time { .. })
        ),
        "{err:?}"
    );
    let fine = plugin
        .fetch(get(format!("http://127.0.0.1:{}/hello", server.port)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fine.status, 200);
}

/// Learn mode records HTTP requests, and the learned policy grants them.
#[tokio::test]
async fn learn_mode_learns_http_hosts_and_ports() {
    let server = server().await;
    let sandbox = fetcher(
        std::path::Path::new(example_plugins::FETCHER),
        SecurityPolicy::observe(),
        ResourceLimits::default(),
    )
    .await;
    let plugin = FetcherPlugin::load(&sandbox).unwrap();
    let response = plugin
        .fetch(get(format!("http://127.0.0.1:{}/hello", server.port)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status, 200);
    let learned = sandbox.audit_log().learned_policy();
    assert!(
        learned.grants().contains(&grant(server.port)),
        "{}",
        learned.to_toml()
    );
}
