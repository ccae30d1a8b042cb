//! `run` and `learn`: load a plugin, call one function, report.

use std::path::Path;

use wasm_sandbox::component::Val;
use wasm_sandbox::{
    AuditEvent, CapabilityKind, Decision, SandboxBuilder, ViolationAction, WasmSandbox,
};

use crate::cli::{LearnArgs, RunArgs};
use crate::exit::{Exit, Failure};
use crate::plugin::{self, print_audit_notes, print_json};
use crate::wave;

/// One finished call.
struct Called {
    function: String,
    result: Result<Option<Val>, Failure>,
    audit: Vec<AuditEvent>,
}

impl Called {
    /// The exit status: the call's error if it failed; else 4 if the policy
    /// denied anything (whatever the plugin made of it); else 1 for an
    /// `err(..)` result; else 0.
    fn exit(&self) -> Exit {
        match &self.result {
            Err(failure) => failure.exit,
            Ok(_) if self.audit.iter().any(|e| e.decision == Decision::Denied) => Exit::Denied,
            Ok(Some(Val::Result(Err(_)))) => Exit::PluginError,
            Ok(_) => Exit::Success,
        }
    }

    fn to_json(&self, plugin: &Path) -> serde_json::Value {
        let exit = self.exit();
        let mut out = serde_json::json!({
            "plugin": plugin,
            "function": self.function,
            "audit": self.audit,
            "exit_code": exit.code(),
        });
        match &self.result {
            Ok(value) => {
                out["result"] = value.as_ref().map(wave::to_wave).into();
                out["value"] = value
                    .as_ref()
                    .map_or(serde_json::Value::Null, wave::to_json);
            }
            Err(failure) => {
                out["error"] = failure.to_json();
            }
        }
        out
    }

    /// Prints the result on stdout (or, with `result_to_stderr`, as
    /// `result: ..` on stderr) and the audit notes and any error on stderr.
    fn print_text(&self, result_to_stderr: bool) {
        print_audit_notes(&self.audit);
        match &self.result {
            Ok(Some(value)) if result_to_stderr => eprintln!("result: {}", wave::to_wave(value)),
            Ok(Some(value)) => outln!("{}", wave::to_wave(value)),
            Ok(None) => {}
            Err(failure) => eprintln!("{failure}"),
        }
    }
}

/// Whether `run`/`learn` runs the plugin as a command: it is one, and no
/// function is named, or the one named is its `wasi:cli/run`.
fn runs_as_command(sandbox: &WasmSandbox, func: Option<&str>) -> bool {
    sandbox.is_command()
        && func.is_none_or(|func| {
            plugin::resolve(sandbox, func).is_ok_and(|e| {
                e.interface()
                    .is_some_and(|i| i.starts_with("wasi:cli/run@"))
            })
        })
}

/// Builds the sandbox; a refused import gets the hint for its toolchain.
async fn build(builder: SandboxBuilder, plugin: &Path) -> Result<WasmSandbox, Failure> {
    match builder.build().await {
        Ok(sandbox) => Ok(sandbox),
        Err(e @ wasm_sandbox::Error::UnsatisfiableImport { .. }) => {
            Err(plugin::refused_import(e, plugin))
        }
        Err(e) => Err(e.into()),
    }
}

/// `run PLUGIN` without a function, for a plugin that is not a command.
fn missing_function(sandbox: &WasmSandbox, plugin: &Path) -> Failure {
    let names: Vec<&str> = sandbox
        .list_exports()
        .iter()
        .map(|e| e.short_name())
        .take(8)
        .collect();
    Failure::usage(format!(
        "no function given, and `{}` is not a command (a program with a `main`); name the \
         function to call{}",
        plugin.display(),
        if names.is_empty() {
            String::new()
        } else {
            format!(": it exports {}", names.join(", "))
        }
    ))
    .hint(format!(
        "wasm-sandbox run {} FUNCTION ARGS; `wasm-sandbox inspect PLUGIN` shows each signature",
        wave::shell_quote(&plugin.display().to_string())
    ))
}

async fn call(
    sandbox: &WasmSandbox,
    plugin: &Path,
    command: &str,
    func: &str,
    args: &[String],
) -> Result<Called, Failure> {
    let export = plugin::resolve(sandbox, func)?;
    let example = format!(
        "wasm-sandbox {command} {} {}",
        wave::shell_quote(&plugin.display().to_string()),
        wave::shell_quote(func)
    );
    let params = wave::parse_args(&export, args, &example)?;
    let result = sandbox
        .call_dynamic(export.name(), &params)
        .await
        .map(|mut results| results.pop())
        .map_err(|e| Failure::from(crate::logs::without_shown_stderr(e)));
    let audit = sandbox.audit_log().events();
    Ok(Called {
        function: export.name().to_string(),
        result,
        audit,
    })
}

