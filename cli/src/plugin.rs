//! Loading a plugin from the command line, finding the function to call,
//! and printing what happened.

use std::io::Read as _;
use std::path::Path;

use wasm_sandbox::{
    AuditEvent, CapabilityKind, Decision, Error, ExportFunction, SandboxBuilder, WasmSandbox,
};

use crate::cli::Limits;
use crate::exit::Failure;

/// The first bytes of a precompiled artifact (`compile -o`).
const ARTIFACT_MAGIC: &[u8; 8] = b"WSBXCOMP";

/// Whether `path` is a precompiled artifact rather than a component.
pub(crate) fn is_artifact(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == ARTIFACT_MAGIC)
}

/// A builder for the plugin at `path`: a component, or a precompiled
/// artifact.
pub(crate) fn builder(path: &Path) -> SandboxBuilder {
    if is_artifact(path) {
        WasmSandbox::builder().precompiled(path)
    } else {
        WasmSandbox::builder().source(path)
    }
}

/// Applies `--memory`, `--timeout` and `--fuel`.
pub(crate) fn limits(mut builder: SandboxBuilder, limits: &Limits) -> SandboxBuilder {
    if let Some(bytes) = limits.memory {
        builder = builder.memory_limit(bytes);
    }
    if let Some(timeout) = limits.timeout {
        builder = builder.cpu_timeout(timeout);
    }
    if let Some(fuel) = limits.fuel {
        builder = builder.fuel(fuel);
    }
    builder
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

/// Prints the events that need attention (denied, warnings) on stderr;
/// a limit is left to the error that reports it.
pub(crate) fn print_audit_notes(events: &[AuditEvent]) {
    for event in events
        .iter()
        .filter(|e| e.decision != Decision::Allowed && e.capability != CapabilityKind::Limit)
    {
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
