//! The Deno-style grants: `--allow-*`, `--deny-*` (deny wins) and
//! `--policy`, each checked by what the plugin can then do.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;

use example_plugins::{FETCHER, FILE_READER};

use crate::{Files, outcome, run_cli, wasm_sandbox, wat};

fn read(files: &Files, path: &str, flags: &[&str]) -> crate::Outcome {
    let mut args = vec![
        "run".to_string(),
        FILE_READER.to_string(),
        "read-file".to_string(),
        files.path(path),
    ];
    args.extend(flags.iter().map(|f| f.to_string()));
    outcome(wasm_sandbox().current_dir(files.dir.path()).args(&args))
}

#[test]
fn without_a_file_grant_a_file_reading_plugin_does_not_load() {
    let files = Files::new();
    let out = read(&files, "data/report.txt", &[]).expect(4);
    assert!(
        out.stderr
            .contains("the plugin imports `wasi:filesystem/types@0.2.12`, which the security policy can never allow"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: grant it with --allow-read=PATH (or --allow-write=PATH)"),
        "{}",
        out.stderr
    );
}

#[test]
fn imports_warn_loads_the_plugin_and_refuses_each_use_at_run_time() {
    let files = Files::new();
    let refused_at_load = "which the security policy can never allow";
    // Loaded and run; the read is refused by the policy (the plugin gets
    // WASI's error and reports it), and the denial makes the status 4.
    let out = read(&files, "data/report.txt", &["--imports=warn"]).expect(4);
    assert!(out.stdout.starts_with("err("), "{out:#?}");
    assert!(!out.stdout.contains("quarterly numbers"), "{out:#?}");
    assert!(out.stderr.contains(" DENIED file-read open "), "{out:#?}");
    // The imports it loaded without a grant: one line for both.
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("import"))
        .collect();
    assert_eq!(
        warnings,
        [
            "audit: warning: loaded 2 imports that the policy can never allow, each use of which \
          will be refused: wasi:filesystem/types@0.2.12, wasi:filesystem/preopens@0.2.12"
        ],
        "{out:#?}"
    );
    // `deny` is the default, and the flag wins over a policy file's setting.
    std::fs::write(files.dir.path().join("warn.toml"), "imports = \"warn\"\n").unwrap();
    for flags in [
        &["--imports=deny"][..],
        &[][..],
        &["--policy=warn.toml", "--imports=deny"][..],
    ] {
        let out = read(&files, "data/report.txt", flags).expect(4);
        assert!(out.stderr.contains(refused_at_load), "{flags:?}: {out:#?}");
        assert!(out.stdout.is_empty(), "{flags:?}: {out:#?}");
    }
    let out = read(&files, "data/report.txt", &["--policy=warn.toml"]).expect(4);
    assert!(out.stdout.starts_with("err("), "{out:#?}");
    let out = read(&files, "data/report.txt", &["--imports=maybe"]).expect(2);
    assert!(
        out.stderr.contains("possible values: deny, warn"),
        "{out:#?}"
    );
}

#[test]
fn allow_read_grants_paths_and_a_bare_flag_grants_everything() {
    let files = Files::new();
    let ok = "ok(\"quarterly numbers\\n\")\n";
    assert_eq!(
        read(&files, "data/report.txt", &["--allow-read=data"])
            .expect(0)
            .stdout,
        ok
    );
    assert_eq!(
        read(&files, "data/report.txt", &["--allow-read=data/report.txt"])
            .expect(0)
            .stdout,
        ok
    );
    assert_eq!(
        read(&files, "data/report.txt", &["--allow-read"])
            .expect(0)
            .stdout,
        ok
    );
    // A grant for another path does not cover it.
    read(&files, "data/report.txt", &["--allow-read=data/secrets"]).expect(4);
    // Repeated flags add up.
    read(
        &files,
        "data/report.txt",
        &["--allow-read=data/secrets", "--allow-read=data/report.txt"],
    )
    .expect(0);
}

#[test]
fn deny_read_wins_over_allow_read() {
    let files = Files::new();
    let out = read(
        &files,
        "data/secrets/key.txt",
        &["--allow-read", "--deny-read=data/secrets"],
    )
    .expect(4);
    assert!(
        out.stderr.contains(&format!(
            "DENIED file-read open {} (deny FileRead({}))",
            files.canonical("data/secrets/key.txt"),
            files.canonical("data/secrets")
        )),
        "{}",
        out.stderr
    );
    // The rest stays readable.
    read(
        &files,
        "data/report.txt",
        &["--allow-read", "--deny-read=data/secrets"],
    )
    .expect(0);
    // A bare --deny-read denies every path.
    read(&files, "data/report.txt", &["--allow-read", "--deny-read"]).expect(4);
}

