//! `wasm-sandbox compile`.

use std::collections::HashSet;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wasm_sandbox::{CacheOutcome, ComponentInfo, WasmSandbox};

use crate::cli::CompileArgs;
use crate::exit::{Exit, Failure};
use crate::plugin::print_json;

/// What happened to one plugin.
struct Compiled {
    plugin: PathBuf,
    outcome: Result<Done, Failure>,
    elapsed: Duration,
}

enum Done {
    /// Compiled into (or found in) the cache.
    Cache(Option<CacheOutcome>),
    /// Written to a file.
    File { path: PathBuf, bytes: usize },
}

impl Done {
    fn describe(&self) -> String {
        match self {
            Done::Cache(Some(CacheOutcome::Hit)) => "already in the cache".to_string(),
            Done::Cache(Some(CacheOutcome::Miss)) => "compiled into the cache".to_string(),
            Done::Cache(Some(CacheOutcome::Replaced { reason })) => {
                format!("compiled into the cache, replacing an unusable entry ({reason})")
            }
            Done::Cache(Some(CacheOutcome::NotStored { reason })) => {
                format!("compiled, but could not be cached: {reason}")
            }
            Done::Cache(_) => "compiled (the compile cache is not available)".to_string(),
            Done::File { path, .. } => format!("wrote {}", path.display()),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Done::Cache(Some(CacheOutcome::Hit)) => "cached",
            Done::Cache(Some(CacheOutcome::NotStored { .. })) | Done::Cache(None) => "not-cached",
            Done::Cache(_) => "compiled",
            Done::File { .. } => "written",
        }
    }
}

pub(crate) fn compile(args: CompileArgs, json: bool) -> Result<Exit, Failure> {
    if let Some(dir) = &args.out_dir {
        let mut stems = HashSet::new();
        for plugin in &args.plugins {
            let stem = artifact_name(plugin);
            if !stems.insert(stem.clone()) {
                return Err(Failure::usage(format!(
                    "two plugins would both be written to {}",
                    dir.join(&stem).display()
                ))
                .hint("compile plugins with the same file name into different directories"));
            }
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::new(
                Exit::Other,
                format!("could not create the directory `{}`: {e}", dir.display()),
            )
        })?;
    }
    let bar = progress_bar(args.plugins.len(), json);
    let mut results = Vec::new();
    for plugin in &args.plugins {
        bar.set_message(plugin.display().to_string());
        let start = Instant::now();
        let outcome = match &args.out_dir {
            None => ComponentInfo::from_file(plugin)
                .map(|info| Done::Cache(info.cache_outcome().cloned()))
                .map_err(Failure::from),
            Some(dir) => write_artifact(plugin, dir),
        };
        let compiled = Compiled {
            plugin: plugin.clone(),
            outcome,
            elapsed: start.elapsed(),
        };
        if !json {
            bar.suspend(|| match &compiled.outcome {
                Ok(done) => outln!("{}: {}", compiled.plugin.display(), done.describe()),
                Err(failure) => eprintln!("{failure}"),
            });
        }
        results.push(compiled);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let exit = results
        .iter()
        .find_map(|r| r.outcome.as_ref().err().map(|f| f.exit))
        .unwrap_or(Exit::Success);
    if json {
        let plugins: Vec<serde_json::Value> = results
            .iter()
            .map(|r| match &r.outcome {
                Ok(done) => {
                    let mut v = serde_json::json!({
                        "plugin": r.plugin,
                        "outcome": done.kind(),
                        "detail": done.describe(),
                        "elapsed_ms": r.elapsed.as_millis() as u64,
                    });
                    if let Done::File { path, bytes } = done {
                        v["output"] = serde_json::json!(path);
                        v["bytes"] = serde_json::json!(bytes);
                    }
                    v
                }
                Err(failure) => serde_json::json!({
                    "plugin": r.plugin,
                    "outcome": "failed",
                    "error": failure.to_json(),
                    "elapsed_ms": r.elapsed.as_millis() as u64,
                }),
            })
            .collect();
        print_json(&serde_json::json!({
            "plugins": plugins,
            "exit_code": exit.code(),
        }));
    }
    Ok(exit)
}

/// `greeter.wasm` -> `greeter.cwasm`.
fn artifact_name(plugin: &Path) -> String {
    let stem = plugin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".to_string());
    format!("{stem}.cwasm")
}

fn write_artifact(plugin: &Path, dir: &Path) -> Result<Done, Failure> {
    let artifact = WasmSandbox::builder().source(plugin).precompile()?;
    let path = dir.join(artifact_name(plugin));
    std::fs::write(&path, &artifact).map_err(|e| {
        Failure::new(
            Exit::Other,
            format!("could not write `{}`: {e}", path.display()),
        )
    })?;
    Ok(Done::File {
        path,
        bytes: artifact.len(),
    })
}

/// A bar on stderr, for people watching: hidden when stderr is not a
/// terminal and with `--json`.
fn progress_bar(len: usize, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} compiling [{bar:30}] {pos}/{len} {wide_msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
