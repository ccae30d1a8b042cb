//! Reading a plugin and turning it into a compiled [`Component`].
//!
//! Before wasmtime sees the bytes they are checked cheaply, so that the common
//! mistakes get a message that says what is wrong: an empty or truncated file,
//! something that is not WebAssembly at all, or a core module where a
//! component is needed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::Component;

use crate::cache::{CacheOutcome, CompileCache, load_artifact, precompile};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::read::{Follow, InputLimits, ReadError, read_bounded};

/// Where a plugin comes from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// A `.wasm` file (or `.wat` text) on disk.
    Path(PathBuf),
    /// Bytes already in memory (binary or text format).
    Bytes(Arc<[u8]>),
    /// An artifact made by [`precompile`](crate::precompile).
    Precompiled(PathBuf),
}

impl Source {
    /// A short description for error messages.
    pub(crate) fn origin(&self) -> String {
        match self {
            Source::Path(path) | Source::Precompiled(path) => {
                format!("plugin `{}`", path.display())
            }
            Source::Bytes(_) => "the plugin (given as bytes)".to_string(),
        }
    }

    /// The plugin's name as used in logs: the file stem, or `plugin`.
    pub(crate) fn default_name(&self) -> String {
        match self {
            Source::Path(path) | Source::Precompiled(path) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plugin".to_string()),
            Source::Bytes(_) => "plugin".to_string(),
        }
    }

    fn read(&self, limits: &InputLimits) -> Result<Arc<[u8]>> {
        match self {
            Source::Bytes(bytes) => Ok(bytes.clone()),
            Source::Path(path) => read_plugin_file(path, limits).map(Arc::from),
            Source::Precompiled(path) => read_file(
                path,
                "precompiled artifact",
                limits.artifact_bytes,
                "SandboxBuilder::max_artifact_bytes(..)",
            )
            .map(Arc::from),
        }
    }
}

/// Reads a plugin file (`.wasm` or `.wat`) with the bounds of `limits`.
///
/// # Errors
///
/// [`Error::NotARegularFile`], [`Error::InputTooLarge`] or [`Error::Io`].
pub(crate) fn read_plugin_file(path: &Path, limits: &InputLimits) -> Result<Vec<u8>> {
    read_file(
        path,
        "plugin file",
        limits.plugin_bytes,
        "SandboxBuilder::max_plugin_bytes(..)",
    )
}

/// Reads `path` with [`read_bounded`] and turns a refusal into the error
/// that names `what` the file was read as and the `setting` that raises
/// `limit`.
fn read_file(path: &Path, what: &str, limit: u64, setting: &str) -> Result<Vec<u8>> {
    read_bounded(path, limit, Follow::Symlinks).map_err(|e| match e {
        ReadError::Io(source) => Error::Io {
            path: path.to_path_buf(),
            cause: source,
        },
        ReadError::NotRegular(kind) => Error::NotARegularFile {
            what: what.to_string(),
            path: path.to_path_buf(),
            kind: kind.to_string(),
        },
        ReadError::TooLarge { size } => Error::InputTooLarge {
            what: what.to_string(),
            path: path.to_path_buf(),
            size,
            limit,
            setting: setting.to_string(),
        },
    })
}

const MAGIC: &[u8; 4] = b"\0asm";
const CORE_MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
/// The first bytes of a precompiled artifact (see `cache.rs`).
const ARTIFACT_MAGIC: &[u8; 8] = b"WSBXCOMP";

/// A compiled plugin, with what loading it learned.
pub(crate) struct Loaded {
    pub(crate) component: Component,
    /// What the compile cache did, if it was used.
    pub(crate) cache_outcome: Option<CacheOutcome>,
    /// The core instances an instantiation makes, counted from the binary
    /// (`counts::core_instances`); `None` for a precompiled artifact, whose
    /// binary is not at hand.
    pub(crate) core_instances: Option<u64>,
}

/// Reads, checks and compiles a plugin, through the compile cache when one
/// is given.
/// The component binary of `source`, read and checked as for loading
/// (size, format, nesting), without compiling it. Not for precompiled
/// artifacts.
pub(crate) fn checked_binary(source: &Source, limits: &InputLimits) -> Result<Vec<u8>> {
    let origin = source.origin();
    let bytes = source.read(limits)?;
    Ok(to_component_binary(&origin, &bytes)?.into_owned())
}

