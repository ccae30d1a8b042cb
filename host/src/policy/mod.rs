//! Capabilities and security policies: what a plugin may do.
//!
//! Nothing is allowed unless a [`SecurityPolicy`] grants it, and an explicit
//! denial always wins over a grant. `declared.rs` is the policy as a user
//! writes it (in Rust or in a file), `compiled.rs` the form the guards
//! decide with, `diff.rs` the comparison of two policies.

mod compiled;
mod declared;
mod diff;

pub(crate) use compiled::{Compiled, FileId, Verdict, refused_ipv6};
pub use declared::{Capability, ImportCheck, PortRange, SecurityPolicy, ViolationAction};
pub use diff::PolicyDiff;
pub(crate) use diff::covers;

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::compiled::HostPattern;
    use super::*;

    #[test]
    fn deny_wins_over_grant() {
        let dir = std::env::temp_dir();
        let secrets = dir.join("secrets-that-do-not-exist");
        let policy = SecurityPolicy::strict()
            .allow(Capability::FileRead(dir.clone()))
            .deny(Capability::FileRead(secrets.clone()));
        let c = Compiled::new(&policy).unwrap();
        let root = std::fs::canonicalize(&dir).unwrap();
        assert!(
            c.check_object(&root.join("a.txt"), &[], None, false)
                .allowed
        );
        let v = c.check_object(
            &root.join("secrets-that-do-not-exist/key"),
            &[],
            None,
            false,
        );
        assert!(!v.allowed, "{v:?}");
        assert!(v.rule.starts_with("deny FileRead"), "{v:?}");
        // The directories that lead to the denial may not be renamed away.
        assert!(c.holds_denial(&root, None).is_some());
        assert!(c.holds_denial(&root.join("a.txt"), None).is_none());
        // Read-only grants refuse writes, with a rule that says why.
        let v = c.check_object(&root.join("a.txt"), &[], None, true);
        assert!(!v.allowed);
        assert!(v.rule.contains("read-only"), "{v:?}");
    }

    #[test]
    fn host_patterns_match_as_documented() {
        let p = HostPattern::parse("*.example.com").unwrap();
        assert!(p.matches_name("api.example.com"));
        assert!(p.matches_name("a.b.example.com"));
        assert!(!p.matches_name("example.com"));
        assert!(!p.matches_name("badexample.com"));
        let p = HostPattern::parse("10.0.0.0/8").unwrap();
        assert!(p.matches_ip("10.1.2.3".parse().unwrap()));
        assert!(!p.matches_ip("11.0.0.1".parse().unwrap()));
        assert!(HostPattern::parse("bad host!").is_err());
    }

    #[test]
    fn addresses_need_a_granted_host_and_port() {
        let policy = SecurityPolicy::strict().allow(Capability::NetworkAccess {
            allowed_hosts: vec!["localhost".into()],
            allowed_ports: vec!["8000-8100".parse().unwrap()],
            allowed_schemes: Vec::new(),
        });
        let c = Compiled::new(&policy).unwrap();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let names = vec!["localhost".to_string()];
        assert!(c.check_addr(ip, 8080, &names).allowed);
        let v = c.check_addr(ip, 22, &names);
        assert!(!v.allowed && v.rule.contains("not port 22"), "{v:?}");
        // The same IP, not resolved from a granted name, is not reachable.
        assert!(!c.check_addr(ip, 8080, &[]).allowed);
        assert!(c.check_lookup("localhost").allowed);
        assert!(!c.check_lookup("example.com").allowed);
    }

    #[test]
    fn policies_round_trip_through_toml_and_json_with_positions_in_errors() {
        let policy = SecurityPolicy::microservice()
            .allow(Capability::NetworkAccess {
                allowed_hosts: vec!["api.example.com".into()],
                allowed_ports: vec![PortRange::single(443), "8000-8100".parse().unwrap()],
                allowed_schemes: Vec::new(),
            })
            .allow(Capability::EnvironmentRead(vec![
                "PORT".into(),
                "MODE=prod".into(),
            ]))
            .deny(Capability::Custom("acme:kv/store".into()));
        let text = policy.to_toml();
        assert_eq!(SecurityPolicy::from_toml(&text).unwrap(), policy, "{text}");
        let json = serde_json::to_string_pretty(&policy).unwrap();
        assert_eq!(SecurityPolicy::from_json(&json).unwrap(), policy);

        // The violation mode: absent means `deny`, and is left out.
        assert!(!text.contains("on_violation"), "{text}");
        let aborting = policy.clone().on_violation(ViolationAction::AbortCall);
        let text = aborting.to_toml();
        assert!(text.contains("on_violation = \"abort-call\""), "{text}");
        assert_eq!(
            SecurityPolicy::from_toml(&text).unwrap(),
            aborting,
            "{text}"
        );
        let json = serde_json::to_string(&aborting).unwrap();
        assert!(json.contains("\"on_violation\":\"abort-call\""), "{json}");
        assert_eq!(SecurityPolicy::from_json(&json).unwrap(), aborting);
        let parsed = SecurityPolicy::from_toml("on_violation = \"deny\"\n").unwrap();
        assert_eq!(parsed.violation_action(), ViolationAction::Deny);
        let err = SecurityPolicy::from_toml("on_violation = \"abort\"\n").unwrap_err();
        assert!(err.to_string().contains("abort-call"), "{err}");

        let err = SecurityPolicy::from_toml("imports = \"deny\"\n\n[[allow]]\nFileReed = \"/x\"\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("FileRead"), "{msg}");
        let err = SecurityPolicy::from_toml("extra = 1\n").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err = SecurityPolicy::from_json("{\n  \"allow\": [ {\"Custom\": 5} ]\n}").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn diff_reports_what_widens() {
        let old = SecurityPolicy::strict().allow(Capability::FileRead("/srv".into()));
        let same = SecurityPolicy::strict().allow(Capability::FileRead("/srv/data".into()));
        assert!(!old.diff(&same).widens());
        let wider = old.clone().allow(Capability::NetworkAccess {
            allowed_hosts: vec!["*.example.com".into()],
            allowed_ports: vec![PortRange::single(443)],
            allowed_schemes: Vec::new(),
        });
        let d = old.diff(&wider);
        assert!(d.widens());
        assert_eq!(d.added.len(), 1);
        assert!(d.to_string().starts_with("+ allow NetworkAccess"), "{d}");
        let write = SecurityPolicy::strict().allow(Capability::FileWrite("/srv".into()));
        assert!(old.diff(&write).widens());
        assert!(!write.diff(&old).widens());
    }

    #[test]
    fn learn_mode_allows_what_is_not_denied_and_denies_what_is() {
        let dir = std::env::temp_dir();
        let policy = SecurityPolicy::observe()
            .deny(Capability::ProcessSpawn(vec!["sh".into()]))
            .deny(Capability::EnvironmentRead(vec!["SECRET".into()]))
            .deny(Capability::Custom("acme:kv/store".into()))
            .deny(Capability::FileRead(dir.join("denied")))
            .deny(Capability::NetworkAccess {
                allowed_hosts: vec!["evil.example".into()],
                allowed_ports: vec![PortRange::ANY],
                allowed_schemes: Vec::new(),
            });
        let c = Compiled::new(&policy).unwrap();
        assert!(c.check_program("echo").allowed);
        assert_eq!(
            c.check_program("sh"),
            Verdict::deny("deny ProcessSpawn(sh)")
        );
        assert!(c.check_env("HOME").allowed);
        assert!(!c.check_env("SECRET").allowed);
        assert!(c.check_custom("acme:other/x").allowed);
        assert!(!c.check_custom("acme:kv/store").allowed);
        let root = std::fs::canonicalize(&dir).unwrap();
        assert!(
            c.check_object(&root.join("ok.txt"), &[], None, true)
                .allowed
        );
        assert!(
            !c.check_object(&root.join("denied/x"), &[], None, false)
                .allowed
        );
        assert!(c.check_lookup("good.example").allowed);
        assert!(!c.check_lookup("evil.example").allowed);
        assert!(!c.check_http("https", "evil.example", 443).allowed);
        // Outside learn mode, no grant is no program.
        let strict = Compiled::new(&SecurityPolicy::strict()).unwrap();
        assert!(!strict.check_program("echo").allowed);
    }

    #[test]
    fn environment_is_filtered_to_grants() {
        let policy = SecurityPolicy::strict().allow(Capability::EnvironmentRead(vec![
            "HOME".into(),
            "MODE=prod".into(),
        ]));
        let c = Compiled::new(&policy).unwrap();
        let env = c.environment(
            vec![
                ("HOME".to_string(), "/home/x".to_string()),
                ("SECRET".to_string(), "s3cr3t".to_string()),
            ]
            .into_iter(),
        );
        assert_eq!(
            env,
            vec![
                ("HOME".to_string(), "/home/x".to_string()),
                ("MODE".to_string(), "prod".to_string())
            ]
        );
        assert!(c.check_env("MODE").allowed);
        assert!(!c.check_env("SECRET").allowed);
    }
}
