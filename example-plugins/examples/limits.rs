//! Run with: `cargo run --example limits`
//!
//! The `hog` plugin tries to exhaust the host in every way it can. Each
//! attempt ends in one typed error, the time it took to stop is printed, and
//! the next call on the same sandbox works.

use std::time::{Duration, Instant};

use example_interfaces::HogPlugin;
use std::path::PathBuf;

use wasm_sandbox::{Error, Limit, SecurityPolicy, WasmSandbox};

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    // ANCHOR: builder
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .memory_limit(32 * 1024 * 1024) // 32 MiB over all memories
        .cpu_timeout(Duration::from_millis(200)) // wall clock, per call
        .max_stack(256 * 1024) // guest wasm stack
        .log_output_limit(64 * 1024) // log + stderr bytes per call
        .build()
        .await?;
    let plugin = HogPlugin::load(&sandbox)?;
    // ANCHOR_END: builder

    println!("{:<30} {:>10}  error", "hostile call", "stopped in");
    stop("spin() (infinite loop)", plugin.spin()).await;
    // ANCHOR: recover
    // One bad call never breaks the next: a fresh instance answers.
    assert_eq!(plugin.add_one(41).await?, 42);
    // ANCHOR_END: recover
    stop("spin_logging() (log forever)", plugin.spin_logging()).await;
    stop("grow_memory() (until refused)", plugin.grow_memory()).await;
    stop("allocate(1 GiB)", plugin.allocate(1 << 30)).await;
    stop("recurse(u64::MAX)", plugin.recurse(u64::MAX)).await;
    stop("sleep(60 s) (WASI clocks)", plugin.sleep(60_000)).await;
    stop("big_string(100 MiB)", plugin.big_string(100 << 20)).await;
    stop("trap_mid_output(10)", plugin.trap_mid_output(10)).await;
    stop("panic(\"no\")", plugin.panic("no".to_string())).await;
    assert_eq!(plugin.add_one(1).await?, 2);
    println!(
        "\n{} instances created (1 at build, 1 after each failed call)",
        sandbox.instances_created()
    );

    // ANCHOR: fuel
    let counted = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .fuel(50_000_000) // instructions, roughly; refilled for every call
        .build()
        .await?;
    let (n, report) = counted
        .call_with_report::<_, u64>("plugin#fib", (25u32,))
        .await?;
    println!(
        "\nfib(25) = {n}: {:?}, {} fuel, peak memory {} KiB, {} host calls",
        report.wall_time,
        report.fuel_consumed.unwrap_or_default(),
        report.peak_memory / 1024,
        report.host_calls
    );
    match counted.call::<_, u64>("plugin#fib", (40u32,)).await {
        Err(Error::ResourceLimitExceeded(Limit::Fuel { budget })) => {
            println!("fib(40) ran out of its {budget} units of fuel");
        }
        other => panic!("expected a fuel error, got {other:?}"),
    }
    // ANCHOR_END: fuel

    // ANCHOR: policy_file
    let policy = SecurityPolicy::from_file(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/untrusted.toml"),
    )?;
    let strict = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .security_policy(policy)
        .build()
        .await?;
    // ANCHOR_END: policy_file
    let err = strict.call::<_, u64>("plugin#spin", ()).await.unwrap_err();
    println!("\nunder policies/untrusted.toml, spin(): {err}");
    Ok(())
}

// ANCHOR: handle
/// One line about a failed call, by kind of failure.
fn short(err: &Error) -> String {
    match err {
        // The plugin used too much of something. Its instance is gone; the
        // next call runs on a fresh one.
        Error::ResourceLimitExceeded(limit) => {
            format!("ResourceLimitExceeded({}): {limit}", limit.name())
        }
        // The guest trapped: a panic, `unreachable`, an out-of-bounds access.
        Error::Trap {
            code, guest_stderr, ..
        } => format!(
            "Trap({}){}",
            code.map_or("host".to_string(), |c| format!("{c:?}")),
            // A panic's message comes before the note about backtraces.
            guest_stderr
                .iter()
                .find(|l| l.contains("panicked"))
                .or(guest_stderr.last())
                .map(|l| format!(", stderr: {l:?}"))
                .unwrap_or_default()
        ),
        // The plugin used something its policy does not grant.
        Error::SecurityViolation { target, .. } => format!("SecurityViolation: {target}"),
        // Loading failures and mistakes in the call itself.
        other => other.to_string(),
    }
}
// ANCHOR_END: handle

/// Runs one hostile call, and prints how long it took to fail and how.
async fn stop<T: std::fmt::Debug>(
    name: &str,
    call: impl std::future::Future<Output = wasm_sandbox::Result<T>>,
) {
    let start = Instant::now();
    let outcome = call.await;
    let took = start.elapsed();
    let err = outcome.expect_err("every hostile call fails");
    println!("{name:<30} {:>10}  {}", format!("{took:.1?}"), short(&err));
}