pub(crate) fn compile(
    engine_for: impl FnOnce(&[String]) -> Result<Engine>,
    source: &Source,
    cache: Option<&CompileCache>,
    limits: &InputLimits,
) -> Result<(Engine, Loaded)> {
    let origin = source.origin();
    let bytes = source.read(limits)?;
    if let Source::Precompiled(path) = source {
        // The binary is not at hand: the builder's own setting decides.
        let engine = engine_for(&[])?;
        return load_artifact(engine.wasmtime(), &bytes)
            .map(|component| {
                let loaded = Loaded {
                    component,
                    cache_outcome: None,
                    core_instances: None,
                };
                (engine, loaded)
            })
            .map_err(|e| Error::InvalidArtifact {
                path: path.clone(),
                reason: e.to_string(),
            });
    }
    let binary = to_component_binary(&origin, &bytes)?;
    let engine = engine_for(&super::async_abi::uses(&binary))?;
    let core_instances = Some(super::counts::core_instances(&binary));
    let (component, cache_outcome) = match cache {
        Some(cache) => cache
            .clone()
            .max_entry_bytes(limits.artifact_bytes)
            .get_or_compile(engine.wasmtime(), &binary)
            .map(|(component, outcome)| (component, Some(outcome)))
            .map_err(|e| Error::compile(&origin, e))?,
        None => Component::from_binary(engine.wasmtime(), &binary)
            .map(|component| (component, None))
            .map_err(|e| Error::compile(&origin, e))?,
    };
    let loaded = Loaded {
        component,
        cache_outcome,
        core_instances,
    };
    Ok((engine, loaded))
}

/// Reads, checks and compiles a plugin, and returns it as a precompiled
/// artifact for [`SandboxBuilder::precompiled`](crate::SandboxBuilder::precompiled),
/// compiled by the engine `engine_for` picks for what the plugin uses of
/// the component model's async ABI.
pub(crate) fn precompile_source(
    engine_for: impl FnOnce(&[String]) -> Result<Engine>,
    source: &Source,
    limits: &InputLimits,
) -> Result<Vec<u8>> {
    let origin = source.origin();
    let bytes = source.read(limits)?;
    let binary = to_component_binary(&origin, &bytes)?;
    let engine = engine_for(&super::async_abi::uses(&binary))?;
    precompile(engine.wasmtime(), &binary).map_err(|e| Error::compile(&origin, e))
}

/// Returns the binary encoding of a component, or the error that explains
/// why `bytes` are not one.
fn to_component_binary<'a>(origin: &str, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>> {
    let invalid = |reason: String| Error::InvalidBinary {
        origin: origin.to_string(),
        reason,
    };
    if bytes.is_empty() {
        return Err(invalid("it is empty (0 bytes)".to_string()));
    }
    // Native code never loads from here, whatever its extension: only
    // `SandboxBuilder::precompiled` loads artifacts.
    if bytes.starts_with(ARTIFACT_MAGIC) {
        return Err(invalid(
            "this is a precompiled artifact (native machine code, made by `precompile` or \
             `wasm-sandbox compile -o`), not a component; load it with \
             `.precompiled(..)` (trusted code only: artifacts this host made itself)"
                .to_string(),
        ));
    }
    if bytes.starts_with(UTF8_BOM) {
        return Err(invalid(
            "it starts with a UTF-8 byte order mark (bytes 0xefbbbf at offset 0), which the \
             WebAssembly text format does not allow; save the `.wat` file as UTF-8 without a BOM"
                .to_string(),
        ));
    }
    if let Some(at) = non_utf8_text(bytes) {
        return Err(invalid(format!(
            "it looks like WebAssembly text, but the byte 0x{:02x} at offset {at} is not valid \
             UTF-8; the text format is UTF-8 only: save the `.wat` file as UTF-8",
            bytes[at]
        )));
    }
    let binary: std::borrow::Cow<'a, [u8]> = if bytes.starts_with(MAGIC) {
        std::borrow::Cow::Borrowed(bytes)
    } else if looks_like_text(bytes) {
        // The WebAssembly text format, handy for tests and small examples.
        match wat::parse_bytes(bytes) {
            Ok(binary) => std::borrow::Cow::Owned(binary.into_owned()),
            Err(e) => return Err(invalid(format!("it is not valid WebAssembly text: {e}"))),
        }
    } else {
        return Err(invalid(format!(
            "it does not start with the WebAssembly magic number `\\0asm` (it starts with {})",
            hex_prefix(bytes)
        )));
    };
    if binary.len() < 8 {
        return Err(invalid(format!(
            "it is truncated: {} bytes, shorter than the 8-byte header",
            binary.len()
        )));
    }
    let version: [u8; 4] = [binary[4], binary[5], binary[6], binary[7]];
    if version == CORE_MODULE_VERSION {
        return Err(Error::NotAComponent {
            origin: origin.to_string(),
        });
    }
    if version != COMPONENT_VERSION {
        return Err(invalid(format!(
            "its header declares an unknown binary version {version:02x?}; \
             this host reads component binaries (version 0x0d, layer 1)"
        )));
    }
    // Walk the section structure (no validation, which wasmtime does): this
    // catches truncated and garbled files with the byte offset of the damage,
    // and structure whose compilation would cost far more than its size.
    check_structure(origin, &binary)?;
    Ok(binary)
}

