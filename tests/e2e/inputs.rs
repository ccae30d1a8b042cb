//! Hostile input files: paths that name something other than a plugin file
//! (`/dev/zero`, a FIFO, a directory) or a file far over the size limit (a
//! sparse 4 GiB file). Each is refused with a typed error before anything
//! is read, and promptly: a timeout here only detects a hang.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wasm_sandbox::{Error, SandboxBuilder, WasmSandbox};

/// Longer than any refusal takes by far; only a blocked open or a read of
/// gigabytes comes near it.
const HANG: Duration = Duration::from_secs(60);

/// The two ways to load a file that must refuse the same inputs.
#[derive(Clone, Copy, Debug)]
enum Load {
    Source,
    Precompiled,
}

impl Load {
    fn builder(self, path: &Path) -> SandboxBuilder {
        let builder = WasmSandbox::builder().enable_cache(false);
        match self {
            Load::Source => builder.source(path),
            Load::Precompiled => builder.precompiled(path),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Load::Source => "plugin file",
            Load::Precompiled => "precompiled artifact",
        }
    }
}

/// Builds with a hang detector and returns the error.
async fn refused(builder: SandboxBuilder) -> Error {
    match tokio::time::timeout(HANG, builder.build()).await {
        Ok(Ok(_)) => panic!("the input was loaded"),
        Ok(Err(err)) => err,
        Err(_) => {
            panic!("loading did not return within {HANG:?}: it blocked or read without bound")
        }
    }
}

fn mkfifo(dir: &Path) -> PathBuf {
    let fifo = dir.join("plugin.wasm");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo failed");
    fifo
}

fn sparse(dir: &Path, len: u64) -> PathBuf {
    let path = dir.join("huge.wasm");
    std::fs::File::create(&path).unwrap().set_len(len).unwrap();
    path
}

fn assert_not_regular(err: &Error, load: Load, path: &Path, kind: &str) {
    match err {
        Error::NotARegularFile {
            what,
            path: named,
            kind: found,
        } => {
            assert_eq!(what, load.what());
            assert_eq!(named, path);
            assert_eq!(found, kind);
        }
        other => panic!(
            "{load:?} {}: expected NotARegularFile, got {other:?}",
            path.display()
        ),
    }
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("not a regular file"), "{text}");
}

#[tokio::test]
async fn dev_zero_is_refused_without_reading() {
    let path = Path::new("/dev/zero");
    for load in [Load::Source, Load::Precompiled] {
        let err = refused(load.builder(path)).await;
        assert_not_regular(&err, load, path, "a character device");
    }
}

#[tokio::test]
async fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path());
    for load in [Load::Source, Load::Precompiled] {
        let err = refused(load.builder(&fifo)).await;
        assert_not_regular(&err, load, &fifo, "a FIFO (named pipe)");
    }
}

#[tokio::test]
async fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for load in [Load::Source, Load::Precompiled] {
        let err = refused(load.builder(dir.path())).await;
        assert_not_regular(&err, load, dir.path(), "a directory");
    }
}

#[tokio::test]
async fn a_sparse_4_gib_file_is_refused_from_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = sparse(dir.path(), 4 << 30);
    for (load, limit, setting) in [
        (
            Load::Source,
            256u64 << 20,
            "SandboxBuilder::max_plugin_bytes(..)",
        ),
        (
            Load::Precompiled,
            1u64 << 30,
            "SandboxBuilder::max_artifact_bytes(..)",
        ),
    ] {
        let err = refused(load.builder(&path)).await;
        match &err {
            Error::InputTooLarge {
                what,
                path: named,
                size,
                limit: found,
                setting: named_setting,
            } => {
                assert_eq!(what, load.what());
                assert_eq!(named, &path);
                assert_eq!(*size, 4 << 30);
                assert_eq!(*found, limit);
                assert_eq!(named_setting, setting);
            }
            other => panic!("{load:?}: expected InputTooLarge, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("raise the limit with"), "{text}");
        assert!(text.contains(setting), "{text}");
    }
}

#[tokio::test]
async fn the_limits_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let size = std::fs::metadata(example_plugins::GREETER).unwrap().len();

    // One byte under the plugin's size is refused...
    let err = refused(
        Load::Source
            .builder(Path::new(example_plugins::GREETER))
            .max_plugin_bytes(size - 1),
    )
    .await;
    assert!(
        matches!(err, Error::InputTooLarge { size: s, limit, .. } if s == size && limit == size - 1),
        "{err:?}"
    );
    // ...its size exactly is fine.
    let sandbox = Load::Source
        .builder(Path::new(example_plugins::GREETER))
        .max_plugin_bytes(size)
        .build()
        .await
        .unwrap();
    let text: String = sandbox.call("plugin#greet", ("limits",)).await.unwrap();
    assert_eq!(text, "Hello, limits!");

    // The artifact limit applies to `.precompiled(..)`, not to sources.
    let artifact = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .precompile()
        .unwrap();
    let artifact_path = dir.path().join("greeter.cwasm");
    std::fs::write(&artifact_path, &artifact).unwrap();
    let err = refused(
        Load::Precompiled
            .builder(&artifact_path)
            .max_artifact_bytes(artifact.len() as u64 - 1),
    )
    .await;
    assert!(
        matches!(err, Error::InputTooLarge { ref setting, .. } if setting == "SandboxBuilder::max_artifact_bytes(..)"),
        "{err:?}"
    );
    Load::Precompiled
        .builder(&artifact_path)
        .max_artifact_bytes(artifact.len() as u64)
        .build()
        .await
        .unwrap();
}

