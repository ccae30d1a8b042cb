//! `run PLUGIN -- ARGS` for a command component (a program with a `main`):
//! its output streamed to the terminal, its exit status ours.

use std::path::Path;

use wasm_sandbox::{CommandStatus, WasmSandbox};

use crate::exit::{Exit, Failure, exit_for};
use crate::plugin::{print_audit_notes, print_json};

/// Runs the command with `args`; stdin is the CLI's own, read only as the
/// program reads it.
pub(crate) async fn run(
    sandbox: WasmSandbox,
    plugin: &Path,
    args: Vec<String>,
    json: bool,
) -> Result<Exit, Failure> {
    let (exit, out) = execute(&sandbox, plugin, args, json, false).await?;
    if let Some(out) = out {
        print_json(&out);
    }
    Ok(exit)
}

/// Runs the command: in text mode its output goes to the terminal (its
/// stdout to our stderr with `stdout_to_stderr`, for `learn`, whose stdout
/// is the policy) and our notes and any failure are printed; with `json`,
/// its output is captured and returned in the JSON, which is not printed.
pub(crate) async fn execute(
    sandbox: &WasmSandbox,
    plugin: &Path,
    args: Vec<String>,
    json: bool,
    stdout_to_stderr: bool,
) -> Result<(Exit, Option<serde_json::Value>), Failure> {
    // What loading noted (imports loaded under --imports=warn) comes before
    // the program's output; what the run did, after it.
    let loaded = sandbox.audit_log().events();
    if !json {
        print_audit_notes(&loaded);
    }
    let mut run = sandbox.command().args(args.iter().cloned()).inherit_stdin();
    if !json {
        run = if stdout_to_stderr {
            run.stdout_to(std::io::stderr())
        } else {
            run.stdout_to(std::io::stdout())
        }
        .stderr_to(std::io::stderr());
    }
    let output = run.run().await?;
    let mut audit = sandbox.audit_log().events();
    let exit = match &output.status {
        CommandStatus::Exited(code) => Exit::Program(u8::try_from(*code).unwrap_or(u8::MAX)),
        CommandStatus::Failed(error) => exit_for(error),
        // A status added later: the run did not succeed.
        _ => Exit::Other,
    };
    if json {
        let mut out = serde_json::json!({
            "plugin": plugin,
            "command": true,
            "args": args,
            "status": output.status.code(),
            "stdout": output.stdout_text(),
            "stderr": output.stderr_text(),
            "stdout_truncated": output.stdout_truncated,
            "stderr_truncated": output.stderr_truncated,
            "audit": audit,
            "exit_code": exit.code(),
        });
        if let CommandStatus::Failed(error) = output.status {
            out["error"] = Failure::from(error).to_json();
        }
        return Ok((exit, Some(out)));
    } else {
        print_audit_notes(&audit.split_off(loaded.len().min(audit.len())));
        if let CommandStatus::Failed(mut error) = output.status {
            // Its stderr is already on the terminal: not again in the error.
            if let wasm_sandbox::Error::Trap { guest_stderr, .. } = &mut error {
                guest_stderr.clear();
            }
            eprintln!("{}", Failure::from(error));
        }
    }
    Ok((exit, None))
}
