//! Command components (a `main` built for wasm32-wasip2, exporting
//! `wasi:cli/run`): arguments, environment, stdin, captured output, exit
//! status, panics, limits, and what the policy refuses them.

use std::time::Duration;

use wasm_sandbox::{
    Capability, CapabilityKind, CommandStatus, Decision, Error, ImportCheck, Limit, SecurityPolicy,
    WasmSandbox,
};

/// The `hello` command under `policy`. A Rust program imports the whole
/// filesystem interface, so a policy without file grants needs
/// `ImportCheck::Warn` to load it (each use is then refused).
async fn hello(policy: SecurityPolicy) -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::HELLO)
        .security_policy(policy)
        .build()
        .await
        .expect("the hello command loads")
}

fn warn() -> SecurityPolicy {
    SecurityPolicy::strict().import_check(ImportCheck::Warn)
}

// ANCHOR: run
#[tokio::test]
async fn a_command_gets_its_arguments_and_its_output_comes_back() {
    let sandbox = hello(warn()).await;
    assert!(sandbox.is_command());
    let output = sandbox
        .command()
        .args(["echo", "one", "two words"])
        .run()
        .await
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(output.stdout_text(), "one\ntwo words\n");
    assert!(output.stderr.is_empty());
}
// ANCHOR_END: run

#[tokio::test]
async fn with_no_arguments_it_greets_and_it_can_run_again() {
    let sandbox = hello(warn()).await;
    for _ in 0..3 {
        let output = sandbox.command().run().await.unwrap();
        assert_eq!(output.stdout_text(), "hello, world\n");
    }
}

#[tokio::test]
async fn stdin_is_the_bytes_given_and_is_empty_by_default() {
    let sandbox = hello(warn()).await;
    let output = sandbox
        .command()
        .arg("shout")
        .stdin("quiet please\n")
        .run()
        .await
        .unwrap();
    assert_eq!(output.stdout_text(), "QUIET PLEASE\n");
    let output = sandbox.command().arg("shout").run().await.unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout_text(), "");
}

#[tokio::test]
async fn exit_is_a_status_not_a_trap() {
    let sandbox = hello(warn()).await;
    let output = sandbox.command().args(["exit", "0"]).run().await.unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(output.stdout_text(), "exiting with 0\n");
    let output = sandbox.command().args(["exit", "1"]).run().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(!output.status.success());
    // WASI 0.2's `exit` says only success or failure: 3 arrives as 1.
    let output = sandbox.command().args(["exit", "3"]).run().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    // A failing program's own message is on its stderr.
    let output = sandbox.command().arg("bogus").run().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stderr_text().contains("unknown command \"bogus\""),
        "{}",
        output.stderr_text()
    );
}

#[tokio::test]
async fn a_panic_is_a_failure_with_its_message_and_the_output_before_it() {
    let sandbox = hello(warn()).await;
    let output = sandbox.command().arg("panic").run().await.unwrap();
    assert_eq!(output.status.code(), None);
    let CommandStatus::Failed(error) = &output.status else {
        panic!("a panic is a failure: {:?}", output.status);
    };
    assert!(matches!(error, Error::Trap { .. }), "{error}");
    assert!(error.to_string().contains("told to panic"), "{error}");
    assert!(output.stderr_text().contains("told to panic"));
    // The sandbox is still usable.
    assert!(sandbox.command().run().await.unwrap().status.success());
}

#[tokio::test]
async fn a_granted_file_is_read_and_anything_else_is_refused_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let granted = dir.path().join("note.txt");
    std::fs::write(&granted, "from the host\n").unwrap();
    let secret = tempfile::tempdir().unwrap();
    let secret_file = secret.path().join("secret.txt");
    std::fs::write(&secret_file, "do not read\n").unwrap();
    let sandbox = hello(
        SecurityPolicy::strict()
            .allow(Capability::FileRead(dir.path().to_path_buf()))
            .import_check(ImportCheck::Warn),
    )
    .await;
    let output = sandbox
        .command()
        .args(["cat", granted.to_str().unwrap()])
        .run()
        .await
        .unwrap();
    assert_eq!(output.stdout_text(), "from the host\n");
    assert!(output.status.success());

    for path in [
        secret_file.to_str().unwrap().to_string(),
        "/etc/passwd".to_string(),
        format!("{}/../{}", dir.path().display(), "x"),
    ] {
        sandbox.audit_log().clear();
        let output = sandbox
            .command()
            .args(["cat", path.as_str()])
            .run()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{path}");
        assert!(output.stdout.is_empty(), "{path}");
        assert!(output.stderr_text().contains("cannot read"), "{path}");
        let violations = sandbox.audit_log().violations();
        assert!(
            violations
                .iter()
                .any(|e| e.capability == CapabilityKind::FileRead && e.decision == Decision::Denied),
            "{path}: {violations:?}"
        );
    }
}

