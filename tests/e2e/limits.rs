//! The hostile DoS suite: the `hog` plugin tries to exhaust CPU, memory,
//! stack, tables, time and output. Each attempt must end in one typed error
//! within about twice its limit (the bounds asserted here are generous, for
//! a loaded CI machine; `cargo run --example limits` prints exact times),
//! and the next call on the same sandbox must work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use example_interfaces::{HogPlugin, recursion_result};
use wasm_sandbox::component::Val;
use wasm_sandbox::{
    CapabilityKind, Engine, EngineConfig, Error, Interruption, Limit, ResourceLimits,
    SecurityPolicy, TrapCode, WasmSandbox,
};

/// Bounds a hostile call's running time: twice its limit plus slack for a
/// busy machine.
fn within(limit: Duration) -> Duration {
    2 * limit + Duration::from_secs(2)
}

async fn hog(
    builder: impl FnOnce(wasm_sandbox::SandboxBuilder) -> wasm_sandbox::SandboxBuilder,
) -> WasmSandbox {
    builder(WasmSandbox::builder().source(example_plugins::HOG))
        .build()
        .await
        .expect("the hog plugin loads")
}

/// After a failed call: the sandbox replaced its instance, recorded the
/// limit in the audit log, and answers the next call.
async fn assert_recovers(sandbox: &WasmSandbox, instances_before: u64) {
    let plugin = HogPlugin::load(sandbox).unwrap();
    assert_eq!(plugin.add_one(41).await.unwrap(), 42);
    assert_eq!(
        sandbox.instances_created(),
        instances_before + 1,
        "the poisoned instance is replaced by exactly one fresh instance"
    );
}

fn limit_of(err: &Error) -> &Limit {
    match err {
        Error::ResourceLimitExceeded(limit) => limit,
        other => panic!("expected a resource-limit error, got {other:?}: {other}"),
    }
}

#[tokio::test]
async fn an_infinite_loop_stops_at_the_deadline() {
    let timeout = Duration::from_millis(200);
    let sandbox = hog(|b| b.cpu_timeout(timeout)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let start = Instant::now();
    let err = plugin.spin().await.unwrap_err();
    let took = start.elapsed();
    assert_eq!(limit_of(&err), &Limit::Time { deadline: timeout });
    assert!(took >= timeout, "stopped early: {took:?}");
    assert!(took < within(timeout), "took {took:?}");
    assert!(err.to_string().contains("cpu_timeout"), "{err}");
    let limit_events: Vec<_> = sandbox
        .audit_log()
        .events()
        .into_iter()
        .filter(|e| e.capability == CapabilityKind::Limit)
        .collect();
    assert_eq!(limit_events.len(), 1, "{limit_events:?}");
    assert_eq!(limit_events[0].target, "time");
    assert_eq!(
        limit_events[0].call.as_deref(),
        Some("example-interfaces:hog/plugin@0.1.0#spin")
    );
    assert_recovers(&sandbox, 1).await;
}

#[tokio::test]
async fn an_infinite_loop_stops_at_the_deadline_with_fuel_interruption() {
    let mut config = EngineConfig::new();
    config.interruption(Interruption::Fuel);
    let engine = Engine::for_config(&config).unwrap();
    let timeout = Duration::from_millis(200);
    let sandbox = hog(|b| b.engine(&engine).cpu_timeout(timeout)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let start = Instant::now();
    let err = plugin.spin().await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Time { deadline: timeout });
    assert!(start.elapsed() < within(timeout));
    assert_recovers(&sandbox, 1).await;
}

#[tokio::test]
async fn a_fuel_budget_stops_an_infinite_loop() {
    let sandbox = hog(|b| b.fuel(5_000_000)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.spin().await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Fuel { budget: 5_000_000 });
    assert_recovers(&sandbox, 1).await;
    // The budget is per call: many small calls never run out.
    for i in 0..100 {
        assert_eq!(plugin.add_one(i).await.unwrap(), i + 1);
    }
}

#[tokio::test]
async fn fuel_is_a_fuel_error_even_under_a_generous_deadline() {
    let sandbox = hog(|b| b.fuel(1_000_000).cpu_timeout(Duration::from_secs(60))).await;
    let err = HogPlugin::load(&sandbox)
        .unwrap()
        .fib(40)
        .await
        .unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Fuel { budget: 1_000_000 });
}

