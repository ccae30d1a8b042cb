//! `wasm-sandbox validate`.

use wasm_sandbox::{CapabilityKind, Decision, Error, ImportCheck};

use crate::cli::ValidateArgs;
use crate::exit::{Exit, Failure, how_to_grant};
use crate::plugin::{self, print_json};

/// The stages of loading a plugin, in order.
const STAGES: [&str; 4] = ["component", "links", "starts", "policy"];

/// An import the policy can never allow, and what would allow it.
struct Refused {
    import: String,
    capability: Option<String>,
}

/// Why the plugin did not load.
enum Rejected {
    /// A precompiled artifact, without --allow-precompiled: not loaded.
    Artifact(Failure),
    /// The host refused it.
    Host(Error),
}

pub(crate) async fn validate(args: ValidateArgs, json: bool) -> Result<Exit, Failure> {
    let policy = crate::grants::policy(&args.grants)?;
    let refuses = policy.imports() == ImportCheck::Deny;
    // Load under `Warn` so that every import the policy can never allow is
    // listed, not only the first; the policy's own setting decides below.
    // An artifact without --allow-precompiled fails the first stage
    // without being loaded.
    let built = match plugin::builder(&args.plugin, args.trust.allow_precompiled) {
        Ok(builder) => plugin::limits(builder, &args.limits, &args.plugin)
            .security_policy(policy.import_check(ImportCheck::Warn))
            .audit_enabled(true)
            .build()
            .await
            .map_err(Rejected::Host),
        Err(refused) => Err(Rejected::Artifact(refused)),
    };
    let (passed, failure, refused) = match built {
        Ok(sandbox) => {
            let refused: Vec<Refused> = sandbox
                .audit_log()
                .events()
                .into_iter()
                .filter(|e| {
                    e.capability == CapabilityKind::Import && e.decision == Decision::Warning
                })
                .map(|e| Refused {
                    capability: e
                        .rule
                        .strip_prefix("the policy can never allow this import; grant ")
                        .and_then(|r| r.strip_suffix(" to use it"))
                        .map(str::to_string),
                    import: e.target,
                })
                .collect();
            let exports = sandbox.list_exports().len();
            let detail = format!("{} export{}", exports, if exports == 1 { "" } else { "s" });
            (vec![detail, String::new(), String::new()], None, refused)
        }
        Err(Rejected::Artifact(refused)) => (Vec::new(), Some(refused), Vec::new()),
        Err(Rejected::Host(e @ Error::Policy { .. })) => return Err(e.into()),
        Err(Rejected::Host(e)) => {
            let reached = match &e {
                Error::MissingImport { .. } => 1,
                Error::Instantiate { .. } | Error::ResourceLimitExceeded(_) => 2,
                Error::Io { .. }
                | Error::NotAComponent { .. }
                | Error::InvalidBinary { .. }
                | Error::Compile { .. }
                | Error::InvalidArtifact { .. } => 0,
                _ => return Err(e.into()),
            };
            (
                vec![String::new(); reached],
                Some(Failure::from(e)),
                Vec::new(),
            )
        }
    };
    let refused_at_load = failure.is_none() && refuses && !refused.is_empty();
    let exit = match &failure {
        Some(f) => f.exit,
        None if refused_at_load => Exit::Denied,
        None => Exit::Success,
    };
    let policy_line = if failure.is_some() {
        None
    } else if refused.is_empty() {
        Some("ok: the policy allows every import it needs to load".to_string())
    } else if refuses {
        Some(format!(
            "refused at load: {} import{} the policy can never allow",
            refused.len(),
            if refused.len() == 1 { "" } else { "s" }
        ))
    } else {
        Some(format!(
            "loads with {} warning{} (imports = \"warn\"): the plugin's calls through these will be denied",
            refused.len(),
            if refused.len() == 1 { "" } else { "s" }
        ))
    };
    if json {
        let mut checks = serde_json::Map::new();
        for (stage, detail) in STAGES.iter().zip(&passed) {
            checks.insert(
                stage.to_string(),
                serde_json::json!({"ok": true, "detail": detail}),
            );
        }
        if let Some(f) = &failure {
            checks.insert(
                STAGES[passed.len()].to_string(),
                serde_json::json!({"ok": false, "detail": f.message}),
            );
        }
        if let Some(line) = &policy_line {
            checks.insert(
                "policy".to_string(),
                serde_json::json!({"ok": !refused_at_load, "detail": line}),
            );
        }
        let refused: Vec<serde_json::Value> = refused
            .iter()
            .map(|r| serde_json::json!({"import": r.import, "capability": r.capability}))
            .collect();
        print_json(&serde_json::json!({
            "plugin": args.plugin,
            "valid": exit == Exit::Success,
            "checks": checks,
            "refused_imports": refused,
            "error": failure.as_ref().map(Failure::to_json),
            "exit_code": exit.code(),
        }));
        return Ok(exit);
    }
    outln!("{}", args.plugin.display());
    for (stage, detail) in STAGES.iter().zip(&passed) {
        if detail.is_empty() {
            outln!("  {stage:<9}  ok");
        } else {
            outln!("  {stage:<9}  ok: {detail}");
        }
    }
    if let Some(f) = &failure {
        outln!("  {:<9}  FAILED", STAGES[passed.len()]);
        eprintln!("{f}");
        return Ok(exit);
    }
    if let Some(line) = policy_line {
        outln!("  {:<9}  {line}", "policy");
    }
    for r in &refused {
        match &r.capability {
            Some(capability) => outln!(
                "    {} needs {capability}: {}",
                r.import,
                how_to_grant(capability)
            ),
            None => outln!("    {}", r.import),
        }
    }
    if refused_at_load {
        eprintln!(
            "hint: grant what it needs, or let it load with `imports = \"warn\"` in a --policy file \
             (its calls through those imports are then denied at run time)"
        );
    }
    Ok(exit)
}
