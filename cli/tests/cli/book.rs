//! The terminal sessions of the guide's CLI chapter (`book/src/cli.md`) and
//! of its walkthrough (`book/src/walkthrough.md`), produced by running them.
//!
//! Each session is a list of shell commands, run in order by `sh` in one
//! demo directory that holds `plugins/` (copies of the example plugins),
//! `data/` (a report and a secret) and, for the walkthrough,
//! `target/wasm32-wasip2/release/adder.wasm`, with this crate's
//! `wasm-sandbox` first on `PATH`. What they print (stdout and stderr,
//! interleaved as on a terminal), and any exit status other than 0, is
//! compared with `book/src/cli/<session>.console`, which the chapter
//! includes.
//!
//! Two things are normalised: the demo directory, a fresh temporary one, is
//! written `/tmp/demo` (in the commands, it is replaced by the real one
//! before they run), and audit timestamps are written `<time>`.
//!
//! After changing the CLI, rewrite the files with
//! `WASM_SANDBOX_BLESS=1 cargo test -p wasm-sandbox-cli --test cli book`
//! and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the demo directory appears to be, in the book.
const DEMO: &str = "/tmp/demo";

/// Each session: the file name (without `.console`) and its commands.
const SESSIONS: &[(&str, &[&str])] = &[
    ("help", &["wasm-sandbox --help"]),
    (
        "run",
        &[
            "wasm-sandbox run plugins/greeter.wasm greet world",
            "wasm-sandbox run plugins/calculator.wasm math#add 2 3",
            "wasm-sandbox run plugins/calculator.wasm min-max '[3, -1, 7]'",
            "wasm-sandbox run plugins/calculator.wasm summarize '{name: \"latency\", values: [7.5, 12, 30.25]}'",
            "wasm-sandbox run plugins/calculator.wasm apply divide 1 0",
        ],
    ),
    (
        "run-mistakes",
        &[
            "wasm-sandbox run plugins/calculator.wasm add 2",
            "wasm-sandbox run plugins/calculator.wasm min-max '[3, x]'",
            "wasm-sandbox run plugins/calculator.wasm apply div 1 2",
            "wasm-sandbox run plugins/greeter.wasm gret world",
        ],
    ),
    (
        "grants",
        &[
            "wasm-sandbox run plugins/file_reader.wasm read-file /tmp/demo/data/report.txt",
            "wasm-sandbox run plugins/file_reader.wasm read-file /tmp/demo/data/report.txt --allow-read=data",
            "wasm-sandbox run plugins/file_reader.wasm read-file /etc/passwd --allow-read=data --audit audit.jsonl",
            "cat audit.jsonl",
            "wasm-sandbox run plugins/file_reader.wasm read-file /tmp/demo/data/secrets/key.txt --allow-read --deny-read=data/secrets",
        ],
    ),
    (
        "violations",
        &[
            "wasm-sandbox run plugins/file_reader.wasm read-file /etc/passwd --allow-read=data --abort-on-violation",
        ],
    ),
    (
        "limits",
        &[
            "wasm-sandbox run plugins/hog.wasm spin --timeout 500ms",
            "wasm-sandbox run plugins/hog.wasm spin --fuel 1000000",
            "wasm-sandbox run plugins/hog.wasm allocate 100000000 --memory 16MiB",
            "wasm-sandbox run plugins/hog.wasm panic 'out of ideas'",
        ],
    ),
    (
        "json",
        &[
            "wasm-sandbox --json run plugins/calculator.wasm min-max '[3, -1, 7]'",
            "wasm-sandbox --json run plugins/file_reader.wasm read-file /etc/hostname --allow-read=data",
        ],
    ),
    (
        "inspect",
        &["wasm-sandbox inspect plugins/file_reader.wasm"],
    ),
    (
        "walkthrough",
        &[
            "wasm-sandbox inspect target/wasm32-wasip2/release/adder.wasm",
            "wasm-sandbox run target/wasm32-wasip2/release/adder.wasm add 2 3",
            "wasm-sandbox run target/wasm32-wasip2/release/adder.wasm add 4294967295 1",
            "wasm-sandbox run target/wasm32-wasip2/release/adder.wasm add 2",
            "wasm-sandbox run target/wasm32-wasip2/release/adder.wasm add two three",
        ],
    ),
    (
        "command",
        &[
            "wasm-sandbox run target/wasm32-wasip2/release/hello.wasm",
            "wasm-sandbox run target/wasm32-wasip2/release/hello.wasm --imports=warn",
            "wasm-sandbox run target/wasm32-wasip2/release/hello.wasm --imports=warn -- echo one 'two words'",
            "echo 'read me' | wasm-sandbox run target/wasm32-wasip2/release/hello.wasm --imports=warn -- shout",
            "wasm-sandbox run target/wasm32-wasip2/release/hello.wasm --allow-read=data -- cat /tmp/demo/data/report.txt",
            "wasm-sandbox run target/wasm32-wasip2/release/hello.wasm --allow-read=data -- cat /tmp/demo/data/../../../etc/passwd",
            "wasm-sandbox run target/wasm32-wasip2/release/hello.wasm --imports=warn -- exit 1",
            "wasm-sandbox run target/wasm32-wasip2/release/hello.wasm --imports=warn -- panic",
        ],
    ),
    (
        "validate",
        &[
            "wasm-sandbox validate plugins/greeter.wasm",
            "wasm-sandbox validate plugins/file_reader.wasm",
            "wasm-sandbox validate plugins/file_reader.wasm --allow-read=data",
            "wasm-sandbox validate plugins/intruder.wasm --allow-read --allow-net --allow-env --allow-run=ls",
        ],
    ),
    (
        "compile",
        &[
            "export WASM_SANDBOX_CACHE_DIR=/tmp/demo/cache",
            "wasm-sandbox compile plugins/greeter.wasm plugins/calculator.wasm",
            "wasm-sandbox compile plugins/greeter.wasm",
            "wasm-sandbox compile plugins/*.wasm -o precompiled",
            "wasm-sandbox run precompiled/greeter.cwasm greet again",
            "wasm-sandbox run precompiled/greeter.cwasm greet again --allow-precompiled",
        ],
    ),
    (
        "learn",
        &[
            "wasm-sandbox learn plugins/file_reader.wasm read-file /tmp/demo/data/report.txt -o policy.toml",
            "cat policy.toml",
            "wasm-sandbox run plugins/file_reader.wasm read-file /tmp/demo/data/report.txt --policy policy.toml",
            "wasm-sandbox run plugins/file_reader.wasm read-file /tmp/demo/data/secrets/key.txt --policy policy.toml",
            "GREETING=hello wasm-sandbox learn target/wasm32-wasip2/release/hello.wasm -- env GREETING",
        ],
    ),
    (
        "policy-diff",
        &[
            "printf '[[allow]]\\nFileRead = \"/tmp/demo/data\"\\n' > policy-v2.toml",
            "wasm-sandbox policy diff policy.toml policy-v2.toml",
            "wasm-sandbox policy diff policy-v2.toml policy.toml",
        ],
    ),
];

