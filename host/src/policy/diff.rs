//! Comparing policies: what a newer policy grants that an older one does
//! not ([`SecurityPolicy::diff`]), and whether one grant covers another.

use std::fmt;

use crate::policy::compiled::{HostPattern, lexical};
use crate::policy::declared::{Capability, ImportCheck, SecurityPolicy};

impl SecurityPolicy {
    /// What `newer` grants that `self` does not, and what it stops denying:
    /// an app can refuse an upgrade whose [`PolicyDiff::widens`] is true.
    pub fn diff(&self, newer: &SecurityPolicy) -> PolicyDiff {
        let added = newer
            .grants
            .iter()
            .filter(|n| !self.grants.iter().any(|o| covers(o, n)))
            .cloned()
            .collect();
        let removed = self
            .grants
            .iter()
            .filter(|o| !newer.grants.iter().any(|n| covers(n, o)))
            .cloned()
            .collect();
        let denials_dropped = self
            .denials
            .iter()
            .filter(|o| !newer.denials.iter().any(|n| covers(n, o)))
            .cloned()
            .collect();
        let denials_added = newer
            .denials
            .iter()
            .filter(|n| !self.denials.iter().any(|o| covers(o, n)))
            .cloned()
            .collect();
        PolicyDiff {
            added,
            removed,
            denials_dropped,
            denials_added,
            imports_relaxed: self.imports == ImportCheck::Deny
                && newer.imports == ImportCheck::Warn,
        }
    }
}

/// The difference between two policies, from [`SecurityPolicy::diff`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct PolicyDiff {
    /// Grants in the newer policy that the older one does not cover.
    pub added: Vec<Capability>,
    /// Grants of the older policy that the newer one no longer covers.
    pub removed: Vec<Capability>,
    /// Denials of the older policy that the newer one dropped.
    pub denials_dropped: Vec<Capability>,
    /// Denials the newer policy adds.
    pub denials_added: Vec<Capability>,
    /// The newer policy only warns about imports the older one refused.
    pub imports_relaxed: bool,
}

impl PolicyDiff {
    /// Whether the newer policy allows anything the older did not.
    pub fn widens(&self) -> bool {
        !self.added.is_empty() || !self.denials_dropped.is_empty() || self.imports_relaxed
    }
}

impl fmt::Display for PolicyDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.added.is_empty()
            && self.removed.is_empty()
            && self.denials_dropped.is_empty()
            && self.denials_added.is_empty()
            && !self.imports_relaxed
        {
            return f.write_str("no change\n");
        }
        for c in &self.added {
            writeln!(f, "+ allow {c}")?;
        }
        for c in &self.denials_dropped {
            writeln!(f, "+ no longer deny {c}")?;
        }
        if self.imports_relaxed {
            writeln!(f, "+ imports: deny -> warn")?;
        }
        for c in &self.removed {
            writeln!(f, "- allow {c}")?;
        }
        for c in &self.denials_added {
            writeln!(f, "- deny {c} (new denial)")?;
        }
        Ok(())
    }
}

/// Whether capability `a` allows everything `b` allows.
pub(crate) fn covers(a: &Capability, b: &Capability) -> bool {
    use Capability::*;
    match (a, b) {
        (FileRead(pa), FileRead(pb))
        | (FileWrite(pa), FileWrite(pb))
        | (FileWrite(pa), FileRead(pb)) => lexical(pb).starts_with(lexical(pa)),
        (
            NetworkAccess {
                allowed_hosts: ha,
                allowed_ports: pa,
                allowed_schemes: sa,
            },
            NetworkAccess {
                allowed_hosts: hb,
                allowed_ports: pb,
                allowed_schemes: sb,
            },
        ) => {
            hb.iter()
                .all(|h| ha.iter().any(|g| host_pattern_covers(g, h)))
                && pb
                    .iter()
                    .all(|p| pa.iter().any(|g| g.start <= p.start && p.end <= g.end))
                // No scheme list means every scheme.
                && (sa.is_empty()
                    || (!sb.is_empty()
                        && sb.iter().all(|s| sa.iter().any(|g| g.eq_ignore_ascii_case(s)))))
        }
        (EnvironmentRead(va), EnvironmentRead(vb)) => {
            va.iter().any(|v| v == "*") || vb.iter().all(|v| va.contains(v))
        }
        (ProcessSpawn(xa), ProcessSpawn(xb)) => xb.iter().all(|x| xa.contains(x)),
        (Custom(a), Custom(b)) => a == b,
        _ => false,
    }
}

fn host_pattern_covers(grant: &str, host: &str) -> bool {
    if grant == "*" || grant.eq_ignore_ascii_case(host) {
        return true;
    }
    match (HostPattern::parse(grant), HostPattern::parse(host)) {
        (Ok(g), Ok(HostPattern::Name(n))) => g.matches_name(&n),
        (Ok(g), Ok(HostPattern::Suffix(s))) => {
            matches!(g, HostPattern::Suffix(gs) if s.ends_with(&format!(".{gs}")) || s == gs)
        }
        (Ok(HostPattern::Net(gnet)), Ok(HostPattern::Net(net))) => gnet.contains(&net),
        _ => false,
    }
}