/// How deeply components and modules may nest inside a plugin: deeper ones
/// are refused with [`Error::ComponentTooComplex`] before compiling.
///
/// The top-level component is level 0, a component or core module inside it
/// level 1. Toolchains emit two or three levels; wasmtime's compilation
/// needs time and memory that grow quadratically with the depth.
pub const MAX_NESTING_DEPTH: u64 = 100;

/// How many components and core modules a plugin may nest in all: more are
/// refused with [`Error::ComponentTooComplex`] before compiling.
///
/// A Rust `wasm32-wasip2` plugin nests a handful.
pub const MAX_NESTED_ITEMS: u64 = 10_000;

/// The deepest nesting of component and instance types inside one another
/// that a plugin may have: type definitions nest a few levels in practice,
/// and wasmparser and wasmtime read nested types recursively (a few hundred
/// levels exhaust a 2 MiB thread stack and abort the process), so deeper
/// ones are refused, without recursion, before anything else reads them.
pub const MAX_TYPE_NESTING: u64 = 32;

/// Reads a component type section's types without recursion and returns
/// the first nesting depth over [`MAX_TYPE_NESTING`] with its offset, or
/// `None`. A malformed section is left to the validator (`None`): only the
/// depth is decided here.
fn deepest_type(section: &[u8], offset: usize) -> Option<(u64, usize)> {
    use wasmparser::{
        BinaryReader, ComponentAlias, ComponentExternName, ComponentImport, ComponentType,
        ComponentTypeRef, CoreType,
    };
    let mut reader = BinaryReader::new(section, offset);
    let count = reader.read_var_u32().ok()?;
    // For each open component or instance type: the declarations it has
    // left, and whether it is a component type (which may also import).
    let mut open: Vec<(u32, bool)> = Vec::new();
    for _ in 0..count {
        // Reads the type at the reader's position; opens it when it nests.
        let mut at_type = true;
        loop {
            if at_type {
                match reader.clone().read_u8().ok()? {
                    kind @ (0x41 | 0x42) => {
                        let position = reader.original_position();
                        reader.read_u8().ok()?;
                        let declarations = reader.read_var_u32().ok()?;
                        open.push((declarations, kind == 0x41));
                        if open.len() as u64 > MAX_TYPE_NESTING {
                            return Some((open.len() as u64, position));
                        }
                    }
                    // Every other type refers to others by index only.
                    _ => {
                        reader.read::<ComponentType>().ok()?;
                    }
                }
                at_type = false;
            }
            let Some((left, component)) = open.last_mut() else {
                break;
            };
            if *left == 0 {
                open.pop();
                continue;
            }
            *left -= 1;
            let component = *component;
            match reader.read_u8().ok()? {
                0x03 if component => {
                    reader.read::<ComponentImport>().ok()?;
                }
                0x00 => {
                    reader.read::<CoreType>().ok()?;
                }
                0x01 => at_type = true,
                0x02 => {
                    reader.read::<ComponentAlias>().ok()?;
                }
                0x04 => {
                    reader.read::<ComponentExternName>().ok()?;
                    reader.read::<ComponentTypeRef>().ok()?;
                }
                _ => return None,
            }
        }
    }
    None
}