#[tokio::test]
async fn a_fuel_budget_needs_a_fuel_engine() {
    let mut config = EngineConfig::new();
    config.interruption(Interruption::Epoch);
    let engine = Engine::for_config(&config).unwrap();
    let err = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .engine(&engine)
        .fuel(1000)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("Interruption::Fuel"), "{err}");
}

#[tokio::test]
async fn a_loop_of_host_calls_stops_at_the_deadline_and_its_logs_are_bounded() {
    let timeout = Duration::from_millis(300);
    let sandbox = hog(|b| b.cpu_timeout(timeout).log_output_limit(4096)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let start = Instant::now();
    let err = plugin.spin_logging().await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Time { deadline: timeout });
    assert!(start.elapsed() < within(timeout));
    let events = sandbox.audit_log().events();
    assert!(
        events
            .iter()
            .any(|e| e.capability == CapabilityKind::Limit && e.target == "log-output"),
        "the dropped log output is audited once: {events:?}"
    );
    assert_recovers(&sandbox, 1).await;
}

#[tokio::test]
async fn growing_memory_until_refused_is_a_memory_error() {
    let limit = 8 * 1024 * 1024;
    let sandbox = hog(|b| b.memory_limit(limit)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.grow_memory().await.unwrap_err();
    match limit_of(&err) {
        Limit::Memory { requested, allowed } => {
            assert_eq!(*allowed, limit);
            assert_eq!(*requested, limit + 65536, "one page past the limit");
        }
        other => panic!("{other:?}"),
    }
    assert_recovers(&sandbox, 1).await;
}

#[tokio::test]
async fn one_huge_allocation_is_a_memory_error() {
    let sandbox = hog(|b| b).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.allocate(1 << 30).await.unwrap_err();
    match limit_of(&err) {
        Limit::Memory { requested, allowed } => {
            assert_eq!(*allowed, ResourceLimits::DEFAULT_MEMORY);
            assert!(*requested > 1 << 30, "{requested}");
        }
        other => panic!("{other:?}"),
    }
    assert_recovers(&sandbox, 1).await;
    // An allocation that fits works.
    assert_eq!(plugin.allocate(1 << 20).await.unwrap(), 1 << 20);
}

#[tokio::test]
async fn unbounded_recursion_is_a_stack_error() {
    let sandbox = hog(|b| b).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.recurse(u64::MAX).await.unwrap_err();
    assert_eq!(
        limit_of(&err),
        &Limit::Stack {
            max: ResourceLimits::DEFAULT_STACK
        }
    );
    assert_recovers(&sandbox, 1).await;
    assert_eq!(plugin.recurse(100).await.unwrap(), recursion_result(100));
}

/// A Rust guest keeps addressable locals on a stack of its own in linear
/// memory (1 MiB, below its data). Overflowing that one is not something the
/// engine can see: the guest runs off the start of its memory and traps with
/// an out-of-bounds access. It is still one typed error and a fresh instance.
#[tokio::test]
async fn overflowing_the_guests_own_stack_is_an_out_of_bounds_trap() {
    let sandbox = hog(|b| b).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.recurse_in_memory(u64::MAX).await.unwrap_err();
    match &err {
        Error::Trap { code, .. } => assert_eq!(*code, Some(TrapCode::MemoryOutOfBounds)),
        other => panic!("{other:?}"),
    }
    assert_recovers(&sandbox, 1).await;
    assert_eq!(plugin.recurse_in_memory(100).await.unwrap(), 100);
}

#[tokio::test]
async fn a_smaller_stack_limit_stops_recursion_sooner() {
    let sandbox = hog(|b| b.max_stack(64 * 1024)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    // Deep enough for the default 512 KiB, too deep for 64 KiB.
    let err = plugin.recurse(2_000).await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Stack { max: 64 * 1024 });
    let default = hog(|b| b).await;
    assert_eq!(
        HogPlugin::load(&default)
            .unwrap()
            .recurse(2_000)
            .await
            .unwrap(),
        recursion_result(2_000)
    );
}

/// A component whose only function grows a table by 1000 elements at a time
/// until `table.grow` fails, and returns how often it succeeded.
const TABLE_GROWER: &str = r#"
(component
  (core module $m
    (table $t 1 funcref)
    (func (export "grow") (result i32)
      (local $n i32)
      (block $done
        (loop $again
          (br_if $done
            (i32.eq (table.grow $t (ref.null func) (i32.const 1000)) (i32.const -1)))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br $again)))
      (local.get $n)))
  (core instance $i (instantiate $m))
  (func (export "grow-table") (result u32) (canon lift (core func $i "grow")))
)
"#;

