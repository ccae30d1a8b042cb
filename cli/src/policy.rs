//! `wasm-sandbox policy diff`.

use crate::cli::DiffArgs;
use crate::exit::{Exit, Failure};
use crate::grants::read_policy;
use crate::plugin::print_json;

/// Reads a policy file and validates it as `run` does.
fn checked_policy(path: &std::path::Path) -> Result<wasm_sandbox::SecurityPolicy, Failure> {
    let policy = read_policy(path)?;
    policy.validate().map_err(|e| {
        Failure::from(e)
            .hint("the Security model chapter of the guide describes the policy file format")
    })?;
    Ok(policy)
}

pub(crate) fn diff(args: DiffArgs, json: bool) -> Result<Exit, Failure> {
    // Both policies are checked as `run` checks its policy, so a diff never
    // compares a policy that could not run.
    let old = checked_policy(&args.old)?;
    let new = checked_policy(&args.new)?;
    let diff = old.diff(&new);
    let exit = if diff.widens() {
        Exit::PluginError
    } else {
        Exit::Success
    };
    if json {
        print_json(&serde_json::json!({
            "old": args.old,
            "new": args.new,
            "widens": diff.widens(),
            "added": diff.added,
            "removed": diff.removed,
            "denials_dropped": diff.denials_dropped,
            "denials_added": diff.denials_added,
            "imports_relaxed": diff.imports_relaxed,
            "exit_code": exit.code(),
        }));
    } else {
        out!("{diff}");
        if diff.widens() {
            outln!("{} widens {}", args.new.display(), args.old.display());
        } else {
            outln!(
                "{} does not widen {}",
                args.new.display(),
                args.old.display()
            );
        }
    }
    Ok(exit)
}