#[test]
fn allow_write_implies_read_and_deny_write_leaves_reading_alone() {
    let files = Files::new();
    read(&files, "data/report.txt", &["--allow-write=data"]).expect(0);
    read(
        &files,
        "data/report.txt",
        &["--allow-write=data", "--deny-write=data"],
    )
    .expect(0);
    read(
        &files,
        "data/report.txt",
        &["--allow-write", "--deny-write"],
    )
    .expect(0);
}

#[test]
fn a_policy_file_grants_and_flags_add_to_it() {
    let files = Files::new();
    std::fs::write(
        files.dir.path().join("policy.toml"),
        format!(
            "[[allow]]\nFileRead = \"{}\"\n",
            files.canonical("data/secrets")
        ),
    )
    .unwrap();
    read(&files, "data/secrets/key.txt", &["--policy", "policy.toml"]).expect(0);
    read(&files, "data/report.txt", &["--policy", "policy.toml"]).expect(4);
    read(
        &files,
        "data/report.txt",
        &["--policy", "policy.toml", "--allow-read=data/report.txt"],
    )
    .expect(0);
    read(
        &files,
        "data/secrets/key.txt",
        &[
            "--policy",
            "policy.toml",
            "--deny-read=data/secrets/key.txt",
        ],
    )
    .expect(4);
}

#[test]
fn an_invalid_or_missing_policy_file_is_a_usage_error() {
    let files = Files::new();
    std::fs::write(
        files.dir.path().join("bad.toml"),
        "[[allow]]\nFileReed = \"/x\"\n",
    )
    .unwrap();
    let out = read(&files, "data/report.txt", &["--policy", "bad.toml"]).expect(2);
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);
    let out = read(&files, "data/report.txt", &["--policy", "nope.toml"]).expect(2);
    assert!(
        out.stderr
            .contains("could not read the policy file `nope.toml`"),
        "{}",
        out.stderr
    );
    // A path that cannot exist (its directory does not).
    let out = read(&files, "data/report.txt", &["--allow-read=no/such/dir"]).expect(2);
    assert!(
        out.stderr.contains("invalid security policy"),
        "{}",
        out.stderr
    );
}

fn get_env(flags: &[&str]) -> crate::Outcome {
    let mut cmd = wasm_sandbox();
    cmd.env("WSB_CLI_TEST", "hello")
        .arg("run")
        .arg(wat("env.wat"))
        .args(["get-env", "WSB_CLI_TEST"])
        .args(flags);
    outcome(&mut cmd)
}

#[test]
fn allow_env_and_deny_env() {
    // Importing sandbox:host/environment needs a grant to load at all.
    let out = get_env(&[]).expect(4);
    assert!(out.stderr.contains("--allow-env=VAR"), "{}", out.stderr);
    assert_eq!(
        get_env(&["--allow-env=WSB_CLI_TEST"]).expect(0).stdout,
        "some(\"hello\")\n"
    );
    assert_eq!(
        get_env(&["--allow-env"]).expect(0).stdout,
        "some(\"hello\")\n"
    );
    assert_eq!(
        get_env(&["--allow-env=WSB_CLI_TEST=fixed"])
            .expect(0)
            .stdout,
        "some(\"fixed\")\n"
    );
    assert_eq!(get_env(&["--allow-env=OTHER"]).expect(4).stdout, "none\n");
    let out = get_env(&["--allow-env", "--deny-env=WSB_CLI_TEST"]).expect(4);
    assert_eq!(out.stdout, "none\n");
    assert!(
        out.stderr.contains(
            "DENIED environment env-read WSB_CLI_TEST (deny EnvironmentRead(WSB_CLI_TEST))"
        ),
        "{}",
        out.stderr
    );
    // A bare --deny-env takes every variable grant away.
    get_env(&["--allow-env", "--deny-env"]).expect(4);
    let out = get_env(&["--allow-env=,"]).expect(2);
    assert!(out.stderr.contains("empty name"), "{}", out.stderr);
}

fn run_program(program: &str, flags: &[&str]) -> crate::Outcome {
    let mut cmd = wasm_sandbox();
    cmd.arg("run")
        .arg(wat("process.wat"))
        .args(["run-program", program])
        .args(flags);
    outcome(&mut cmd)
}

