//! Bad input of every kind: each gives its own error variant, with a message
//! that says what to do, and leaves the host (and where it makes sense the
//! same sandbox) usable.

use wasm_sandbox::component::Val;
use wasm_sandbox::{Error, TrapCode, WasmSandbox};

use crate::{assert_host_usable, calculator, greeter};

async fn load_bytes(bytes: impl Into<Vec<u8>>) -> Result<WasmSandbox, Error> {
    WasmSandbox::builder().bytes(bytes).build().await
}

#[tokio::test]
async fn a_missing_file_is_an_io_error_naming_the_path() {
    let err = WasmSandbox::builder()
        .source("/no/such/dir/plugin.wasm")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("/no/such/dir/plugin.wasm"), "{msg}");
    assert!(msg.contains("check that the path exists"), "{msg}");
    assert_host_usable().await;
}

#[tokio::test]
async fn an_empty_file_is_an_invalid_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wasm");
    std::fs::write(&path, b"").unwrap();
    let err = WasmSandbox::builder()
        .source(&path)
        .build()
        .await
        .unwrap_err();
    let Error::InvalidBinary { origin, reason } = &err else {
        panic!("expected InvalidBinary, got {err:?}")
    };
    assert!(origin.contains("empty.wasm"), "{origin}");
    assert!(reason.contains("empty (0 bytes)"), "{reason}");
    assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
    assert_host_usable().await;
}

#[tokio::test]
async fn random_bytes_are_an_invalid_binary() {
    // Deterministic "random" bytes: a simple LCG.
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    let err = load_bytes(bytes).await.unwrap_err();
    let Error::InvalidBinary { reason, .. } = &err else {
        panic!("expected InvalidBinary, got {err:?}")
    };
    assert!(reason.contains("magic number"), "{reason}");
    assert_host_usable().await;
}

#[tokio::test]
async fn a_truncated_component_is_an_invalid_binary_with_an_offset() {
    let bytes = std::fs::read(example_plugins::GREETER).unwrap();
    for cut in [7, 100, bytes.len() / 2, bytes.len() - 1] {
        let err = load_bytes(bytes[..cut].to_vec()).await.unwrap_err();
        let Error::InvalidBinary { reason, .. } = &err else {
            panic!("cut at {cut}: expected InvalidBinary, got {err:?}")
        };
        assert!(
            reason.contains("truncated") || reason.contains("offset"),
            "cut at {cut}: {reason}"
        );
    }
    assert_host_usable().await;
}

#[tokio::test]
async fn a_core_module_is_not_a_component() {
    let module = wat::parse_str(r#"(module (func (export "greet")))"#).unwrap();
    let err = load_bytes(module).await.unwrap_err();
    assert!(matches!(err, Error::NotAComponent { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("core WebAssembly module"), "{msg}");
    assert!(msg.contains("cargo build --target wasm32-wasip2"), "{msg}");
    assert_host_usable().await;
}

#[tokio::test]
async fn a_component_that_fails_validation_is_a_compile_error() {
    // Well-formed sections, but the core function returns an f32 where its
    // type says i32: only validation catches that.
    let err = load_bytes(
        r#"(component (core module (func (result i32) f32.const 1)))"#
            .as_bytes()
            .to_vec(),
    )
    .await
    .unwrap_err();
    let Error::Compile { detail, .. } = &err else {
        panic!("expected Compile, got {err:?}")
    };
    assert!(detail.contains("type mismatch"), "{detail}");
    assert_host_usable().await;
}

#[tokio::test]
async fn a_wat_file_with_a_bom_or_a_non_utf8_byte_says_so() {
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/errors.md"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.wat");
    for (contents, says) in [
        (&b"\xef\xbb\xbf(component)\n"[..], "byte order mark"),
        (
            &b"(component ;; caf\xe9\n)\n"[..],
            "at offset 17 is not valid UTF-8",
        ),
    ] {
        std::fs::write(&path, contents).unwrap();
        let err = WasmSandbox::builder()
            .source(&path)
            .build()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidBinary { .. }), "{err:?}");
        let message = err
            .to_string()
            .replace(&path.display().to_string(), "plugins/plugin.wat");
        assert!(message.contains(says), "{message}");
        assert!(
            chapter.contains(&message),
            "book/src/errors.md does not quote this message; update it:\n{message}"
        );
    }
}

#[tokio::test]
async fn mangled_rust_symbols_in_compile_errors_are_demangled() {
    // A function named with a mangled Rust symbol (the name section is what
    // wasmtime quotes), whose body does not validate.
    let err = load_bytes(
        r#"(component (core module
            (func $_ZN4core9panicking5panic17h0123456789abcdefE (result i32) f32.const 1)))"#
            .as_bytes()
            .to_vec(),
    )
    .await
    .unwrap_err();
    let Error::Compile { detail, .. } = &err else {
        panic!("expected Compile, got {err:?}")
    };
    assert!(detail.contains("core::panicking::panic"), "{detail}");
    assert!(!detail.contains("_ZN"), "{detail}");
    crate::assert_errors_chapter_quotes(&err.to_string());
}