/// The errors chapter quotes both messages word for word.
#[tokio::test]
async fn the_errors_chapter_quotes_these_messages() {
    let chapter = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/errors.md"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let huge = sparse(dir.path(), 4 << 30);
    let messages = [
        refused(Load::Source.builder(Path::new("/dev/zero")))
            .await
            .to_string(),
        refused(Load::Source.builder(&huge))
            .await
            .to_string()
            .replace(&huge.display().to_string(), "plugins/huge.wasm"),
    ];
    for message in messages {
        assert!(
            chapter.contains(&message),
            "book/src/errors.md does not quote this message; update it:\n{message}"
        );
    }
}

/// A component binary with `depth` empty components nested inside it.
fn nested_components(depth: usize) -> Vec<u8> {
    const HEADER: [u8; 8] = [0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00];
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut sizes = vec![HEADER.len(); depth + 1];
    for k in (0..depth).rev() {
        let mut len = Vec::new();
        leb(sizes[k + 1], &mut len);
        sizes[k] = HEADER.len() + 1 + len.len() + sizes[k + 1];
    }
    let mut out = Vec::with_capacity(sizes[0]);
    for size in &sizes[1..] {
        out.extend_from_slice(&HEADER);
        out.push(4);
        leb(*size, &mut out);
    }
    out.extend_from_slice(&HEADER);
    out
}

