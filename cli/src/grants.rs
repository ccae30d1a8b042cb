//! From `--policy` and the Deno-style `--allow-*` / `--deny-*` flags to a
//! [`SecurityPolicy`].

use std::path::{Path, PathBuf};

use wasm_sandbox::{Capability, ImportCheck, PortRange, SecurityPolicy};

use crate::cli::{Denials, Grants, Imports};
use crate::exit::Failure;

/// The policy for `run` and `validate`: the `--policy` file (or nothing
/// granted), plus the allow flags, minus the deny flags.
pub(crate) fn policy(grants: &Grants) -> Result<SecurityPolicy, Failure> {
    let mut policy = match &grants.policy {
        Some(path) => read_policy(path)?,
        None => SecurityPolicy::strict(),
    };
    for path in &grants.allow_read {
        policy = policy.allow(Capability::FileRead(absolute(path, "--allow-read")?));
    }
    for path in &grants.allow_write {
        policy = policy.allow(Capability::FileWrite(absolute(path, "--allow-write")?));
    }
    for target in &grants.allow_net {
        policy = policy.allow(net(target, "--allow-net")?);
    }
    if !grants.allow_env.is_empty() {
        policy = policy.allow(Capability::EnvironmentRead(non_empty(
            &grants.allow_env,
            "--allow-env",
        )?));
    }
    if !grants.allow_run.is_empty() {
        if grants.allow_run.iter().any(String::is_empty) {
            return Err(Failure::usage(
                "--allow-run needs the programs it allows, by exact name: \
                 --allow-run=git,convert; wasm-sandbox never grants every program",
            ));
        }
        policy = policy.allow(Capability::ProcessSpawn(grants.allow_run.clone()));
    }
    // The flag wins over the policy file's `imports`.
    policy = match grants.imports {
        Some(Imports::Deny) => policy.import_check(ImportCheck::Deny),
        Some(Imports::Warn) => policy.import_check(ImportCheck::Warn),
        None => policy,
    };
    deny(policy, &grants.denials)
}

/// Reads a policy file (TOML, or JSON if the name ends in `.json`).
pub(crate) fn read_policy(path: &Path) -> Result<SecurityPolicy, Failure> {
    SecurityPolicy::from_file(path).map_err(|e| match e {
        // The host's message speaks of a plugin file.
        wasm_sandbox::Error::Io { cause: source, .. } => Failure::usage(format!(
            "could not read the policy file `{}`: {source}",
            path.display()
        )),
        other => Failure::from(other)
            .hint("the Security model chapter of the guide describes the policy file format"),
    })
}

/// The policy for `learn`: learn mode, minus the deny flags.
pub(crate) fn learn_policy(denials: &Denials) -> Result<SecurityPolicy, Failure> {
    for (flag, values) in [
        ("--deny-env", &denials.deny_env),
        ("--deny-run", &denials.deny_run),
    ] {
        if values.iter().any(|v| v == "*") {
            return Err(Failure::usage(format!(
                "learn mode cannot take a bare {flag}; name what to deny ({flag}=NAME,...)"
            )));
        }
    }
    deny(SecurityPolicy::observe(), denials)
}

/// Adds the deny flags to `policy`. A bare `--deny-env` or `--deny-run`
/// removes every grant of that kind (a denial names variables and programs
/// one by one, so "all of them" is the absence of a grant).
fn deny(mut policy: SecurityPolicy, denials: &Denials) -> Result<SecurityPolicy, Failure> {
    let no_env = denials.deny_env.iter().any(|v| v == "*");
    let no_run = denials.deny_run.iter().any(|v| v == "*");
    if no_env || no_run {
        let mut rebuilt = SecurityPolicy::strict()
            .import_check(policy.imports())
            .on_violation(policy.violation_action());
        if let Some(limits) = policy.limits() {
            rebuilt = rebuilt.resource_limits(limits.clone());
        }
        for grant in policy.grants() {
            let drop = match grant {
                Capability::EnvironmentRead(_) => no_env,
                Capability::ProcessSpawn(_) => no_run,
                _ => false,
            };
            if !drop {
                rebuilt = rebuilt.allow(grant.clone());
            }
        }
        for denial in policy.denials() {
            rebuilt = rebuilt.deny(denial.clone());
        }
        policy = rebuilt;
    }
    for path in &denials.deny_read {
        policy = policy.deny(Capability::FileRead(absolute(path, "--deny-read")?));
    }
    for path in &denials.deny_write {
        policy = policy.deny(Capability::FileWrite(absolute(path, "--deny-write")?));
    }
    for target in &denials.deny_net {
        policy = policy.deny(net(target, "--deny-net")?);
    }
    let env: Vec<String> = denials
        .deny_env
        .iter()
        .filter(|v| *v != "*")
        .cloned()
        .collect();
    if !env.is_empty() {
        policy = policy.deny(Capability::EnvironmentRead(non_empty(&env, "--deny-env")?));
    }
    let run: Vec<String> = denials
        .deny_run
        .iter()
        .filter(|v| *v != "*")
        .cloned()
        .collect();
    if !run.is_empty() {
        policy = policy.deny(Capability::ProcessSpawn(non_empty(&run, "--deny-run")?));
    }
    Ok(policy)
}

