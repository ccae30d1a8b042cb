//! The compiled policy: the form the guards decide with (real paths, host
//! patterns, network grants, object identities), and its checks.

use std::net::{IpAddr, Ipv6Addr};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::policy::declared::{Capability, PortRange, SecurityPolicy};

/// The identity of a filesystem object: (device, inode). Denials match by
/// identity as well as by path, so a bind mount, a renamed parent or a
/// hard link does not hide a denied object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FileId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl FileId {
    pub(crate) fn of(stat: &rustix::fs::Stat) -> FileId {
        FileId {
            #[allow(clippy::unnecessary_cast, reason = "st_dev is not u64 on every target")]
            dev: stat.st_dev as u64,
            #[allow(clippy::unnecessary_cast, reason = "st_ino is not u64 on every target")]
            ino: stat.st_ino as u64,
        }
    }

    /// The identity of the object at `path` (symlinks followed), if it
    /// exists.
    pub(crate) fn of_path(path: &Path) -> Option<FileId> {
        rustix::fs::stat(path).ok().map(|s| FileId::of(&s))
    }
}

impl SecurityPolicy {
    /// Checks the policy exactly as
    /// [`SandboxBuilder::build`](crate::SandboxBuilder::build) does before it
    /// runs a plugin under it: paths in `allow` and `deny` are absolute and
    /// plain (no leading space, no `~`, no NUL byte), granted paths exist
    /// (or their parent directory does, for a file not created yet), hosts,
    /// ports and schemes parse, and the `[limits]` are in their ranges
    /// ([`ResourceLimits::validate`](crate::ResourceLimits::validate)). A
    /// denied path may legitimately not exist yet.
    ///
    /// # Errors
    ///
    /// [`Error::Policy`] naming the first problem and the key it is under.
    pub fn validate(&self) -> Result<()> {
        Compiled::new(self).map(|_| ())
    }
}

/// A host in a network grant, parsed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum HostPattern {
    Any,
    Name(String),
    /// `*.example.com`: subdomains of `example.com`.
    Suffix(String),
    Net(ipnet::IpNet),
}

impl HostPattern {
    pub(crate) fn parse(s: &str) -> std::result::Result<HostPattern, String> {
        let s = s.trim();
        if s == "*" {
            return Ok(HostPattern::Any);
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(HostPattern::Net(ipnet::IpNet::from(ip)));
        }
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(HostPattern::Net(net));
        }
        let (suffix, name) = match s.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let valid = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(format!(
                "`{s}` is not a host name, `*.name`, an IP address, a CIDR block or `*`"
            ));
        }
        let name = name.to_ascii_lowercase();
        Ok(if suffix {
            HostPattern::Suffix(name)
        } else {
            HostPattern::Name(name)
        })
    }

    pub(crate) fn matches_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match self {
            HostPattern::Any => true,
            HostPattern::Name(n) => *n == name,
            HostPattern::Suffix(s) => name.ends_with(&format!(".{s}")),
            HostPattern::Net(_) => false,
        }
    }

    pub(crate) fn matches_ip(&self, ip: IpAddr) -> bool {
        match self {
            HostPattern::Any => true,
            HostPattern::Net(net) => net.contains(&ip),
            _ => false,
        }
    }
}

/// `a/./b/../c` as `a/c`, without touching the filesystem. `..` at the root
/// stays at the root.
pub(crate) fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A decision and the rule that made it, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) allowed: bool,
    pub(crate) rule: String,
}

impl Verdict {
    pub(crate) fn allow(rule: impl Into<String>) -> Verdict {
        Verdict {
            allowed: true,
            rule: rule.into(),
        }
    }

    pub(crate) fn deny(rule: impl Into<String>) -> Verdict {
        Verdict {
            allowed: false,
            rule: rule.into(),
        }
    }
}

/// A network grant with its hosts parsed.
#[derive(Clone, Debug)]
pub(crate) struct NetGrant {
    pub(crate) hosts: Vec<(String, HostPattern)>,
    pub(crate) ports: Vec<PortRange>,
    /// Lower case; empty means both `http` and `https`.
    pub(crate) schemes: Vec<String>,
}

