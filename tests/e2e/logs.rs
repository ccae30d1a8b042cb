//! A call's log lines in `CallReport::logs`: the plugin's `log` calls and
//! its stderr lines, in order, within the call's log budget, and only that
//! call's.

use wasm_sandbox::{CallReport, LogLevel, LogSource, WasmSandbox};

async fn sandbox(path: &str, log_output: usize) -> WasmSandbox {
    WasmSandbox::builder()
        .source(path)
        .log_output_limit(log_output)
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn stderr_lines_are_collected_with_the_call() {
    let probe = sandbox(example_plugins::TYPE_PROBE, 64 * 1024).await;
    // ANCHOR: report_logs
    let (_, report): (u64, CallReport) = probe
        .call_with_report("complain", ("disk is full".to_string(), 2u32))
        .await
        .unwrap();
    for line in &report.logs {
        println!("{:?} from {:?}: {}", line.level, line.source, line.message);
    }
    // ANCHOR_END: report_logs
    assert_eq!(report.logs.len(), 2);
    assert!(report.logs.iter().all(|l| l.source == LogSource::Stderr
        && l.level == LogLevel::Warn
        && l.message == "disk is full"));
    // A call without a report collects nothing; the next report has only
    // its own call's lines.
    let _: u64 = probe
        .call("complain", ("not collected".to_string(), 3u32))
        .await
        .unwrap();
    let (_, report): (u64, CallReport) = probe
        .call_with_report("complain", ("second".to_string(), 1u32))
        .await
        .unwrap();
    let messages: Vec<&str> = report.logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["second"]);
    let (_, report): (u64, CallReport) = probe
        .call_with_report("complain", ("".to_string(), 0u32))
        .await
        .unwrap();
    assert!(report.logs.is_empty());
}

#[tokio::test]
async fn log_calls_are_collected_within_the_budget() {
    let hog = sandbox(example_plugins::HOG, 64 * 1024).await;
    let (_, report): (u64, CallReport) =
        hog.call_with_report("log-flood", (3000u64,)).await.unwrap();
    assert_eq!(report.logs.len(), 3);
    assert!(report.logs.iter().all(|l| l.source == LogSource::Log
        && l.level == LogLevel::Info
        && l.message.len() == 1023));

    // A flood past the budget: what fits is collected, the rest dropped,
    // so the report cannot grow past the limit.
    let hog = sandbox(example_plugins::HOG, 4096).await;
    let (_, report): (u64, CallReport) = hog
        .call_with_report("log-flood", (1_000_000u64,))
        .await
        .unwrap();
    let bytes: usize = report.logs.iter().map(|l| l.message.len()).sum();
    assert!(bytes <= 4096, "{bytes}");
    assert!(!report.logs.is_empty());
    assert!(
        hog.audit_log()
            .violations()
            .iter()
            .any(|e| e.target == "log-output"),
        "the cut is audited"
    );
}