#[test]
fn allow_run_and_deny_run() {
    let out = run_program("true", &[]).expect(4);
    assert!(out.stderr.contains("--allow-run=PROGRAM"), "{}", out.stderr);
    assert_eq!(
        run_program("true", &["--allow-run=true"]).expect(0).stdout,
        "0\n"
    );
    assert_eq!(
        run_program("false", &["--allow-run=true,false"])
            .expect(0)
            .stdout,
        "1\n"
    );
    // Not named: the plugin is told it is denied (-1), and so is the operator.
    let out = run_program("false", &["--allow-run=true"]).expect(4);
    assert_eq!(out.stdout, "-1\n");
    assert!(
        out.stderr
            .contains("DENIED process spawn false (no ProcessSpawn grant names this program)"),
        "{}",
        out.stderr
    );
    let out = run_program("true", &["--allow-run=true", "--deny-run=true"]).expect(4);
    assert_eq!(out.stdout, "-1\n");
    // A bare --deny-run takes every program grant away.
    run_program("true", &["--allow-run=true", "--deny-run"]).expect(4);
    // There is no bare --allow-run.
    let out = run_program("true", &["--allow-run"]).expect(2);
    assert!(
        out.stderr
            .contains("--allow-run needs the programs it allows"),
        "{}",
        out.stderr
    );
}

/// A one-request-at-a-time HTTP server on 127.0.0.1 that answers `hi`.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi");
        }
    });
    port
}

fn fetch(port: u16, flags: &[&str]) -> crate::Outcome {
    let request = format!("{{method: \"GET\", url: \"http://127.0.0.1:{port}/\", body: none}}");
    let mut args = vec!["run", FETCHER, "fetch", &request];
    args.extend_from_slice(flags);
    run_cli(&args)
}

#[test]
fn allow_net_and_deny_net() {
    let port = http_server();
    let out = fetch(port, &[]).expect(4);
    assert!(
        out.stderr.contains("--allow-net=HOST:PORT"),
        "{}",
        out.stderr
    );
    let ok = "ok({status: 200, body: \"hi\"})\n";
    assert_eq!(
        fetch(port, &[&format!("--allow-net=127.0.0.1:{port}")])
            .expect(0)
            .stdout,
        ok
    );
    assert_eq!(fetch(port, &["--allow-net=127.0.0.1"]).expect(0).stdout, ok);
    assert_eq!(fetch(port, &["--allow-net"]).expect(0).stdout, ok);
    // Another port is not granted.
    let out = fetch(port, &["--allow-net=127.0.0.1:1"]).expect(4);
    assert!(
        out.stderr.contains(&format!(
            "DENIED network http-request GET http://127.0.0.1:{port}/ (the host is granted, but not port {port})"
        )),
        "{}",
        out.stderr
    );
    fetch(
        port,
        &["--allow-net", &format!("--deny-net=127.0.0.1:{port}")],
    )
    .expect(4);
    fetch(port, &["--allow-net", "--deny-net"]).expect(4);
    let out = fetch(port, &["--allow-net=127.0.0.1:http"]).expect(2);
    assert!(out.stderr.contains("is not a port"), "{}", out.stderr);
}

#[test]
fn a_python_plugin_refused_for_its_imports_is_pointed_at_imports_warn_first() {
    let Some(built) =
        example_plugins::polyglot::require(example_plugins::polyglot::Language::Python)
    else {
        return;
    };
    let plugin = built.path("tallies");
    let out = run_cli(["run".as_ref(), plugin.as_os_str(), "live".as_ref()]).expect(4);
    assert!(
        out.stderr.contains(
            "hint: this plugin was built with componentize-py, which imports all of WASI \
             whatever the plugin uses: load it with --imports=warn"
        ),
        "{out:#?}"
    );
    let out = run_cli([
        "run".as_ref(),
        plugin.as_os_str(),
        "live".as_ref(),
        "--imports=warn".as_ref(),
    ])
    .expect(0);
    assert_eq!(out.stdout, "0\n", "{out:#?}");
    let warnings = out.stderr.lines().filter(|l| l.contains("import")).count();
    assert_eq!(warnings, 1, "one summary line for every import: {out:#?}");
    // A Rust plugin refused for an import keeps the grant first.
    let files = Files::new();
    let out = read(&files, "data/report.txt", &[]).expect(4);
    assert!(
        out.stderr.contains(
            "hint: grant it with --allow-read=PATH (or --allow-write=PATH), or load the plugin \
             anyway with --imports=warn"
        ),
        "{out:#?}"
    );
}