#[tokio::test]
async fn an_invalid_component_is_called_a_component() {
    // wasmtime words every parse or validation failure of the component
    // structure as "failed to parse WebAssembly module".
    let err = load_bytes(r#"(component (export "f" (func 7)))"#.as_bytes().to_vec())
        .await
        .unwrap_err();
    let Error::Compile { detail, .. } = &err else {
        panic!("expected Compile, got {err:?}")
    };
    assert!(
        detail.starts_with("the component is invalid at byte offset "),
        "{detail}"
    );
    assert!(!err.to_string().contains("WebAssembly module"), "{err}");
    crate::assert_errors_chapter_quotes(&err.to_string());
}

#[tokio::test]
async fn an_import_the_host_does_not_provide_is_named() {
    let component = r#"
        (component
            (import "acme:kv/store" (instance
                (export "get" (func (param "key" string) (result string)))
            ))
        )"#;
    let err = load_bytes(component.as_bytes().to_vec()).await.unwrap_err();
    let Error::MissingImport { import, kind, .. } = &err else {
        panic!("expected MissingImport, got {err:?}")
    };
    assert_eq!(import, "acme:kv/store");
    assert_eq!(kind, "instance");
    assert!(
        err.to_string().contains("which this host does not provide"),
        "{err}"
    );
    assert_host_usable().await;
}

#[tokio::test]
async fn a_wasi_import_with_the_wrong_type_is_a_missing_import() {
    // `get-arguments` exists in WASI but takes no parameter.
    let component = r#"
        (component
            (import "wasi:cli/environment@0.2.0" (instance
                (export "get-arguments" (func (param "x" u32) (result (list string))))
            ))
        )"#;
    let err = load_bytes(component.as_bytes().to_vec()).await.unwrap_err();
    let Error::MissingImport { import, reason, .. } = &err else {
        panic!("expected MissingImport, got {err:?}")
    };
    assert_eq!(import, "wasi:cli/environment@0.2.0");
    assert!(reason.contains("get-arguments"), "{reason}");
    assert_host_usable().await;
}

#[tokio::test]
async fn a_trap_while_starting_is_an_instantiate_error() {
    let component = r#"
        (component
            (core module $m (func $start unreachable) (start $start))
            (core instance (instantiate $m))
        )"#;
    let err = load_bytes(component.as_bytes().to_vec()).await.unwrap_err();
    let Error::Instantiate { detail, .. } = &err else {
        panic!("expected Instantiate, got {err:?}")
    };
    assert!(detail.contains("unreachable"), "{detail}");
    assert_host_usable().await;
}

#[tokio::test]
async fn a_builder_without_source_says_what_to_call() {
    let err = WasmSandbox::builder().build().await.unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains(".source(path)"), "{err}");
}

#[tokio::test]
async fn a_missing_export_suggests_the_nearest_names() {
    let sandbox = greeter().await;
    let err = sandbox
        .call::<(&str,), String>("gret", ("x",))
        .await
        .unwrap_err();
    let Error::ExportNotFound {
        name, suggestions, ..
    } = &err
    else {
        panic!("expected ExportNotFound, got {err:?}")
    };
    assert_eq!(name, "gret");
    assert_eq!(suggestions, &["plugin#greet".to_string()]);
    assert!(
        err.to_string().contains("did you mean `plugin#greet`?"),
        "{err}"
    );

    // A misspelt interface function points at `iface#name`.
    let calc = calculator().await;
    let err = calc
        .call::<(u32, u32), u32>("ad", (1, 2))
        .await
        .unwrap_err();
    let Error::ExportNotFound { suggestions, .. } = &err else {
        panic!("expected ExportNotFound, got {err:?}")
    };
    assert_eq!(suggestions.first().map(String::as_str), Some("math#add"));
    // Its plain name calls it: no other export is called `add`.
    assert_eq!(
        calc.call::<(u32, u32), u32>("add", (1, 2)).await.unwrap(),
        3
    );

    // Nothing close: the message points at list_exports().
    let err = calc
        .call::<(), ()>("completely-unrelated-name", ())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("list_exports()"), "{err}");

    // Nothing ran: the same sandboxes still answer on their first instance.
    let text: String = sandbox.call("plugin#greet", ("ok",)).await.unwrap();
    assert_eq!(text, "Hello, ok!");
    assert_eq!(sandbox.instances_created(), 1);
    assert_eq!(calc.instances_created(), 1);
}

