//! The profiler: stack samples that name the hot function, and the report's
//! counters.

use wasm_sandbox::{ProfileConfig, SandboxPool, WasmSandbox};

/// Every function name in a Firefox Profiler file (processed format): the
/// strings of each thread's string table.
fn profile_strings(json: &serde_json::Value) -> Vec<String> {
    let mut strings = Vec::new();
    let mut stack = vec![json];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::String(s) => strings.push(s.clone()),
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    strings
}

#[tokio::test]
async fn samples_of_a_cpu_heavy_export_name_its_hot_function() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("hog.json");
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .profiler(ProfileConfig::new().output(&output))
        .build()
        .await
        .unwrap();
    // Long enough for many 10 ms samples.
    let n: u64 = sandbox.call("plugin#fib", (35u32,)).await.unwrap();
    assert_eq!(n, 9_227_465);
    assert_eq!(sandbox.write_profile().unwrap().as_deref(), Some(&*output));

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&output).unwrap()).expect("the profile is JSON");
    assert!(
        json["meta"].is_object(),
        "a Firefox Profiler file has `meta`"
    );
    let strings = profile_strings(&json);
    let fib_frames = strings.iter().filter(|s| s.contains("fib")).count();
    assert!(
        fib_frames > 0,
        "the samples name the hot function `fib`; names seen: {:?}",
        strings.iter().take(50).collect::<Vec<_>>()
    );

    let report = sandbox.profile_report().unwrap();
    assert!(report.samples > 0, "{report:?}");
    let fib = &report.calls["example-interfaces:hog/plugin@0.1.0#fib"];
    assert_eq!(fib.count, 1);
    assert!(fib.time <= report.guest_time);
    assert!(report.peak_memory > 0);
    // The table names the export.
    assert!(report.to_string().contains("plugin@0.1.0#fib"), "{report}");
}

#[tokio::test]
async fn the_report_counts_calls_and_host_calls_per_interface() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .profiler(ProfileConfig::new())
        .build()
        .await
        .unwrap();
    for x in 0..3u32 {
        let _: u32 = sandbox.call("plugin#add-one", (x,)).await.unwrap();
    }
    let written: u64 = sandbox
        .call("plugin#log-flood", (4 * 1024u64,))
        .await
        .unwrap();
    assert_eq!(written, 4 * 1024);
    let _: u64 = sandbox.call("plugin#sleep", (1u64,)).await.unwrap();
    let _ = sandbox.call::<_, u32>("plugin#panic", ("x",)).await;

    let report = sandbox.profile_report().unwrap();
    let calls = |name: &str| report.calls[&format!("example-interfaces:hog/plugin@0.1.0#{name}")];
    assert_eq!(calls("add-one").count, 3);
    assert_eq!(calls("log-flood").count, 1);
    assert_eq!(calls("panic").count, 1, "failed calls count too");
    assert_eq!(report.host_calls["sandbox:host/logging"], 4, "{report:?}");
    assert!(
        report.host_calls["wasi"] >= 2,
        "the sleep uses WASI clocks: {report:?}"
    );
    assert_eq!(report.samples, 0, "no output file: counters only");
    assert!(sandbox.write_profile().unwrap().is_none());
    // Without the profiler there is no report.
    let plain = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .build()
        .await
        .unwrap();
    assert!(plain.profile_report().is_none());
}

#[tokio::test]
async fn a_pool_profiles_all_its_instances_into_one_report() {
    let pool = SandboxPool::builder()
        .source(example_plugins::HOG)
        .max_instances(2)
        .profiler(ProfileConfig::new())
        .build()
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        pool.call::<_, u64>("plugin#sleep", (20u64,)),
        pool.call::<_, u64>("plugin#sleep", (20u64,))
    );
    a.unwrap();
    b.unwrap();
    let report = pool.profile_report().unwrap();
    assert_eq!(
        report.calls["example-interfaces:hog/plugin@0.1.0#sleep"].count,
        2
    );
}

#[tokio::test]
async fn sampling_with_a_fuel_engine_is_refused() {
    let err = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .fuel(1_000_000)
        .profiler(ProfileConfig::new().output("unused.json"))
        .build()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("needs epoch interruption"),
        "{err}"
    );
}
