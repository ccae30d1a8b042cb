//! Run with: `cargo run -p web-service-example` (listens on
//! 127.0.0.1:8080, or on the port in `$PORT`), then for example
//! `curl -s localhost:8080/greet -H 'content-type: application/json' -d '{"name":"Ada"}'`.
//!
//! Serves the example plugins over HTTP; see the crate's documentation for
//! the endpoints. `RUST_LOG` sets the log filter (by default `info`);
//! `HOG_THREADS` the threads of the hostile `hog` route (by default 1; 0
//! runs its calls on the threads that serve HTTP, to see what that costs).

use std::io::IsTerminal;
use std::net::Ipv4Addr;

use tracing_subscriber::EnvFilter;
use web_service_example::ServiceConfig;

// ANCHOR: main
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs (the plugins' logs and the audit trail among them) go to stderr.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(text) => text.parse().map_err(|e| {
            format!("PORT=`{text}` is not a port number ({e}); unset it or give one such as 8080")
        })?,
        Err(_) => 8080,
    };

    let mut config = ServiceConfig::default();
    if let Ok(text) = std::env::var("HOG_THREADS") {
        config.hog.threads = text.parse().map_err(|e| {
            format!(
                "HOG_THREADS=`{text}` is not a thread count ({e}); unset it or give one such as 1"
            )
        })?;
    }

    let app = web_service_example::router(config).await?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // Stop accepting on Ctrl-C and let running requests finish.
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
// ANCHOR_END: main