fn non_empty(values: &[String], flag: &str) -> Result<Vec<String>, Failure> {
    if values.iter().any(String::is_empty) {
        return Err(Failure::usage(format!(
            "{flag} has an empty name; write {flag}=NAME,NAME"
        )));
    }
    Ok(values.to_vec())
}

/// A path from the command line, made absolute against the current
/// directory (the policy needs absolute paths).
fn absolute(path: &str, flag: &str) -> Result<PathBuf, Failure> {
    if path.is_empty() {
        return Err(Failure::usage(format!(
            "{flag} has an empty path; write {flag}=PATH,PATH (or {flag} alone for everything)"
        )));
    }
    std::path::absolute(Path::new(path)).map_err(|e| Failure::usage(format!("{flag}={path}: {e}")))
}

/// `HOST`, `HOST:PORT`, `HOST:8000-8100`, `HOST:*`, `[::1]:80`, `*`.
fn net(target: &str, flag: &str) -> Result<Capability, Failure> {
    let bad = |why: &str| {
        Failure::usage(format!("{flag}={target}: {why}")).hint(
            "write HOST or HOST:PORT, e.g. api.example.com:443, *.example.com, \
             10.0.0.0/8:8000-8100, [::1]:8080",
        )
    };
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("an IPv6 address in brackets needs its `]`"))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(bad("expected `:PORT` after `]`")),
            },
        }
    } else if target.matches(':').count() > 1 {
        // An IPv6 address (or CIDR block) without brackets: no port.
        (target, None)
    } else {
        match target.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (target, None),
        }
    };
    if host.is_empty() {
        return Err(bad("the host is empty"));
    }
    let port = match port {
        None => PortRange::ANY,
        Some(p) => p.parse::<PortRange>().map_err(|e| bad(&e))?,
    };
    Ok(Capability::NetworkAccess {
        allowed_hosts: vec![host.to_string()],
        allowed_ports: vec![port],
        allowed_schemes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts_ports(c: &Capability) -> (Vec<String>, Vec<PortRange>) {
        match c {
            Capability::NetworkAccess {
                allowed_hosts,
                allowed_ports,
                ..
            } => (allowed_hosts.clone(), allowed_ports.clone()),
            other => panic!("not a network grant: {other}"),
        }
    }

    #[test]
    fn net_targets() {
        let f = "--allow-net";
        assert_eq!(
            hosts_ports(&net("api.example.com:443", f).unwrap()),
            (vec!["api.example.com".into()], vec![PortRange::single(443)])
        );
        assert_eq!(
            hosts_ports(&net("*.example.com", f).unwrap()),
            (vec!["*.example.com".into()], vec![PortRange::ANY])
        );
        assert_eq!(
            hosts_ports(&net("10.0.0.0/8:8000-8100", f).unwrap()).1,
            vec![PortRange {
                start: 8000,
                end: 8100
            }]
        );
        assert_eq!(
            hosts_ports(&net("[::1]:8080", f).unwrap()),
            (vec!["::1".into()], vec![PortRange::single(8080)])
        );
        assert_eq!(
            hosts_ports(&net("fd00::/8", f).unwrap()),
            (vec!["fd00::/8".into()], vec![PortRange::ANY])
        );
        assert_eq!(hosts_ports(&net("*", f).unwrap()).0, vec!["*".to_string()]);
        assert!(
            net("host:http", f)
                .unwrap_err()
                .message
                .contains("not a port")
        );
        assert!(net("[::1", f).unwrap_err().message.contains("`]`"));
        assert!(net(":80", f).unwrap_err().message.contains("empty"));
    }

    #[test]
    fn relative_paths_become_absolute() {
        let p = absolute("data", "--allow-read").unwrap();
        assert!(p.is_absolute());
        assert!(p.ends_with("data"));
        assert!(absolute("", "--allow-read").is_err());
    }
}