/// The demo directory: plugins and data.
fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for path in [
        example_plugins::GREETER,
        example_plugins::CALCULATOR,
        example_plugins::FILE_READER,
        example_plugins::HOG,
        example_plugins::INTRUDER,
    ] {
        let path = Path::new(path);
        std::fs::copy(path, plugins.join(path.file_name().unwrap())).unwrap();
    }
    // The walkthrough's adder, where `cargo build --target wasm32-wasip2
    // --release` leaves it (not in `plugins/`, which `compile` compiles).
    let built = dir.path().join("target/wasm32-wasip2/release");
    std::fs::create_dir_all(&built).unwrap();
    std::fs::copy(example_plugins::ADDER, built.join("adder.wasm")).unwrap();
    // The command of `run -- ARGS`, where cargo leaves a binary crate's.
    std::fs::copy(example_plugins::HELLO, built.join("hello.wasm")).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("secrets")).unwrap();
    std::fs::write(data.join("report.txt"), "quarterly numbers\n").unwrap();
    std::fs::write(data.join("secrets/key.txt"), "hunter2\n").unwrap();
    dir
}

/// Replaces RFC 3339 timestamps with milliseconds (`2026-01-31T12:00:00.000Z`)
/// by `<time>`.
fn normalise_times(text: &str) -> String {
    const SHAPE: &str = "dddd-dd-ddTdd:dd:dd.dddZ";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= SHAPE.len()
            && SHAPE.bytes().zip(&bytes[i..]).all(|(s, &b)| match s {
                b'd' => b.is_ascii_digit(),
                other => other == b,
            });
        if fits {
            out.push_str("<time>");
            i += SHAPE.len();
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Runs one session in `dir` and returns its transcript.
fn transcript(dir: &Path, commands: &[&str]) -> String {
    let real = dir.display().to_string();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_wasm-sandbox"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    // One shell per session, so that `export` carries over; each command
    // is followed by a marker line with its exit status.
    let mut script = String::from("exec 2>&1\n");
    for (i, command) in commands.iter().enumerate() {
        script.push_str(&command.replace(DEMO, &real));
        script.push_str(&format!("\necho \"@@end {i} $?\"\n"));
    }
    let output = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .env("PATH", path)
        .env("WASM_SANDBOX_CACHE_DIR", crate::shared_cache())
        // Help is wrapped at 100 columns, whatever the terminal.
        .env_remove("COLUMNS")
        .output()
        .expect("sh runs");
    let text = String::from_utf8(output.stdout).expect("UTF-8 output");
    let mut out = String::new();
    let mut rest = text.as_str();
    for (i, command) in commands.iter().enumerate() {
        let marker = format!("@@end {i} ");
        let at = rest
            .find(&marker)
            .unwrap_or_else(|| panic!("no end marker for `{command}` in {text}"));
        let printed = &rest[..at];
        let after = &rest[at + marker.len()..];
        let (status, next) = after.split_once('\n').unwrap_or((after, ""));
        out.push_str("$ ");
        out.push_str(command);
        out.push('\n');
        out.push_str(printed);
        if status != "0" {
            out.push_str(&format!("[exit status {status}]\n"));
        }
        rest = next;
    }
    normalise_times(&out.replace(&real, DEMO))
}

fn book_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/cli")
}

#[test]
fn book_sessions_are_current() {
    let dir = demo();
    let bless = std::env::var_os("WASM_SANDBOX_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, commands) in SESSIONS {
        let text = transcript(dir.path(), commands);
        let file = book_dir().join(format!("{name}.console"));
        if bless {
            std::fs::create_dir_all(book_dir()).unwrap();
            std::fs::write(&file, &text).unwrap();
            continue;
        }
        let current = std::fs::read_to_string(&file).unwrap_or_default();
        if current != text {
            stale.push(format!(
                "--- {} (in the book)\n{current}\n--- (now)\n{text}",
                file.display()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "the CLI chapter's sessions changed; rerun with WASM_SANDBOX_BLESS=1 and review:\n{}",
        stale.join("\n")
    );
}

#[test]
fn timestamps_are_normalised() {
    assert_eq!(
        normalise_times(
            "audit: 2026-12-02T06:41:48.117Z DENIED \"time\":\"2026-12-02T06:41:48.117Z\""
        ),
        "audit: <time> DENIED \"time\":\"<time>\""
    );
    assert_eq!(normalise_times("2026-12-02 λ"), "2026-12-02 λ");
}
