//! Loading a plugin from the command line, finding the function to call,
//! and printing what happened.

use std::io::Read as _;
use std::path::Path;

use wasm_sandbox::{
    AuditEvent, CapabilityKind, Decision, Error, ExportFunction, SandboxBuilder, WasmSandbox,
};

use crate::cli::{AsyncAbi, Limits};
use crate::exit::{Exit, Failure};

/// The first bytes of a precompiled artifact (`compile -o`).
const ARTIFACT_MAGIC: &[u8; 8] = b"WSBXCOMP";

/// Whether `path` starts like a precompiled artifact. Only used to say what
/// a file is (and to pick the loader once the user allowed artifacts): the
/// header is never a reason to trust a file.
///
/// Only a regular file is looked at, and it is opened without blocking: a
/// FIFO or a device is "not an artifact" here and refused by the library's
/// bounded reader with a typed error.
pub(crate) fn is_artifact(path: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut head = [0u8; 8];
    std::fs::File::options()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .and_then(|mut f| {
            if f.metadata()?.is_file() {
                f.read_exact(&mut head)
            } else {
                Err(std::io::Error::other("not a regular file"))
            }
        })
        .is_ok_and(|()| &head == ARTIFACT_MAGIC)
}

/// A builder for the plugin at `path`. A component always loads (into the
/// sandbox); a precompiled artifact is native code, so it loads only with
/// `--allow-precompiled` (`allow_precompiled`), and is refused otherwise
/// without being loaded.
pub(crate) fn builder(path: &Path, allow_precompiled: bool) -> Result<SandboxBuilder, Failure> {
    match (is_artifact(path), allow_precompiled) {
        (true, true) => Ok(WasmSandbox::builder().precompiled(path)),
        (true, false) => Err(artifact_refused(path)),
        (false, _) => Ok(WasmSandbox::builder().source(path)),
    }
}

/// The refusal of an artifact given without `--allow-precompiled`.
pub(crate) fn artifact_refused(path: &Path) -> Failure {
    Failure::new(
        Exit::Load,
        format!(
            "`{}` is a precompiled artifact (native machine code, made by `wasm-sandbox compile -o`), \
             not a component; it was not loaded: artifacts run outside the sandbox's checks and \
             load only with --allow-precompiled",
            path.display()
        ),
    )
    .hint(
        "if you made this file yourself with `wasm-sandbox compile -o` and only you can write to \
         it, add --allow-precompiled; otherwise run the .wasm component it was made from",
    )
}

/// Refuses `--fuel` with a precompiled artifact: an artifact is compiled
/// for one engine, and the engine that counts fuel is another one, so the
/// artifact could never load; the `.wasm` it was made from can.
pub(crate) fn fuel_needs_wasm(path: &Path, limits: &Limits) -> Result<(), Failure> {
    if limits.fuel.is_some() && is_artifact(path) {
        return Err(Failure::new(
            Exit::Load,
            format!(
                "cannot load precompiled plugin `{}` under --fuel: it was compiled for an \
                 engine that does not count fuel, and only that engine can run it",
                path.display()
            ),
        )
        .hint(
            "run the .wasm component it was made from with --fuel, \
             or drop --fuel to run the artifact",
        ));
    }
    Ok(())
}

/// Applies `--memory`, `--timeout`, `--fuel` and `--max-plugin-size` (to
/// a component, or to an artifact: whichever `plugin` is).
pub(crate) fn limits(
    mut builder: SandboxBuilder,
    limits: &Limits,
    plugin: &Path,
) -> SandboxBuilder {
    if let Some(bytes) = limits.max_plugin_size {
        let bytes = bytes as u64;
        builder = if is_artifact(plugin) {
            builder.max_artifact_bytes(bytes)
        } else {
            builder.max_plugin_bytes(bytes)
        };
    }
    if let Some(bytes) = limits.memory {
        builder = builder.memory_limit(bytes);
    }
    if let Some(timeout) = limits.timeout {
        builder = builder.cpu_timeout(timeout);
    }
    if let Some(fuel) = limits.fuel {
        builder = builder.fuel(fuel);
    }
    match limits.component_model_async {
        AsyncAbi::Auto => builder,
        AsyncAbi::On => builder.component_model_async(true),
        AsyncAbi::Off => builder.component_model_async(false),
    }
}