#[tokio::test]
async fn ten_thousand_nested_components_are_refused_before_compiling() {
    let builder = WasmSandbox::builder()
        .enable_cache(false)
        .bytes(nested_components(10_000));
    let err = refused(builder).await;
    match &err {
        Error::ComponentTooComplex {
            what, found, limit, ..
        } => {
            assert!(what.contains("nesting depth"), "{what}");
            assert_eq!(*limit, wasm_sandbox::MAX_NESTING_DEPTH);
            assert_eq!(*found, wasm_sandbox::MAX_NESTING_DEPTH + 1);
        }
        other => panic!("expected ComponentTooComplex, got {other:?}"),
    }
    assert!(err.to_string().contains("over the limit of 100"), "{err}");
    // The same in the text format.
    let depth = 10_000;
    let text = format!("{}{}", "(component ".repeat(depth), ")".repeat(depth));
    let err = refused(WasmSandbox::builder().enable_cache(false).bytes(text)).await;
    assert!(
        matches!(
            err,
            Error::ComponentTooComplex { .. } | Error::InvalidBinary { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn fifty_nested_components_load_and_so_does_the_limit() {
    for depth in [50, wasm_sandbox::MAX_NESTING_DEPTH as usize] {
        let sandbox = WasmSandbox::builder()
            .enable_cache(false)
            .bytes(nested_components(depth))
            .build()
            .await
            .unwrap_or_else(|e| panic!("depth {depth}: {e}"));
        assert!(sandbox.list_exports().is_empty());
    }
}

/// A hot-reload watcher reads the new file with the same bounds: a FIFO
/// renamed over the plugin is refused at once (the watcher does not block
/// on it) and the running version keeps serving.
#[tokio::test]
async fn a_watched_plugin_replaced_by_a_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greeter.wasm");
    std::fs::copy(example_plugins::GREETER, &path).unwrap();
    let pool = wasm_sandbox::ReloadablePool::new(
        wasm_sandbox::SandboxPool::builder()
            .source(&path)
            .max_instances(2),
    )
    .await
    .unwrap();
    let mut watcher = pool.watch(&path).unwrap();

    let staged_dir = tempfile::tempdir_in(dir.path()).unwrap();
    let fifo = mkfifo(staged_dir.path());
    std::fs::rename(&fifo, &path).unwrap();
    let outcome = tokio::time::timeout(HANG, watcher.next_reload())
        .await
        .expect("the watcher reported within the hang detector's time")
        .expect("the watcher runs");
    match outcome {
        Err(err @ Error::NotARegularFile { .. }) => {
            assert!(err.to_string().contains("a FIFO (named pipe)"), "{err}");
        }
        other => panic!("expected NotARegularFile, got {other:?}"),
    }
    let text: String = pool.call("plugin#greet", ("still",)).await.unwrap();
    assert_eq!(text, "Hello, still!");
}

/// A pool takes the same limits as a single sandbox.
#[tokio::test]
async fn a_pool_takes_the_limits_too() {
    let size = std::fs::metadata(example_plugins::GREETER).unwrap().len();
    let err = wasm_sandbox::SandboxPool::builder()
        .source(example_plugins::GREETER)
        .max_plugin_bytes(size - 1)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InputTooLarge { limit, .. } if limit == size - 1),
        "{err:?}"
    );
    let pool = wasm_sandbox::SandboxPool::builder()
        .source(example_plugins::GREETER)
        .max_plugin_bytes(size)
        .build()
        .await
        .unwrap();
    let text: String = pool.call("plugin#greet", ("pool",)).await.unwrap();
    assert_eq!(text, "Hello, pool!");
}

/// A component whose one type nests `levels` instance types inside one
/// another (`(type (instance (type (instance ...))))`), in the binary format.
fn nested_instance_types(levels: usize) -> Vec<u8> {
    let mut ty = Vec::with_capacity(levels * 3 + 2);
    for _ in 0..levels {
        // An instance type with one declaration, which is a type.
        ty.extend_from_slice(&[0x42, 0x01, 0x01]);
    }
    ty.extend_from_slice(&[0x42, 0x00]);
    let mut section = vec![0x01];
    section.extend_from_slice(&ty);
    let mut out = b"\0asm\x0d\0\x01\0".to_vec();
    out.push(0x07);
    let mut len = section.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(&section);
    out
}

#[tokio::test]
async fn deeply_nested_types_are_refused_before_anything_reads_them_recursively() {
    // 3 KB: enough to overflow the stack of wasmtime's recursive type reader
    // and abort the process, were it read.
    for levels in [wasm_sandbox::MAX_TYPE_NESTING as usize, 1_000, 1_000_000] {
        let err = refused(
            WasmSandbox::builder()
                .enable_cache(false)
                .bytes(nested_instance_types(levels)),
        )
        .await;
        match &err {
            Error::ComponentTooComplex {
                what, found, limit, ..
            } => {
                assert_eq!(what, "nesting depth of component and instance types");
                assert_eq!(*limit, wasm_sandbox::MAX_TYPE_NESTING);
                assert_eq!(*found, wasm_sandbox::MAX_TYPE_NESTING + 1);
            }
            other => panic!("{levels} levels: expected ComponentTooComplex, got {other:?}"),
        }
    }
    // The same inside a nested component, and through `inspect`.
    let mut outer = b"\0asm\x0d\0\x01\0".to_vec();
    let inner = nested_instance_types(5_000);
    outer.push(0x04);
    let mut len = inner.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            outer.push(byte);
            break;
        }
        outer.push(byte | 0x80);
    }
    outer.extend_from_slice(&inner);
    let err = refused(
        WasmSandbox::builder()
            .enable_cache(false)
            .bytes(outer.clone()),
    )
    .await;
    assert!(matches!(err, Error::ComponentTooComplex { .. }), "{err:?}");
    let err = wasm_sandbox::ComponentInfo::from_bytes(outer.clone()).unwrap_err();
    assert!(matches!(err, Error::ComponentTooComplex { .. }), "{err:?}");
    // The outline reads types without compiling, recursively too: the same
    // check runs first.
    let err = wasm_sandbox::ComponentOutline::from_bytes(outer).unwrap_err();
    assert!(matches!(err, Error::ComponentTooComplex { .. }), "{err:?}");
    for levels in [wasm_sandbox::MAX_TYPE_NESTING as usize, 1_000_000] {
        let err =
            wasm_sandbox::ComponentOutline::from_bytes(nested_instance_types(levels)).unwrap_err();
        assert!(matches!(err, Error::ComponentTooComplex { .. }), "{err:?}");
    }
    // In the text format, the text parser's own nesting limit answers.
    let levels = 10_000;
    let text = format!(
        "(component (type {}(instance){}))",
        "(instance (type ".repeat(levels),
        "))".repeat(levels)
    );
    let err = refused(WasmSandbox::builder().enable_cache(false).bytes(text)).await;
    assert!(
        matches!(
            err,
            Error::ComponentTooComplex { .. } | Error::InvalidBinary { .. }
        ),
        "{err:?}"
    );
    crate::assert_host_usable().await;
}

#[tokio::test]
async fn types_nested_up_to_the_limit_load() {
    // One level below the limit (the outermost type counts as one).
    let levels = wasm_sandbox::MAX_TYPE_NESTING as usize - 1;
    let sandbox = WasmSandbox::builder()
        .enable_cache(false)
        .bytes(nested_instance_types(levels))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{levels} levels: {e}"));
    assert!(sandbox.list_exports().is_empty());
}
