//! Run with: `cargo run --example outbound_http`
//!
//! The `fetcher` plugin makes HTTP requests with the guest SDK's `http`
//! module. The policy grants one host and port; a request anywhere else,
//! including a redirect that leads elsewhere, is refused, and every request
//! is in the audit log.

use example_interfaces::{FetchRequest, FetcherPlugin};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasm_sandbox::{Capability, PortRange, ResourceLimits, SecurityPolicy, WasmSandbox};

/// A one-page HTTP server on 127.0.0.1: `/redirect` points at port 1.
async fn serve() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("a local address").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0; 4096];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let reply = if request.starts_with("GET /redirect ") {
                "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\n\r\n"
                    .to_string()
            } else {
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello".to_string()
            };
            let _ = stream.write_all(reply.as_bytes()).await;
        }
    });
    port
}

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    let port = serve().await;

    // ANCHOR: policy
    // One host and port, plain http allowed; requests of at most 64 KiB,
    // responses of at most 1 MiB, 5 s to answer.
    let policy = SecurityPolicy::strict().allow(Capability::NetworkAccess {
        allowed_hosts: vec!["127.0.0.1".to_string()],
        allowed_ports: vec![PortRange::single(port)],
        allowed_schemes: vec!["http".to_string()],
    });
    let mut limits = ResourceLimits::default();
    limits.http_request_bytes = Some(64 * 1024);
    limits.http_response_bytes = Some(1024 * 1024);
    limits.http_timeout_ms = Some(5_000);

    let sandbox = WasmSandbox::builder()
        .source(example_plugins::FETCHER)
        .security_policy(policy)
        .resource_limits(limits)
        .build()
        .await?;
    let plugin = FetcherPlugin::load(&sandbox)?;
    // ANCHOR_END: policy

    // ANCHOR: calls
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://127.0.0.1:{port}/redirect"),
    ] {
        let request = FetchRequest {
            method: "GET".to_string(),
            url: url.clone(),
            body: None,
        };
        match plugin.fetch(request).await? {
            Ok(response) => println!("{url}: {} {:?}", response.status, response.body),
            Err(message) => println!("{url}: error: {message}"),
        }
    }
    for event in sandbox.audit_log().events() {
        println!("    audit: {event}");
    }
    // ANCHOR_END: calls
    Ok(())
}