#[tokio::test]
async fn growing_a_table_is_a_table_error() {
    let sandbox = WasmSandbox::builder()
        .bytes(TABLE_GROWER)
        .table_elements(10_000)
        .build()
        .await
        .unwrap();
    let err = sandbox.call::<_, u32>("grow-table", ()).await.unwrap_err();
    assert_eq!(
        limit_of(&err),
        &Limit::Table {
            requested: 10_001,
            allowed: 10_000
        }
    );
    // The same again on the fresh instance.
    let err = sandbox.call::<_, u32>("grow-table", ()).await.unwrap_err();
    assert!(matches!(limit_of(&err), Limit::Table { .. }));
    // Built once, replaced once before the second call.
    assert_eq!(sandbox.instances_created(), 2);
}

#[tokio::test]
async fn memory_declared_past_the_limit_fails_the_build() {
    let wat = r#"(component
        (core module $m (memory 2048))
        (core instance $i (instantiate $m)))"#;
    let err = WasmSandbox::builder().bytes(wat).build().await.unwrap_err();
    assert_eq!(
        limit_of(&err),
        &Limit::Memory {
            requested: 2048 * 65536,
            allowed: ResourceLimits::DEFAULT_MEMORY
        }
    );
    assert!(err.to_string().contains("memory_limit"), "{err}");
}

#[tokio::test]
async fn too_many_instances_fail_the_build() {
    let err = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .max_core_instances(1)
        .build()
        .await
        .unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Instances { allowed: 1 });
    // The limits come from a policy file just as well.
    let policy = SecurityPolicy::from_toml("[limits]\ninstances = 1\n").unwrap();
    let err = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .security_policy(policy)
        .build()
        .await
        .unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Instances { allowed: 1 });
}

/// Builds `wat` with `max_core_instances(allowed)`.
async fn build_with_instances(wat: &str, allowed: usize) -> Result<WasmSandbox, Error> {
    WasmSandbox::builder()
        .bytes(wat.as_bytes().to_vec())
        .max_core_instances(allowed)
        .build()
        .await
}

#[tokio::test]
async fn core_instances_memories_and_tables_are_counted_before_anything_runs() {
    // Three instantiations of a module whose start function would trap:
    // refused at build time with `Limit::Instances` when two are allowed
    // (nothing ran: a start function that ran would be a trap instead);
    // at exactly three the build gets as far as running it.
    let three = r#"(component
        (core module $m (func $start unreachable) (start $start))
        (core instance (instantiate $m))
        (core instance (instantiate $m))
        (core instance (instantiate $m)))"#;
    let err = build_with_instances(three, 2).await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Instances { allowed: 2 });
    assert!(err.to_string().contains("max_core_instances"), "{err}");
    let err = build_with_instances(three, 3).await.unwrap_err();
    assert!(matches!(err, Error::Instantiate { .. }), "{err:?}");

    // A nested component instantiated twice makes its instances twice.
    let nested = r#"(component
        (component $c
            (core module $m)
            (core instance (instantiate $m))
            (core instance (instantiate $m)))
        (instance (instantiate $c))
        (instance (instantiate $c)))"#;
    let err = build_with_instances(nested, 3).await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Instances { allowed: 3 });
    build_with_instances(nested, 4).await.unwrap();

    // One instance with two tables, one with two memories' worth of
    // modules: the tables and memories count on their own.
    let tables = r#"(component
        (core module $m (table 1 funcref) (table 1 funcref))
        (core instance (instantiate $m)))"#;
    let err = build_with_instances(tables, 1).await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Instances { allowed: 1 });
    build_with_instances(tables, 2).await.unwrap();
    let memories = r#"(component
        (core module $a (memory 1))
        (core module $b (memory 1))
        (core instance (instantiate $a))
        (core instance (instantiate $b)))"#;
    let err = build_with_instances(memories, 1).await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Instances { allowed: 1 });
    let sandbox = build_with_instances(memories, 2).await.unwrap();
    assert_eq!(sandbox.instances_created(), 1);
}