#[tokio::test]
async fn the_environment_is_only_what_the_policy_grants() {
    assert!(
        std::env::var_os("PATH").is_some(),
        "the test needs PATH set"
    );
    let sandbox = hello(warn().allow(Capability::EnvironmentRead(vec![
        "GREETING=hi there".into(),
    ])))
    .await;
    let output = sandbox
        .command()
        .args(["env", "GREETING"])
        .run()
        .await
        .unwrap();
    assert_eq!(output.stdout_text(), "GREETING=hi there\n");
    // The host's own variables stay out unless granted.
    let output = sandbox.command().args(["env", "PATH"]).run().await.unwrap();
    assert_eq!(output.stdout_text(), "PATH is not set\n");
    // Granted by name: the host's value.
    let sandbox = hello(warn().allow(Capability::EnvironmentRead(vec!["PATH".into()]))).await;
    let output = sandbox.command().args(["env", "PATH"]).run().await.unwrap();
    assert_eq!(
        output.stdout_text(),
        format!("PATH={}\n", std::env::var("PATH").unwrap())
    );
}

#[tokio::test]
async fn captured_output_stops_at_the_limit_and_the_cut_is_audited() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HELLO)
        .security_policy(warn())
        .max_output(4096)
        .build()
        .await
        .unwrap();
    let output = sandbox
        .command()
        .args(["spam", "1000000"])
        .run()
        .await
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), 4096);
    assert!(output.stdout_truncated);
    assert!(
        sandbox
            .audit_log()
            .violations()
            .iter()
            .any(|e| e.capability == CapabilityKind::Limit && e.target == "command-stdout"),
        "{:?}",
        sandbox.audit_log().violations()
    );
}

#[tokio::test]
async fn forwarded_output_goes_to_the_writer_as_written() {
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sandbox = hello(warn()).await;
    let out = Shared::default();
    let err = Shared::default();
    let output = sandbox
        .command()
        .args(["cat", "/nowhere"])
        .stdout_to(out.clone())
        .stderr_to(err.clone())
        .run()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
    let err = String::from_utf8(err.0.lock().unwrap().clone()).unwrap();
    assert!(err.contains("cannot read /nowhere"), "{err}");
}

#[tokio::test]
async fn a_program_that_never_ends_is_stopped_by_the_time_limit() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HELLO)
        .security_policy(warn())
        .cpu_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    let output = sandbox.command().arg("spin").run().await.unwrap();
    match &output.status {
        CommandStatus::Failed(Error::ResourceLimitExceeded(Limit::Time { .. })) => {}
        other => panic!("expected the time limit, got {other:?}"),
    }
    assert!(sandbox.command().run().await.unwrap().status.success());
}

#[tokio::test]
async fn a_plugin_that_is_not_a_command_says_so() {
    let sandbox = crate::greeter().await;
    assert!(!sandbox.is_command());
    let err = sandbox.command().run().await.unwrap_err();
    assert!(matches!(err, Error::NotACommand { .. }), "{err}");
    crate::assert_errors_chapter_quotes(&err.to_string());
}

/// A component whose function `quit` calls WASI's `exit(err)`.
const EXITS: &str = r#"
(component
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))))
  (core func $lowered (canon lower (func $exit "exit")))
  (core module $m
    (import "host" "exit" (func $exit (param i32)))
    (func (export "quit") (call $exit (i32.const 1))))
  (core instance $host (export "exit" (func $lowered)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func (export "quit") (canon lift (core func $i "quit"))))
"#;

#[tokio::test]
async fn a_function_that_calls_exit_is_exited_not_a_trap() {
    let sandbox = WasmSandbox::builder()
        .bytes(wat::parse_str(EXITS).unwrap())
        .build()
        .await
        .unwrap();
    let err = sandbox.call::<_, ()>("quit", ()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Exited { function, code: 1 } if function == "quit"),
        "{err:?}"
    );
    crate::assert_errors_chapter_quotes(&err.to_string());
    // The instance was replaced; the next call runs.
    assert!(sandbox.call::<_, ()>("quit", ()).await.is_err());
    assert!(!sandbox.is_command());
}