impl NetGrant {
    fn allows_scheme(&self, scheme: &str) -> bool {
        self.schemes.is_empty() || self.schemes.iter().any(|s| s == scheme)
    }
}

/// A policy checked and prepared for fast decisions.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub(crate) source: SecurityPolicy,
    /// (path, write) grants, paths made absolute and canonical.
    files: Vec<(PathBuf, bool)>,
    /// Denied paths, with the identity of each (when it exists) and of its
    /// ancestors.
    file_denials: Vec<FileDenial>,
    net: Vec<NetGrant>,
    net_denials: Vec<NetGrant>,
    env: Vec<String>,
    env_all: bool,
    env_denials: Vec<String>,
    programs: Vec<String>,
    program_denials: Vec<String>,
    custom: Vec<String>,
    custom_denials: Vec<String>,
}

fn canonical(path: &Path, what: &str) -> Result<PathBuf> {
    if !path.is_absolute() {
        return Err(Error::Policy {
            detail: format!(
                "{what}({}): paths in a policy must be absolute",
                path.display()
            ),
        });
    }
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p),
        // A file that does not exist yet (a write grant for a file the plugin
        // creates): its parent directory must exist.
        Err(_) => {
            let parent = path.parent().unwrap_or(Path::new("/"));
            let name = path.file_name().ok_or_else(|| Error::Policy {
                detail: format!("{what}({}): not a file or directory", path.display()),
            })?;
            let parent = std::fs::canonicalize(parent).map_err(|e| Error::Policy {
                detail: format!(
                    "{what}({}): {e}; grant a path that exists (or a file in a directory that exists)",
                    path.display()
                ),
            })?;
            Ok(parent.join(name))
        }
    }
}

fn net_grant(
    hosts: &[String],
    ports: &[PortRange],
    schemes: &[String],
    what: &str,
) -> Result<NetGrant> {
    if hosts.is_empty() || ports.is_empty() {
        return Err(Error::Policy {
            detail: format!(
                "{what} NetworkAccess with no {} allows nothing; list them, or use \"*\"",
                if hosts.is_empty() {
                    "allowed_hosts"
                } else {
                    "allowed_ports"
                }
            ),
        });
    }
    let mut parsed = Vec::new();
    for h in hosts {
        let p = HostPattern::parse(h).map_err(|detail| Error::Policy {
            detail: format!("{what} NetworkAccess: {detail}"),
        })?;
        parsed.push((h.clone(), p));
    }
    let mut lower = Vec::new();
    for scheme in schemes {
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(Error::Policy {
                detail: format!(
                    "{what} NetworkAccess: allowed_schemes lists `{scheme}`; \
                     HTTP requests have the scheme \"http\" or \"https\""
                ),
            });
        }
        lower.push(scheme);
    }
    Ok(NetGrant {
        hosts: parsed,
        ports: ports.to_vec(),
        schemes: lower,
    })
}

/// A denied file or directory, as the policy named it and as it is on
/// disk.
#[derive(Clone, Debug)]
struct FileDenial {
    /// The real path: the longest existing prefix with symlinks resolved,
    /// then the rest as written.
    path: PathBuf,
    /// `FileWrite` denials leave reading allowed.
    write_only: bool,
    /// The object's identity when the policy was compiled, if it existed.
    id: Option<FileId>,
    /// The identities of the directories that contain it.
    ancestors: Vec<FileId>,
}

impl FileDenial {
    fn new(path: &Path, write_only: bool) -> FileDenial {
        let path = real_prefix(path);
        let mut ancestors = Vec::new();
        let mut prefix = PathBuf::new();
        let mut id = None;
        let count = path.components().count();
        for (i, c) in path.components().enumerate() {
            prefix.push(c);
            let here = FileId::of_path(&prefix);
            if i + 1 == count {
                id = here;
            } else if let Some(here) = here {
                ancestors.push(here);
            }
        }
        FileDenial {
            path,
            write_only,
            id,
            ancestors,
        }
    }