#[tokio::test]
async fn wrong_rust_types_are_a_type_mismatch_showing_both_signatures() {
    let sandbox = calculator().await;

    // Signed where the WIT says unsigned.
    let err = sandbox
        .call::<(i32, i32), u32>("math#add", (1, 2))
        .await
        .unwrap_err();
    let Error::TypeMismatch {
        function,
        expected,
        given,
        ..
    } = &err
    else {
        panic!("expected TypeMismatch, got {err:?}")
    };
    assert_eq!(function, "example:calculator/math@0.1.0#add");
    assert_eq!(expected, "func(a: u32, b: u32) -> u32");
    assert!(given.contains("(i32, i32)"), "{given}");

    // Wrong result type.
    let err = sandbox
        .call::<(u32, u32), String>("math#add", (1, 2))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("String"), "{err}");

    // Wrong number of arguments.
    let err = sandbox
        .call::<(u32,), u32>("math#add", (1,))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");

    // A result type for a function that returns nothing.
    let err = sandbox.call::<(), u32>("clear", ()).await.unwrap_err();
    let Error::TypeMismatch { detail, .. } = &err else {
        panic!("expected TypeMismatch, got {err:?}")
    };
    assert!(
        detail
            .as_deref()
            .unwrap_or_default()
            .contains("returns nothing"),
        "{err}"
    );

    // Nothing ran: same instance, state intact.
    let sum: u32 = sandbox.call("math#add", (1u32, 2u32)).await.unwrap();
    assert_eq!(sum, 3);
    assert_eq!(sandbox.instances_created(), 1);
}