#[tokio::test]
async fn a_command_s_run_called_by_name_is_a_plain_call() {
    // No arguments, output discarded: the greeting is not seen, and the
    // call returns `ok`.
    let sandbox = hello(warn()).await;
    let result: Result<(), ()> = sandbox.call("run#run", ()).await.unwrap();
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn learn_mode_shows_the_host_environment_and_audits_the_listing() {
    assert!(
        std::env::var_os("PATH").is_some(),
        "the test needs PATH set"
    );
    let sandbox = hello(SecurityPolicy::observe()).await;
    let output = sandbox.command().args(["env", "PATH"]).run().await.unwrap();
    assert_eq!(
        output.stdout_text(),
        format!("PATH={}\n", std::env::var("PATH").unwrap())
    );
    let listing = sandbox
        .audit_log()
        .events()
        .into_iter()
        .find(|e| e.operation == "env-list")
        .expect("the listing is audited");
    assert!(
        listing.target.split(',').any(|name| name == "PATH"),
        "{listing:?}"
    );
    // Which variable it used is unknown: none is granted, and the program's
    // filesystem imports (unused) need `warn` to load.
    let learned = sandbox.audit_log().learned_policy();
    assert!(
        !learned
            .grants()
            .iter()
            .any(|g| matches!(g, Capability::EnvironmentRead(_))),
        "{learned:?}"
    );
    assert_eq!(learned.imports(), ImportCheck::Warn);
    let needs_warn = sandbox.audit_log().learned_policy_needs_warn();
    assert!(
        needs_warn.iter().all(|i| i.starts_with("wasi:filesystem/")) && !needs_warn.is_empty(),
        "{needs_warn:?}"
    );

    // A denied variable stays out, in learn mode too.
    let sandbox =
        hello(SecurityPolicy::observe().deny(Capability::EnvironmentRead(vec!["PATH".into()])))
            .await;
    let output = sandbox.command().args(["env", "PATH"]).run().await.unwrap();
    assert_eq!(output.stdout_text(), "PATH is not set\n");
}

#[tokio::test]
async fn a_learned_policy_keeps_the_default_import_check_when_it_can() {
    // The greeter imports nothing a grant is needed for.
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .security_policy(SecurityPolicy::observe())
        .build()
        .await
        .unwrap();
    let _: String = sandbox.call("greet", ("x",)).await.unwrap();
    let learned = sandbox.audit_log().learned_policy();
    assert_eq!(learned.imports(), ImportCheck::Deny);
    assert!(learned.grants().is_empty());
    assert!(sandbox.audit_log().learned_policy_needs_warn().is_empty());
    // And the learned policy loads it.
    WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .security_policy(learned)
        .build()
        .await
        .unwrap();

    // A program that read a file: the grant satisfies its filesystem
    // imports, so no `warn` either.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "x").unwrap();
    let sandbox = hello(SecurityPolicy::observe()).await;
    let output = sandbox
        .command()
        .args(["cat", file.to_str().unwrap()])
        .run()
        .await
        .unwrap();
    assert!(output.status.success());
    let learned = sandbox.audit_log().learned_policy();
    assert_eq!(learned.imports(), ImportCheck::Deny);
    let loaded = hello(learned).await;
    let output = loaded
        .command()
        .args(["cat", file.to_str().unwrap()])
        .run()
        .await
        .unwrap();
    assert_eq!(output.stdout_text(), "x");
}

#[tokio::test]
async fn concurrent_runs_on_a_pool_each_get_their_own_arguments() {
    let pool = wasm_sandbox::SandboxPool::builder()
        .source(example_plugins::HELLO)
        .security_policy(warn())
        .max_instances(2)
        .build()
        .await
        .unwrap();
    assert!(pool.is_command());
    let runs = (0..6).map(|i| {
        let pool = pool.clone();
        async move {
            let output = pool
                .command()
                .args(["echo", &format!("run {i}")])
                .run()
                .await
                .unwrap();
            (i, output.stdout_text())
        }
    });
    for (i, stdout) in futures_util::future::join_all(runs).await {
        assert_eq!(stdout, format!("run {i}\n"));
    }
}

#[test]
fn a_blocking_sandbox_runs_commands_too() {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::HELLO)
        .security_policy(warn())
        .build_blocking()
        .unwrap();
    assert!(sandbox.is_command());
    let output = sandbox
        .run_command(|run| run.args(["echo", "blocking"]))
        .unwrap();
    assert_eq!(output.stdout_text(), "blocking\n");
    let output = sandbox.run_command(|run| run.args(["exit", "1"])).unwrap();
    assert_eq!(output.status.code(), Some(1));
}