/// `wasm-sandbox run`.
pub(crate) async fn run(args: RunArgs, json: bool) -> Result<Exit, Failure> {
    let policy = crate::grants::policy(&args.grants)?;
    let plugin_builder = plugin::builder(&args.plugin, args.trust.allow_precompiled)?;
    plugin::fuel_needs_wasm(&args.plugin, &args.limits)?;
    let mut builder =
        plugin::limits(plugin_builder, &args.limits, &args.plugin).security_policy(policy);
    if args.violations.abort_on_violation {
        builder = builder.on_violation(ViolationAction::AbortCall);
    }
    if let Some(audit) = &args.audit {
        builder = builder.audit_file(audit);
    }
    let sandbox = build(builder, &args.plugin).await?;
    let mut call_args = args.args;
    if runs_as_command(&sandbox, args.func.as_deref()) {
        // `run hello.wasm -- a b`, or `run hello.wasm run a b`.
        call_args.extend(args.after_dashes);
        return crate::command::run(sandbox, &args.plugin, call_args, json).await;
    }
    let Some(func) = args.func else {
        return Err(missing_function(&sandbox, &args.plugin));
    };
    call_args.extend(args.after_dashes);
    let called = call(&sandbox, &args.plugin, "run", &func, &call_args).await?;
    if json {
        print_json(&called.to_json(&args.plugin));
    } else {
        called.print_text(false);
    }
    Ok(called.exit())
}

/// Appended to a learned policy when the plugin listed the environment.
const ENVIRONMENT_NOTE: &str = "
# The plugin listed the environment through WASI (as `std::env::var` and C's
# `getenv` do), which hands over every variable at once, so `learn` cannot
# tell which it used, and granted none. To let it see some, uncomment and
# name them:
# [[allow]]
# EnvironmentRead = [\"NAME\"]
";

/// `wasm-sandbox learn`.
pub(crate) async fn learn(args: LearnArgs, json: bool) -> Result<Exit, Failure> {
    let policy = crate::grants::learn_policy(&args.denials)?;
    let plugin_builder = plugin::builder(&args.plugin, args.trust.allow_precompiled)?;
    plugin::fuel_needs_wasm(&args.plugin, &args.limits)?;
    let mut builder =
        plugin::limits(plugin_builder, &args.limits, &args.plugin).security_policy(policy);
    if args.violations.abort_on_violation {
        builder = builder.on_violation(ViolationAction::AbortCall);
    }
    if let Some(audit) = &args.audit {
        builder = builder.audit_file(audit);
    }
    let sandbox = build(builder, &args.plugin).await?;
    let mut call_args = args.args;
    call_args.extend(args.after_dashes);
    // A command's output goes to stderr: stdout is the policy.
    let (exit, mut out, called) = if runs_as_command(&sandbox, args.func.as_deref()) {
        let (exit, out) =
            crate::command::execute(&sandbox, &args.plugin, call_args, json, true).await?;
        (exit, out, None)
    } else {
        let Some(func) = args.func else {
            return Err(missing_function(&sandbox, &args.plugin));
        };
        let called = call(&sandbox, &args.plugin, "learn", &func, &call_args).await?;
        let out = json.then(|| called.to_json(&args.plugin));
        (called.exit(), out, Some(called))
    };
    let log = sandbox.audit_log();
    let learned = log.learned_policy();
    let warned_imports = log.learned_policy_needs_warn();
    // `std::env::var` and `getenv` list the whole environment through WASI:
    // audited, but it does not say which variable was used.
    let listed_environment = log.events().iter().any(|e| {
        e.capability == CapabilityKind::Environment
            && e.operation == "env-list"
            && e.decision == Decision::Allowed
            && e.target != "(no variables)"
    });
    let mut toml = learned.to_toml();
    if listed_environment {
        toml.push_str(ENVIRONMENT_NOTE);
    }
    let grants = learned.grants().len();
    let mut written = None;
    if let Some(path) = &args.output {
        std::fs::write(path, &toml).map_err(|e| {
            Failure::new(
                Exit::Other,
                format!("could not write the policy to `{}`: {e}", path.display()),
            )
            .hint("check that the directory exists and is writable")
        })?;
        written = Some(path);
    }
    if let Some(mut out) = out.take() {
        out["policy"] = toml.clone().into();
        out["policy_file"] = serde_json::json!(written);
        out["imports_warned"] = serde_json::json!(warned_imports);
        out["environment_listed"] = listed_environment.into();
        print_json(&out);
    } else {
        if !warned_imports.is_empty() {
            eprintln!(
                "learn: the policy says imports = \"warn\" so that the plugin loads: it imports {}, \
                 which nothing it did needed (each use will be refused, and audited)",
                warned_imports.join(", ")
            );
        }
        if listed_environment {
            eprintln!(
                "learn: the plugin listed the environment through WASI (as std::env::var and getenv \
                 do), which hands over every variable at once, so which it used is unknown; none \
                 is granted (see the note at the end of the policy)"
            );
        }
        // Without -o the policy is the output, and the result a note.
        if let Some(called) = &called {
            called.print_text(written.is_none());
        }
        match written {
            Some(path) => eprintln!(
                "learned {grants} grant{}; wrote {}",
                if grants == 1 { "" } else { "s" },
                path.display()
            ),
            None => out!("{toml}"),
        }
    }
    Ok(exit)
}
