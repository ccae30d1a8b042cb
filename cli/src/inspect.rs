//! `wasm-sandbox inspect`.

use wasm_sandbox::ComponentOutline;

use crate::cli::InspectArgs;
use crate::exit::{Exit, Failure, how_to_grant};
use crate::plugin::{is_artifact, print_json};

pub(crate) fn inspect(args: InspectArgs, json: bool) -> Result<Exit, Failure> {
    if is_artifact(&args.plugin) {
        return Err(Failure::usage(format!(
            "`{}` is a precompiled artifact (native machine code, made by `wasm-sandbox compile -o`), \
             not a component; it was not loaded, and it keeps no types to inspect",
            args.plugin.display()
        ))
        .hint("inspect the .wasm it was compiled from"));
    }
    // Read from the binary, not compiled: works on any valid component.
    let info = ComponentOutline::from_file(&args.plugin)?;
    if json {
        print_json(&to_json(&info, &args));
    } else {
        print_text(&info, &args);
    }
    Ok(Exit::Success)
}

fn to_json(info: &ComponentOutline, args: &InspectArgs) -> serde_json::Value {
    let exports: Vec<serde_json::Value> = info
        .exports
        .iter()
        .map(|e| {
            serde_json::json!({
                "name": e.name,
                "short_name": e.short_name,
                "interface": e.interface,
                "function": e.function,
                "signature": e.signature,
                "params": e.params.iter().map(|(_, t)| t).collect::<Vec<_>>(),
                "param_names": e.params.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            })
        })
        .collect();
    let imports: Vec<serde_json::Value> = info
        .imports
        .iter()
        .map(|i| {
            serde_json::json!({
                "name": i.name,
                "functions": i.functions,
                "types_only": i.types_only,
                "capability": i.capability,
            })
        })
        .collect();
    serde_json::json!({
        "plugin": args.plugin,
        "kind": if info.is_command() { "command" } else { "plugin" },
        "package": info.package,
        "exported_interfaces": info.exported_interfaces,
        "component_model_async": info.async_abi,
        "exports": exports,
        "imports": imports,
        "capabilities": needed_capabilities(info),
        "exit_code": Exit::Success.code(),
    })
}

fn print_text(info: &ComponentOutline, args: &InspectArgs) {
    outln!("{}", args.plugin.display());
    match &info.package {
        _ if info.is_command() => outln!(
            "command: a program with a `main` (it exports wasi:cli/run); run it with \
             `wasm-sandbox run PLUGIN -- ARGS`"
        ),
        Some(package) => outln!("package: {package} (from its exports)"),
        None if info.exported_interfaces.is_empty() => {
            outln!("package: unknown (it exports no interface)")
        }
        None => outln!(
            "package: unknown (its exported interfaces belong to no single package: {})",
            info.exported_interfaces.join(", ")
        ),
    }
    outln!();
    outln!("exports:");
    let width = info
        .exports
        .iter()
        .map(|e| e.short_name.len())
        .max()
        .unwrap_or(0);
    for export in &info.exports {
        outln!("  {:<width$}  {export}", export.short_name);
    }
    if info.exports.is_empty() {
        outln!("  (none)");
    }
    outln!();
    outln!("imports:");
    let width = info.imports.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for import in &info.imports {
        let what = if import.types_only {
            "types only".to_string()
        } else {
            match import.functions.len() {
                0 => "no functions".to_string(),
                1 => "1 function".to_string(),
                n => format!("{n} functions"),
            }
        };
        match &import.capability {
            Some(capability) => {
                outln!("  {:<width$}  {what:<13}  needs {capability}", import.name)
            }
            None => outln!("  {:<width$}  {what}", import.name),
        }
    }
    if info.imports.is_empty() {
        outln!("  (none)");
    }
    if !info.async_abi.is_empty() {
        outln!();
        outln!(
            "component model async ABI: {} (loaded with wasmtime's concurrency support)",
            info.async_abi.join(", ")
        );
    }
    outln!();
    outln!("capabilities it can ever use:");
    let needed = needed_capabilities(info);
    if needed.is_empty() {
        outln!(
            "  none: it can compute, log, and read clocks and random numbers, nothing privileged"
        );
    }
    for capability in needed {
        outln!("  {capability}: {}", how_to_grant(capability));
    }
}

/// Each distinct capability of the imports, in order of first use.
fn needed_capabilities(info: &ComponentOutline) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for capability in info.imports.iter().filter_map(|i| i.capability.as_deref()) {
        if !out.contains(&capability) {
            out.push(capability);
        }
    }
    out
}