#[tokio::test]
async fn wrong_dynamic_values_name_the_argument() {
    let sandbox = calculator().await;
    let err = sandbox
        .call_dynamic("math#add", &[Val::U32(1), Val::S32(2)])
        .await
        .unwrap_err();
    let Error::TypeMismatch { detail, .. } = &err else {
        panic!("expected TypeMismatch, got {err:?}")
    };
    assert_eq!(
        detail.as_deref(),
        Some("argument `b`: expected u32, got s32")
    );

    let err = sandbox
        .call_dynamic("math#add", &[Val::U32(1)])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 argument(s)"), "{err}");

    let err = sandbox
        .call_dynamic(
            "math#apply",
            &[Val::Enum("modulo".into()), Val::S64(1), Val::S64(2)],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no case `modulo`"), "{err}");

    let out = sandbox
        .call_dynamic("math#add", &[Val::U32(1), Val::U32(2)])
        .await
        .unwrap();
    assert_eq!(out, vec![Val::U32(3)]);
    assert_eq!(sandbox.instances_created(), 1);
}

#[tokio::test]
async fn a_guest_trap_is_reported_and_the_next_call_gets_a_fresh_instance() {
    let sandbox = calculator().await;
    let _: u64 = sandbox.call("increment", ()).await.unwrap();

    let err = sandbox
        .call::<(i32, i32), i32>("math#divide-unchecked", (1, 0))
        .await
        .unwrap_err();
    let Error::Trap {
        function,
        code,
        backtrace,
        guest_stderr,
        ..
    } = &err
    else {
        panic!("expected Trap, got {err:?}")
    };
    assert_eq!(function, "example:calculator/math@0.1.0#divide-unchecked");
    // A Rust panic aborts with `unreachable`.
    assert_eq!(*code, Some(TrapCode::UnreachableCodeReached));
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    let backtrace = backtrace.as_deref().expect("a guest backtrace");
    // Innermost frame first; the export itself is among the frames.
    assert!(backtrace.contains("calculator.wasm!"), "{backtrace}");
    assert!(
        backtrace.contains("example:calculator/math@0.1.0#divide-unchecked"),
        "{backtrace}"
    );
    assert!(
        !backtrace.starts_with("error while executing"),
        "{backtrace}"
    );
    assert!(
        guest_stderr
            .iter()
            .any(|l| l.contains("attempt to divide by zero")),
        "{guest_stderr:?}"
    );
    assert!(
        err.to_string().contains("attempt to divide by zero"),
        "{err}"
    );

    // The same sandbox works again, on a new instance whose state is fresh.
    let sum: u32 = sandbox.call("math#add", (2u32, 2u32)).await.unwrap();
    assert_eq!(sum, 4);
    assert_eq!(sandbox.instances_created(), 2);
    let count: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!(count, 1);

    // Trapping again and again never wedges it.
    for _ in 0..3 {
        assert!(
            sandbox
                .call::<(i32, i32), i32>("math#divide-unchecked", (5, 0))
                .await
                .is_err()
        );
        let q: i32 = sandbox
            .call("math#divide-unchecked", (9i32, 3i32))
            .await
            .unwrap();
        assert_eq!(q, 3);
    }
    assert_eq!(sandbox.instances_created(), 5);
}

#[tokio::test]
async fn a_cancelled_call_leaves_no_broken_instance() {
    let sandbox = calculator().await;
    // Dropping the call future before it is polled to completion (here:
    // before it is polled at all) must not leave the sandbox unusable.
    let fut = sandbox.call::<(u32, u32), u32>("math#add", (1, 1));
    drop(fut);
    let sum: u32 = sandbox.call("math#add", (1u32, 1u32)).await.unwrap();
    assert_eq!(sum, 2);
}

/// The "Errors and traps" chapter quotes these messages; they must be the
/// ones the code produces today.
#[tokio::test]
async fn the_errors_chapter_quotes_current_messages() {
    use example_interfaces::{GreeterPlugin, KeyValue, KeyValueHost};
    use wasm_sandbox::{ImportCheck, SecurityPolicy};

    struct NoStore;
    impl KeyValue for NoStore {
        fn get(&self, _key: String) -> Option<String> {
            None
        }
        fn set(&self, _key: String, _value: String) {}
        fn keys(&self, _prefix: &str) -> Vec<String> {
            Vec::new()
        }
    }

    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/errors.md"),
    )
    .unwrap();
    let mut messages = Vec::new();
    messages.push(
        SecurityPolicy::from_toml("[[allow]]\nFileReed = \"/tmp\"\n")
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        WasmSandbox::builder()
            .source(example_plugins::INTRUDER)
            .host_interface(KeyValueHost::new(NoStore))
            .build()
            .await
            .unwrap_err()
            .to_string(),
    );
    let intruder = WasmSandbox::builder()
        .source(example_plugins::INTRUDER)
        .host_interface(KeyValueHost::new(NoStore))
        .security_policy(SecurityPolicy::strict().import_check(ImportCheck::Warn))
        .build()
        .await
        .unwrap();
    messages.push(
        intruder
            .call::<_, Option<String>>("plugin#kv-get", ("k",))
            .await
            .unwrap_err()
            .to_string(),
    );
    messages.push(GreeterPlugin::load(&intruder).unwrap_err().to_string());
    messages.push(
        load_bytes(
            "(component (core module $m (memory 2048)) (core instance $i (instantiate $m)))",
        )
        .await
        .unwrap_err()
        .to_string(),
    );
    let table = load_bytes(
        r#"(component
            (core module $m
              (table 1 funcref)
              (func (export "g") (result i32) (table.grow 0 (ref.null func) (i32.const 200000))))
            (core instance $i (instantiate $m))
            (func (export "g") (result u32) (canon lift (core func $i "g"))))"#,
    )
    .await
    .unwrap();
    messages.push(table.call::<_, u32>("g", ()).await.unwrap_err().to_string());
    messages.push(
        WasmSandbox::builder()
            .source(example_plugins::HOG)
            .max_core_instances(1)
            .build()
            .await
            .unwrap_err()
            .to_string(),
    );
    let hog = WasmSandbox::builder()
        .source(example_plugins::HOG)
        .max_output(1000)
        .build()
        .await
        .unwrap();
    messages.push(
        hog.call_dynamic("plugin#big-string", &[Val::U64(5000)])
            .await
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        hog.call::<_, u32>("plugin#panic", ("the plugin gave up",))
            .await
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        WasmSandbox::builder()
            .build()
            .await
            .unwrap_err()
            .to_string(),
    );
    messages.push(Error::BlockingInAsyncContext.to_string());
    // A precompiled artifact made for another engine (shown with a short
    // path in the book).
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("greeter.cwasm");
    let fuel_artifact = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .fuel(1000)
        .precompile()
        .unwrap();
    std::fs::write(&artifact, fuel_artifact).unwrap();
    messages.push(
        WasmSandbox::builder()
            .precompiled(&artifact)
            .build()
            .await
            .unwrap_err()
            .to_string()
            .replace(&artifact.display().to_string(), "plugins/greeter.cwasm"),
    );
    messages.push(
        Error::PoolTimeout {
            waited: std::time::Duration::from_millis(100),
            max_instances: 4,
        }
        .to_string(),
    );
    let reloadable = wasm_sandbox::ReloadablePool::new(
        wasm_sandbox::SandboxPool::builder().source(example_plugins::GREETER),
    )
    .await
    .unwrap();
    messages.push(
        reloadable
            .reload(example_plugins::CALCULATOR)
            .await
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        WasmSandbox::builder()
            .source(example_plugins::HOG)
            .name("hog")
            .synchronous_calls(true)
            .build()
            .await
            .unwrap_err()
            .to_string(),
    );
    for message in messages {
        assert!(
            chapter.contains(&message),
            "book/src/errors.md does not quote this message; update it:\n{message}"
        );
    }
}
