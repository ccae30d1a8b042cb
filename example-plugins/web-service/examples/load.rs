//! Run with: `cargo run -p web-service-example --example load -- [REQUESTS] [CONCURRENCY] [SPINNERS]`
//! while the service runs (`cargo run -p web-service-example`; `ADDR`
//! overrides 127.0.0.1:8080).
//!
//! Sends REQUESTS (default 2000) `POST /greet` requests over CONCURRENCY
//! (default 8) keep-alive connections and prints the throughput, the
//! latency percentiles and the statuses. With SPINNERS > 0, that many
//! clients keep asking the hostile `hog` plugin to `spin` (each request
//! ends at the hog's 500 ms deadline with a 504) for the whole run, to show
//! what a hostile plugin costs the good requests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Opens a keep-alive HTTP/1 connection.
async fn connect(addr: &str) -> Result<SendRequest<Full<Bytes>>, Error> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends one JSON `POST` and returns its status once the body is read.
async fn post(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: &str,
    path: &str,
    body: &'static str,
) -> Result<u16, Error> {
    sender.ready().await?;
    let request = hyper::Request::post(path)
        .header("host", addr)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    Ok(status)
}

fn arg(n: usize, default: usize) -> Result<usize, Error> {
    match std::env::args().nth(n) {
        Some(text) => Ok(text
            .parse()
            .map_err(|e| format!("argument {n} (`{text}`) is not a count: {e}"))?),
        None => Ok(default),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_string());
    let requests = arg(1, 2000)?.max(1);
    let concurrency = arg(2, 8)?.max(1);
    let spinners = arg(3, 0)?;

    // The hostile load: each spinner asks the hog to spin, again and again.
    let done = Arc::new(AtomicBool::new(false));
    let spins = Arc::new(AtomicUsize::new(0));
    let mut hostile = Vec::new();
    for _ in 0..spinners {
        let (addr, done, spins) = (addr.clone(), done.clone(), spins.clone());
        hostile.push(tokio::spawn(async move {
            let mut sender = connect(&addr).await?;
            while !done.load(Ordering::Relaxed) {
                // 504 at the hog's deadline; 503 when more clients spin
                // than the hog has instances.
                let status = post(&mut sender, &addr, "/hog/spin", "{}").await?;
                if status != 504 && status != 503 {
                    return Err(format!("a spin answered {status}, not 504 or 503").into());
                }
                if status == 504 {
                    spins.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<(), Error>(())
        }));
    }
    if spinners > 0 {
        // Let the spinners take their instances first.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (addr, next) = (addr.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut sender = connect(&addr).await?;
            let mut results = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let sent = Instant::now();
                let status = post(&mut sender, &addr, "/greet", r#"{"name":"Ada"}"#).await?;
                results.push((status, sent.elapsed()));
            }
            Ok::<_, Error>(results)
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut statuses = BTreeMap::new();
    for worker in workers {
        for (status, latency) in worker.await?? {
            *statuses.entry(status).or_insert(0usize) += 1;
            latencies.push(latency);
        }
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    for task in hostile {
        task.await??;
    }

    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "{requests} POST /greet over {concurrency} connections, {spinners} clients spinning the hog"
    );
    println!(
        "  {:.0} requests/s; latency p50 {:?}, p99 {:?}, max {:?}",
        requests as f64 / elapsed.as_secs_f64(),
        pct(50),
        pct(99),
        latencies[latencies.len() - 1]
    );
    println!("  statuses: {statuses:?}");
    if spinners > 0 {
        println!(
            "  hog spins ended with 504: {}",
            spins.load(Ordering::Relaxed)
        );
    }
    Ok(())
}