/// Walks the payloads of `binary` (without validating them) and checks the
/// nesting depth and the number of nested components and modules, and how
/// deeply its types nest.
fn check_structure(origin: &str, binary: &[u8]) -> Result<()> {
    use wasmparser::Payload;
    let too_complex = |what: &str, found: u64, limit: u64, offset: usize| {
        Err(Error::ComponentTooComplex {
            origin: origin.to_string(),
            what: what.to_string(),
            found,
            limit,
            offset,
        })
    };
    let mut depth: u64 = 0;
    let mut items: u64 = 0;
    for payload in wasmparser::Parser::new(0).parse_all(binary) {
        match payload {
            Err(e) => {
                return Err(Error::InvalidBinary {
                    origin: origin.to_string(),
                    reason: format!(
                        "it is malformed at byte offset {}: {}",
                        e.offset(),
                        e.message()
                    ),
                });
            }
            Ok(
                Payload::ModuleSection {
                    unchecked_range, ..
                }
                | Payload::ComponentSection {
                    unchecked_range, ..
                },
            ) => {
                depth += 1;
                items += 1;
                if depth > MAX_NESTING_DEPTH {
                    return too_complex(
                        "nesting depth of components and modules",
                        depth,
                        MAX_NESTING_DEPTH,
                        unchecked_range.start,
                    );
                }
                if items > MAX_NESTED_ITEMS {
                    return too_complex(
                        "number of nested components and modules",
                        items,
                        MAX_NESTED_ITEMS,
                        unchecked_range.start,
                    );
                }
            }
            Ok(Payload::ComponentTypeSection(section)) => {
                let range = section.range();
                if let Some((found, offset)) = deepest_type(&binary[range.clone()], range.start) {
                    return too_complex(
                        "nesting depth of component and instance types",
                        found,
                        MAX_TYPE_NESTING,
                        offset,
                    );
                }
            }
            // Every parser, the outermost included, ends with `End`.
            Ok(Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// The UTF-8 encoding of U+FEFF, which some editors put at the start of a
/// text file.
const UTF8_BOM: &[u8; 3] = b"\xef\xbb\xbf";

/// For bytes that start like WebAssembly text (after ASCII whitespace: `(`
/// or a `;;` / `(;` comment) but are not UTF-8: the offset of the first
/// invalid byte.
fn non_utf8_text(bytes: &[u8]) -> Option<usize> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if !matches!(bytes[start..], [b'(', ..] | [b';', b';', ..]) {
        return None;
    }
    std::str::from_utf8(bytes).err().map(|e| e.valid_up_to())
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let trimmed = text.trim_start();
    trimmed.starts_with('(') || trimmed.starts_with(";;") || trimmed.starts_with("(;")
}

fn hex_prefix(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("0x{}", shown.join(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> Result<()> {
        to_component_binary("test", bytes).map(|_| ())
    }

    #[test]
    fn empty_input_is_named() {
        let err = check(b"").unwrap_err();
        assert!(matches!(err, Error::InvalidBinary { ref reason, .. } if reason.contains("empty")));
    }

    #[test]
    fn random_bytes_are_not_wasm() {
        let err = check(&[0x7f, b'E', b'L', b'F', 1, 2, 3]).unwrap_err();
        assert!(
            matches!(err, Error::InvalidBinary { ref reason, .. } if reason.contains("magic number") && reason.contains("0x7f454c46")),
            "{err}"
        );
    }

    #[test]
    fn core_modules_are_recognised_in_both_formats() {
        let binary = wat::parse_str("(module)").unwrap();
        assert!(matches!(check(&binary), Err(Error::NotAComponent { .. })));
        assert!(matches!(
            check(b"(module (func))"),
            Err(Error::NotAComponent { .. })
        ));
    }

    #[test]
    fn truncated_component_reports_an_offset() {
        let binary = wat::parse_str(
            r#"(component (core module (func (export "f") (result i32) i32.const 7)))"#,
        )
        .unwrap();
        let err = check(&binary[..binary.len() - 5]).unwrap_err();
        assert!(
            matches!(err, Error::InvalidBinary { ref reason, .. } if reason.contains("offset")),
            "{err}"
        );
        assert!(check(&binary).is_ok());
    }

    #[test]
    fn artifacts_are_never_loaded_as_sources() {
        let err = check(b"WSBXCOMP\x01\x00\x00\x00 native code follows").unwrap_err();
        assert!(
            matches!(err, Error::InvalidBinary { ref reason, .. }
                if reason.contains("precompiled artifact") && reason.contains(".precompiled(..)")),
            "{err}"
        );
    }

    // Nesting depth is tested end to end, on binaries built byte by byte
    // (`tests/e2e/inputs.rs`): refused at one level over the limit, loaded
    // at the limit.

    #[test]
    fn too_many_nested_items_are_refused() {
        let mut text = String::from("(component");
        for _ in 0..=MAX_NESTED_ITEMS {
            text.push_str(" (component)");
        }
        text.push(')');
        let err = check(text.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, Error::ComponentTooComplex { what, found, .. }
                if what.contains("number") && *found == MAX_NESTED_ITEMS + 1),
            "{err:?}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_named() {
        let err = check(b"\xef\xbb\xbf(component)").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidBinary { reason, .. }
                if reason.contains("byte order mark") && reason.contains("without a BOM")),
            "{err}"
        );
    }

    #[test]
    fn a_non_utf8_byte_in_text_is_named_with_its_offset() {
        let err = check(b"(component ;; caf\xe9\n)").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidBinary { reason, .. }
                if reason.contains("byte 0xe9 at offset 17") && reason.contains("UTF-8")),
            "{err}"
        );
        // Binary input is not text, whatever its bytes.
        assert!(non_utf8_text(b"\0asm\xff").is_none());
    }

    #[test]
    fn bad_text_is_reported() {
        let err = check(b"(component (garbage))").unwrap_err();
        assert!(
            matches!(err, Error::InvalidBinary { ref reason, .. } if reason.contains("text")),
            "{err}"
        );
    }
}
