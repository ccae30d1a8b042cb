//! `wasm-sandbox policy diff`.

use crate::cli::DiffArgs;
use crate::exit::{Exit, Failure};
use crate::grants::read_policy;
use crate::plugin::print_json;

pub(crate) fn diff(args: DiffArgs, json: bool) -> Result<Exit, Failure> {
    let old = read_policy(&args.old)?;
    let new = read_policy(&args.new)?;
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