#[tokio::test]
async fn sleeping_past_the_deadline_is_cancelled() {
    let timeout = Duration::from_millis(200);
    let sandbox = hog(|b| b.cpu_timeout(timeout)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let start = Instant::now();
    let err = plugin.sleep(60_000).await.unwrap_err();
    let took = start.elapsed();
    assert_eq!(limit_of(&err), &Limit::Time { deadline: timeout });
    assert!(took < within(timeout), "took {took:?}");
    assert_recovers(&sandbox, 1).await;
    // A short sleep is fine.
    assert_eq!(plugin.sleep(5).await.unwrap(), 5);
}

#[tokio::test]
async fn a_100_mib_string_is_a_memory_error() {
    let sandbox = hog(|b| b).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.big_string(100 << 20).await.unwrap_err();
    assert!(matches!(limit_of(&err), Limit::Memory { .. }), "{err}");
    assert_recovers(&sandbox, 1).await;
}

#[tokio::test]
async fn a_dynamic_result_past_the_output_bound_is_an_output_error() {
    let sandbox = hog(|b| b.max_output(1 << 20)).await;
    let err = sandbox
        .call_dynamic("plugin#big-string", &[Val::U64(2 << 20)])
        .await
        .unwrap_err();
    assert_eq!(
        limit_of(&err),
        &Limit::Output {
            size: 2 << 20,
            allowed: 1 << 20
        }
    );
    let err = sandbox
        .call_dynamic("plugin#big-list", &[Val::U32(2048), Val::U32(1024)])
        .await
        .unwrap_err();
    assert!(matches!(limit_of(&err), Limit::Output { .. }), "{err}");
    // The plugin did nothing wrong: the instance is kept.
    assert_eq!(sandbox.instances_created(), 1);
    let ok = sandbox
        .call_dynamic("plugin#big-string", &[Val::U64(1000)])
        .await
        .unwrap();
    assert!(matches!(&ok[..], [Val::String(s)] if s.len() == 1000));
}

#[tokio::test]
async fn a_trap_while_writing_output_is_a_trap_with_the_output_so_far() {
    let sandbox = hog(|b| b).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.trap_mid_output(10).await.unwrap_err();
    match &err {
        Error::Trap {
            code,
            guest_stderr,
            backtrace,
            ..
        } => {
            assert_eq!(*code, Some(TrapCode::UnreachableCodeReached));
            assert_eq!(
                guest_stderr.last().map(String::as_str),
                Some("writing line 5")
            );
            assert!(backtrace.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_recovers(&sandbox, 1).await;
}

#[tokio::test]
async fn a_panic_is_a_trap_with_the_panic_message() {
    let sandbox = hog(|b| b).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin
        .panic("the plugin gave up".to_string())
        .await
        .unwrap_err();
    match &err {
        Error::Trap {
            code, guest_stderr, ..
        } => {
            assert_eq!(*code, Some(TrapCode::UnreachableCodeReached));
            assert!(
                guest_stderr
                    .iter()
                    .any(|l| l.contains("the plugin gave up")),
                "{guest_stderr:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("the plugin gave up"), "{err}");
    assert_recovers(&sandbox, 1).await;
}

#[tokio::test]
async fn a_failed_call_starts_the_next_from_a_fresh_state() {
    let sandbox = hog(|b| b.cpu_timeout(Duration::from_millis(100))).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    assert_eq!(plugin.remember(5).await.unwrap(), 0);
    assert_eq!(
        plugin.remember(6).await.unwrap(),
        5,
        "state is kept between good calls"
    );
    plugin.spin().await.unwrap_err();
    assert_eq!(plugin.remember(7).await.unwrap(), 0, "a fresh instance");
    assert_eq!(sandbox.instances_created(), 2);
}

#[tokio::test]
async fn a_cancelled_call_poisons_the_instance() {
    let sandbox = hog(|b| b).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    plugin.remember(9).await.unwrap();
    // The caller gives up first.
    let gave_up = tokio::time::timeout(Duration::from_millis(50), plugin.sleep(10_000)).await;
    assert!(gave_up.is_err());
    assert_eq!(plugin.remember(1).await.unwrap(), 0);
    assert_eq!(sandbox.instances_created(), 2);
}

#[tokio::test]
async fn the_report_says_what_a_call_consumed() {
    let sandbox = hog(|b| b.fuel(1_000_000_000)).await;
    let (n, report) = sandbox
        .call_with_report::<_, u64>("plugin#fib", (20u32,))
        .await
        .unwrap();
    assert_eq!(n, 6765);
    let fuel = report.fuel_consumed.unwrap();
    assert!(fuel > 20_000, "fib(20) makes over 20 000 calls: {fuel}");
    assert!(report.peak_memory >= 65536, "{report:?}");
    assert!(report.wall_time > Duration::ZERO);
    let (_, small) = sandbox
        .call_with_report::<_, u64>("plugin#fib", (5u32,))
        .await
        .unwrap();
    assert!(small.fuel_consumed.unwrap() < fuel);

    // Each log line is a call into the host.
    let (written, report) = sandbox
        .call_with_report::<_, u64>("plugin#log-flood", (10 * 1024u64,))
        .await
        .unwrap();
    assert_eq!(written, 10 * 1024);
    assert_eq!(report.host_calls, 10, "{report:?}");
    // So is each WASI function (a sleep subscribes to a clock and waits).
    let (_, report) = sandbox
        .call_with_report::<_, u64>("plugin#sleep", (1u64,))
        .await
        .unwrap();
    assert!(report.host_calls >= 2, "{report:?}");
    // Pure computation makes none.
    let (_, report) = sandbox
        .call_with_report::<_, u64>("plugin#fib", (20u32,))
        .await
        .unwrap();
    assert_eq!(report.host_calls, 0, "{report:?}");

    // Memory growth shows in the peak.
    let (_, report) = sandbox
        .call_with_report::<_, u64>("plugin#allocate", (8u64 << 20,))
        .await
        .unwrap();
    assert!(report.peak_memory >= 8 << 20, "{report:?}");
    // Without a fuel budget, no fuel is reported.
    let plain = hog(|b| b).await;
    let (_, report) = plain
        .call_with_report::<_, u32>("plugin#add-one", (1u32,))
        .await
        .unwrap();
    assert_eq!(report.fuel_consumed, None);
}

#[tokio::test]
async fn limits_come_from_the_policy_file() {
    let policy =
        SecurityPolicy::from_toml("[limits]\ncpu_timeout_ms = 150\nmemory = 4194304\n").unwrap();
    let sandbox = hog(|b| b.security_policy(policy)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.spin().await.unwrap_err();
    assert_eq!(
        limit_of(&err),
        &Limit::Time {
            deadline: Duration::from_millis(150)
        }
    );
    let err = plugin.allocate(8 << 20).await.unwrap_err();
    assert!(matches!(
        limit_of(&err),
        Limit::Memory {
            allowed: 4194304,
            ..
        }
    ));
    // The builder wins over the policy.
    let policy = SecurityPolicy::from_toml("[limits]\ncpu_timeout_ms = 150\n").unwrap();
    let sandbox = hog(|b| {
        b.security_policy(policy)
            .cpu_timeout(Duration::from_millis(400))
    })
    .await;
    let err = HogPlugin::load(&sandbox).unwrap().spin().await.unwrap_err();
    assert_eq!(
        limit_of(&err),
        &Limit::Time {
            deadline: Duration::from_millis(400)
        }
    );
}

#[test]
fn the_blocking_sandbox_enforces_the_deadline() {
    let timeout = Duration::from_millis(200);
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .cpu_timeout(timeout)
        .build_blocking()
        .unwrap();
    let start = Instant::now();
    let err = sandbox
        .call::<_, u64>("plugin#sleep", (60_000u64,))
        .unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Time { deadline: timeout });
    assert!(start.elapsed() < within(timeout));
    let err = sandbox.call::<_, u64>("plugin#spin", ()).unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Time { deadline: timeout });
    assert_eq!(
        sandbox.call::<_, u32>("plugin#add-one", (1u32,)).unwrap(),
        2
    );
}

/// Hostile and good calls interleaved from many tasks on two worker threads:
/// on one shared sandbox and on sandboxes of their own. Every good call
/// returns the right answer.
#[test]
fn hostile_and_good_calls_interleave_on_two_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let timeout = Duration::from_millis(150);
        let shared = Arc::new(hog(|b| b.cpu_timeout(timeout).memory_limit(16 << 20)).await);
        let mut tasks = Vec::new();
        for t in 0..4u32 {
            let sandbox = shared.clone();
            tasks.push(tokio::spawn(async move {
                let own = hog(|b| b.cpu_timeout(timeout).memory_limit(16 << 20)).await;
                let mut good = 0;
                for round in 0..6u32 {
                    for target in [&*sandbox, &own] {
                        let plugin = HogPlugin::load(target).unwrap();
                        let err = match (t + round) % 5 {
                            0 => plugin.spin().await.unwrap_err(),
                            1 => plugin.recurse(u64::MAX).await.unwrap_err(),
                            2 => plugin.allocate(1 << 30).await.unwrap_err(),
                            3 => plugin.sleep(60_000).await.unwrap_err(),
                            _ => plugin.panic("no").await.unwrap_err(),
                        };
                        assert!(
                            matches!(err, Error::ResourceLimitExceeded(_) | Error::Trap { .. }),
                            "{err:?}"
                        );
                        let x = t * 1000 + round;
                        assert_eq!(plugin.add_one(x).await.unwrap(), x + 1);
                        good += 1;
                    }
                }
                good
            }));
        }
        // Meanwhile a well-behaved plugin keeps answering.
        let greeter = crate::greeter().await;
        for i in 0..50 {
            let text: String = greeter
                .call("plugin#greet", (format!("n{i}"),))
                .await
                .unwrap();
            assert_eq!(text, format!("Hello, n{i}!"));
            tokio::task::yield_now().await;
        }
        let mut good = 0;
        for task in tasks {
            good += task.await.expect("no task panicked");
        }
        assert_eq!(good, 4 * 6 * 2);
    });
}

#[tokio::test]
async fn the_example_policy_file_sets_every_limit() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../example-plugins/policies/untrusted.toml");
    let policy = SecurityPolicy::from_file(&path).unwrap();
    let limits = policy.limits().unwrap();
    assert_eq!(limits.memory, Some(32 << 20));
    assert_eq!(limits.cpu_timeout_ms, Some(500));
    assert_eq!(limits.fuel, Some(500_000_000));
    assert_eq!(limits.max_stack, Some(256 << 10));
    assert_eq!(limits.table_elements, Some(10_000));
    assert_eq!(limits.instances, Some(20));
    assert_eq!(limits.log_output, Some(64 << 10));
    assert_eq!(limits.max_output, Some(1 << 20));
    let sandbox = hog(|b| b.security_policy(policy)).await;
    let plugin = HogPlugin::load(&sandbox).unwrap();
    let err = plugin.recurse(u64::MAX).await.unwrap_err();
    assert_eq!(limit_of(&err), &Limit::Stack { max: 256 << 10 });
    let err = plugin.allocate(64 << 20).await.unwrap_err();
    assert!(matches!(limit_of(&err), Limit::Memory { allowed, .. } if *allowed == 32 << 20));
    let err = plugin.fib(50).await.unwrap_err();
    assert!(
        matches!(limit_of(&err), Limit::Fuel { .. } | Limit::Time { .. }),
        "fib(50) runs out of fuel or time, whichever comes first on this machine: {err}"
    );
}