/// Finds the export `name`: any name the host accepts (`math#add`, the full
/// name), or a bare function name (`add`) that only one export has.
pub(crate) fn resolve(sandbox: &WasmSandbox, name: &str) -> Result<ExportFunction, Failure> {
    match sandbox.export(name) {
        Ok(export) => Ok(export.clone()),
        Err(err @ Error::ExportNotFound { .. }) if !name.contains('#') => {
            let matches: Vec<&ExportFunction> = sandbox
                .list_exports()
                .iter()
                .filter(|e| e.function() == name)
                .collect();
            match matches.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(err.into()),
                several => {
                    let names: Vec<String> = several
                        .iter()
                        .map(|e| format!("`{}`", e.short_name()))
                        .collect();
                    Err(Failure::usage(format!(
                        "several exports are called `{name}`: {}; name one with its interface",
                        names.join(", ")
                    )))
                }
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// The failure for a plugin refused because it imports something no grant
/// covers. A plugin made by a toolchain that imports all of WASI whatever
/// the plugin uses (componentize-py) is told about
/// `--imports=warn` first: granting every interface it imports would be the
/// wrong fix.
pub(crate) fn refused_import(error: wasm_sandbox::Error, plugin: &Path) -> Failure {
    let wasm_sandbox::Error::UnsatisfiableImport { capability, .. } = &error else {
        return error.into();
    };
    let grant = crate::exit::how_to_grant(capability);
    match std::fs::read(plugin).ok().and_then(|b| toolchain(&b)) {
        Some(toolchain) => {
            let hint = format!(
                "{toolchain}, which imports all of WASI whatever the \
                 plugin uses: load it with --imports=warn (every use of an import not granted is \
                 still refused, and audited), or {grant}"
            );
            Failure::from(error).hint(hint)
        }
        None => error.into(),
    }
}

/// How a component was made, when that is known to import all of WASI
/// whatever the plugin uses, as the start of a sentence:
/// - componentize-py, recognised by the build-time `init` it exports (in an
///   interface named `exports`, with a `stub-wasi` parameter; its
///   `producers` sections name only wit-component);
/// - a command (a program with a `main`, exporting `wasi:cli/run`), whose
///   standard library (Rust's, wasi-libc) links the filesystem whether or
///   not the program opens a file.
///
/// The JavaScript toolchain imports only what a plugin uses.
pub(crate) fn toolchain(binary: &[u8]) -> Option<&'static str> {
    let outline = wasm_sandbox::ComponentOutline::from_bytes(binary.to_vec()).ok()?;
    let exports = &outline.exports;
    if exports.iter().any(|e| {
        e.interface.as_deref() == Some("exports")
            && e.function == "init"
            && e.params.iter().any(|(name, _)| name == "stub-wasi")
    }) {
        return Some("this plugin was built with componentize-py");
    }
    outline
        .is_command()
        .then_some("this plugin is a command (a program with a `main`) built on a standard library")
}

/// Prints the events that need attention (denied, warnings) on stderr;
/// a limit is left to the error that reports it.
pub(crate) fn print_audit_notes(events: &[AuditEvent]) {
    let notes = events
        .iter()
        .filter(|e| e.decision != Decision::Allowed && e.capability != CapabilityKind::Limit);
    let (imports, others): (Vec<&AuditEvent>, Vec<&AuditEvent>) = notes
        .partition(|e| e.capability == CapabilityKind::Import && e.decision == Decision::Warning);
    // Imports loaded under `--imports=warn` that no grant could allow: one
    // line for all of them (a Python plugin has nine); each use is still
    // refused, and audited, on a line of its own.
    if !imports.is_empty() {
        let names: Vec<String> = imports
            .iter()
            .map(|e| e.target.escape_debug().to_string())
            .collect();
        eprintln!(
            "audit: warning: loaded {} import{} that the policy can never allow, each use of \
             which will be refused: {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        );
    }
    for event in others {
        eprintln!("audit: {event}");
    }
}

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json(value: &serde_json::Value) {
    outln!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}