    fn matches(&self, path: &Path, chain: &[FileId], id: Option<FileId>) -> bool {
        path.starts_with(&self.path)
            || self
                .id
                .is_some_and(|denied| id == Some(denied) || chain.contains(&denied))
    }

    fn rule(&self) -> String {
        let kind = if self.write_only {
            "FileWrite"
        } else {
            "FileRead"
        };
        format!("deny {kind}({})", self.path.display())
    }
}

/// `path` with its longest existing prefix canonicalised (symlinks
/// resolved) and the rest appended as written (`..` in the rest removed
/// lexically: nothing there exists to resolve).
fn real_prefix(path: &Path) -> PathBuf {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        Path::new("/").join(path)
    };
    let mut existing = path.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            let mut out = real;
            for c in rest.iter().rev() {
                out.push(c);
            }
            return lexical(&out);
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return lexical(&path),
        }
    }
}

impl Compiled {
    /// The capability a plugin would need to use an import, if the policy has
    /// none of it; `None` when the import is always fine.
    pub(crate) fn needed_capability(&self, import: &str) -> Option<&'static str> {
        let policy = self;
        let name = import.split('@').next().unwrap_or(import);
        if name.starts_with("wasi:filesystem/") && !policy.has_file_grants() {
            Some("Capability::FileRead or Capability::FileWrite")
        } else if (name.starts_with("wasi:sockets/") || name.starts_with("wasi:http/"))
            && !policy.has_network()
        {
            Some("Capability::NetworkAccess { .. }")
        } else if name == "sandbox:host/process"
            && !policy.can_spawn()
            && !policy.source.is_observing()
        {
            Some("Capability::ProcessSpawn(..)")
        } else if name == "sandbox:host/environment" && !policy.can_read_env() {
            Some("Capability::EnvironmentRead(..)")
        } else if !name.starts_with("wasi:")
            && !name.starts_with("sandbox:host/")
            && !policy.custom_granted(name)
        {
            Some("Capability::Custom(..)")
        } else {
            None
        }
    }

    /// Validates `policy` (absolute paths that exist, valid hosts and
    /// ports) and prepares it.
    pub(crate) fn new(policy: &SecurityPolicy) -> Result<Compiled> {
        let mut c = Compiled {
            source: policy.clone(),
            files: Vec::new(),
            file_denials: Vec::new(),
            net: Vec::new(),
            net_denials: Vec::new(),
            env: Vec::new(),
            env_all: false,
            env_denials: Vec::new(),
            programs: Vec::new(),
            program_denials: Vec::new(),
            custom: Vec::new(),
            custom_denials: Vec::new(),
        };
        policy.check_shape()?;
        for g in &policy.grants {
            match g {
                Capability::FileRead(p) => c.files.push((canonical(p, "FileRead")?, false)),
                Capability::FileWrite(p) => c.files.push((canonical(p, "FileWrite")?, true)),
                Capability::NetworkAccess {
                    allowed_hosts,
                    allowed_ports,
                    allowed_schemes,
                } => c.net.push(net_grant(
                    allowed_hosts,
                    allowed_ports,
                    allowed_schemes,
                    "a granted",
                )?),
                Capability::EnvironmentRead(vars) => {
                    for v in vars {
                        if v == "*" {
                            c.env_all = true;
                        } else {
                            c.env.push(v.clone());
                        }
                    }
                }
                Capability::ProcessSpawn(programs) => c.programs.extend(programs.iter().cloned()),
                Capability::Custom(name) => c.custom.push(name.clone()),
            }
        }
        for d in &policy.denials {
            match d {
                // A denied path that does not exist yet stays denied when it
                // is created: it is matched by its real path as well as by
                // identity.
                Capability::FileRead(p) => c.file_denials.push(FileDenial::new(p, false)),
                Capability::FileWrite(p) => c.file_denials.push(FileDenial::new(p, true)),
                Capability::NetworkAccess {
                    allowed_hosts,
                    allowed_ports,
                    allowed_schemes,
                } => c.net_denials.push(net_grant(
                    allowed_hosts,
                    allowed_ports,
                    allowed_schemes,
                    "a denied",
                )?),
                Capability::EnvironmentRead(vars) => c.env_denials.extend(vars.iter().cloned()),
                Capability::ProcessSpawn(p) => c.program_denials.extend(p.iter().cloned()),
                Capability::Custom(name) => c.custom_denials.push(name.clone()),
            }
        }
        Ok(c)
    }

    /// The granted paths, canonical, with whether each is writable.
    pub(crate) fn file_grants(&self) -> &[(PathBuf, bool)] {
        &self.files
    }

    pub(crate) fn has_file_grants(&self) -> bool {
        !self.files.is_empty()
    }

    pub(crate) fn has_network(&self) -> bool {
        !self.net.is_empty()
    }

    /// May the plugin read (`write == false`) or write the object at the
    /// real path `path`? `chain` holds the identities of the directories
    /// that contain it (from `/` down) and `id` its own identity, if it
    /// exists: a denial matches the object by path or by identity, so a
    /// hard link, a bind mount or a renamed parent does not hide it.
    pub(crate) fn check_object(
        &self,
        path: &Path,
        chain: &[FileId],
        id: Option<FileId>,
        write: bool,
    ) -> Verdict {
        for d in &self.file_denials {
            if (write || !d.write_only) && d.matches(path, chain, id) {
                return Verdict::deny(d.rule());
            }
        }
        for (granted, writable) in &self.files {
            if path.starts_with(granted) && (!write || *writable) {
                let kind = if *writable { "FileWrite" } else { "FileRead" };
                return Verdict::allow(format!("allow {kind}({})", granted.display()));
            }
        }
        if write && self.files.iter().any(|(g, w)| path.starts_with(g) && !w) {
            return Verdict::deny("the path is granted read-only (FileRead), not FileWrite");
        }
        Verdict::deny("no FileRead or FileWrite grant covers this path")
    }

    /// May a path be resolved through the directory at `path`? Not into a
    /// read-denied directory, and only into directories that are granted
    /// or lead to a grant.
    pub(crate) fn may_enter(&self, path: &Path, id: FileId) -> Result<(), String> {
        for d in &self.file_denials {
            if !d.write_only && d.matches(path, &[], Some(id)) {
                return Err(d.rule());
            }
        }
        if self
            .files
            .iter()
            .any(|(g, _)| path.starts_with(g) || g.starts_with(path))
        {
            Ok(())
        } else {
            Err(
                "no FileRead or FileWrite grant covers this directory or anything in it"
                    .to_string(),
            )
        }
    }

    /// Whether the object at `path` (identity `id`) is a directory that
    /// contains a denied path: renaming or removing it would move the
    /// denial away from what it protects.
    pub(crate) fn holds_denial(&self, path: &Path, id: Option<FileId>) -> Option<Verdict> {
        for d in &self.file_denials {
            let by_path = d.path.starts_with(path) && d.path != path;
            let by_id = id.is_some_and(|id| d.ancestors.contains(&id));
            if by_path || by_id {
                return Some(Verdict::deny(format!(
                    "it contains the denied path {} ({})",
                    d.path.display(),
                    d.rule()
                )));
            }
        }
        None
    }

    /// May the plugin look up `name`?
    pub(crate) fn check_lookup(&self, name: &str) -> Verdict {
        for d in &self.net_denials {
            if let Some((h, _)) = d.hosts.iter().find(|(_, p)| p.matches_name(name))
                && d.ports.contains(&PortRange::ANY)
            {
                return Verdict::deny(format!("deny NetworkAccess({h})"));
            }
        }
        for g in &self.net {
            if let Some((h, _)) = g.hosts.iter().find(|(_, p)| p.matches_name(name)) {
                return Verdict::allow(format!("allow NetworkAccess({h})"));
            }
        }
        Verdict::deny("no NetworkAccess grant names this host")
    }

    /// May the plugin reach `ip:port`? `names` are the granted names `ip`
    /// was resolved from in this instance.
    pub(crate) fn check_addr(&self, ip: IpAddr, port: u16, names: &[String]) -> Verdict {
        let host_matches =
            |p: &HostPattern| p.matches_ip(ip) || names.iter().any(|n| p.matches_name(n));
        for d in &self.net_denials {
            if let Some((h, _)) = d.hosts.iter().find(|(_, p)| host_matches(p))
                && d.ports.iter().any(|r| r.contains(port))
            {
                return Verdict::deny(format!("deny NetworkAccess({h}:{port})"));
            }
        }
        let mut host_granted = false;
        for g in &self.net {
            if let Some((h, _)) = g.hosts.iter().find(|(_, p)| host_matches(p)) {
                host_granted = true;
                if let Some(r) = g.ports.iter().find(|r| r.contains(port)) {
                    return Verdict::allow(format!("allow NetworkAccess({h}:{r})"));
                }
            }
        }
        if host_granted {
            Verdict::deny(format!("the host is granted, but not port {port}"))
        } else if names.is_empty() {
            Verdict::deny(
                "no NetworkAccess grant covers this address (connect by a granted name, or grant the IP)",
            )
        } else {
            Verdict::deny("no NetworkAccess grant covers this address")
        }
    }

    /// May the plugin send an HTTP request with this URL `scheme` (lower
    /// case) to `host:port`, as far as the host's text tells? A host that
    /// is an IP address is checked as by [`check_http_addr`](Self::check_http_addr);
    /// a name is matched against the granted and denied names (an IP or
    /// CIDR grant does not cover a URL that names the host). For a name this
    /// is only the first check: every address it resolves to is then checked
    /// with [`check_http_addr`](Self::check_http_addr). A denial that names
    /// the host and port wins whatever its schemes.
    pub(crate) fn check_http(&self, scheme: &str, host: &str, port: u16) -> Verdict {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match host.parse::<IpAddr>() {
            Ok(ip) => self.check_http_addr(scheme, ip, port, None),
            Err(_) => self.http_verdict(scheme, port, false, |p| p.matches_name(host)),
        }
    }

    /// May the plugin send an HTTP request with this `scheme` (lower case)
    /// to `ip:port`? `name` is the granted name the address was resolved
    /// from, when the URL named a host: a grant or a denial of that name,
    /// or of a network holding `ip`, applies.
    pub(crate) fn check_http_addr(
        &self,
        scheme: &str,
        ip: IpAddr,
        port: u16,
        name: Option<&str>,
    ) -> Verdict {
        self.http_verdict(scheme, port, true, |p| {
            p.matches_ip(ip) || name.is_some_and(|n| p.matches_name(n))
        })
    }

    fn http_verdict(
        &self,
        scheme: &str,
        port: u16,
        by_address: bool,
        host_matches: impl Fn(&HostPattern) -> bool,
    ) -> Verdict {
        for d in &self.net_denials {
            if let Some((h, _)) = d.hosts.iter().find(|(_, p)| host_matches(p))
                && d.ports.iter().any(|r| r.contains(port))
                && d.allows_scheme(scheme)
            {
                return Verdict::deny(format!("deny NetworkAccess({h}:{port})"));
            }
        }
        let mut host_granted = false;
        let mut port_granted = false;
        for g in &self.net {
            if let Some((h, _)) = g.hosts.iter().find(|(_, p)| host_matches(p)) {
                host_granted = true;
                if let Some(r) = g.ports.iter().find(|r| r.contains(port)) {
                    port_granted = true;
                    if g.allows_scheme(scheme) {
                        return Verdict::allow(format!("allow NetworkAccess({h}:{r})"));
                    }
                }
            }
        }
        if port_granted {
            Verdict::deny(format!(
                "the host and port are granted, but not the scheme `{scheme}` \
                 (add it to allowed_schemes)"
            ))
        } else if host_granted {
            Verdict::deny(format!("the host is granted, but not port {port}"))
        } else if !by_address
            && self.net.iter().any(|g| {
                g.hosts
                    .iter()
                    .any(|(_, p)| matches!(p, HostPattern::Net(_)))
            })
        {
            Verdict::deny(
                "no NetworkAccess grant names this host (an IP grant covers URLs that use the IP)",
            )
        } else {
            Verdict::deny("no NetworkAccess grant covers this host")
        }
    }

    /// The environment variables the plugin sees, from `host_env`.
    pub(crate) fn environment(
        &self,
        host_env: impl Iterator<Item = (String, String)>,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !self.can_read_env() {
            return out;
        }
        let host: Vec<(String, String)> = host_env.collect();
        for v in &self.env {
            match v.split_once('=') {
                Some((k, value)) => out.push((k.to_string(), value.to_string())),
                None => {
                    if let Some((_, value)) = host.iter().find(|(k, _)| k == v) {
                        out.push((v.clone(), value.clone()));
                    }
                }
            }
        }
        if self.env_all {
            for (k, v) in &host {
                if !out.iter().any(|(ok, _)| ok == k) {
                    out.push((k.clone(), v.clone()));
                }
            }
        }
        out.retain(|(k, _)| !self.env_denials.contains(k));
        out
    }

    /// May the plugin read variable `name`?
    pub(crate) fn check_env(&self, name: &str) -> Verdict {
        if self.env_denials.iter().any(|d| d == name) {
            return Verdict::deny(format!("deny EnvironmentRead({name})"));
        }
        if self
            .env
            .iter()
            .any(|v| v == name || v.split_once('=').is_some_and(|(k, _)| k == name))
        {
            return Verdict::allow(format!("allow EnvironmentRead({name})"));
        }
        if self.env_all {
            return Verdict::allow("allow EnvironmentRead(*)");
        }
        Verdict::deny("no EnvironmentRead grant names this variable")
    }

    /// May the plugin run `program`?
    pub(crate) fn check_program(&self, program: &str) -> Verdict {
        if self.program_denials.iter().any(|d| d == program) {
            return Verdict::deny(format!("deny ProcessSpawn({program})"));
        }
        if self.programs.iter().any(|p| p == program) {
            return Verdict::allow(format!("allow ProcessSpawn({program})"));
        }
        if self.source.observing {
            return Verdict::allow("learn mode");
        }
        Verdict::deny("no ProcessSpawn grant names this program")
    }

    /// May the plugin call host interface `name` (unversioned import name)?
    pub(crate) fn check_custom(&self, name: &str) -> Verdict {
        if self.custom_denials.iter().any(|d| d == name) {
            return Verdict::deny(format!("deny Custom({name})"));
        }
        if self.custom.iter().any(|c| c == name) {
            return Verdict::allow(format!("allow Custom({name})"));
        }
        if self.source.observing {
            return Verdict::allow("learn mode");
        }
        Verdict::deny("no Custom grant names this interface")
    }

    pub(crate) fn can_spawn(&self) -> bool {
        !self.programs.is_empty()
    }

    pub(crate) fn can_read_env(&self) -> bool {
        !self.env.is_empty() || self.env_all
    }

    pub(crate) fn custom_granted(&self, name: &str) -> bool {
        self.check_custom(name).allowed
    }
}

/// Why an IPv6 address is refused whoever gives it (a socket or a URL), if
/// it is: IPv4-mapped and IPv4-compatible addresses, whose IPv4 address
/// the policy would otherwise not see.
pub(crate) fn refused_ipv6(ip: Ipv6Addr) -> Option<String> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(format!(
            "IPv4-mapped IPv6 addresses are refused ({ip} is {v4}); use the IPv4 address"
        ));
    }
    let compatible = matches!(ip.segments(), [0, 0, 0, 0, 0, 0, _, _])
        && ip != Ipv6Addr::UNSPECIFIED
        && ip != Ipv6Addr::LOCALHOST;
    if compatible {
        return Some(format!(
            "IPv4-compatible IPv6 addresses are refused ({ip}; deprecated since 2006)"
        ));
    }
    None
}
