//! Capabilities and security policies: what a plugin may do.
//!
//! Nothing is allowed unless a [`SecurityPolicy`] grants it, and an explicit
//! denial always wins over a grant.

use std::fmt;
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::guard_fs::FileId;

/// One thing a plugin may be allowed to do.
///
/// Used both to grant ([`SecurityPolicy::allow`]) and to deny
/// ([`SecurityPolicy::deny`]); a denial wins over any grant.
///
/// In a policy file (TOML or JSON) each capability is written with its
/// variant name, for example `FileRead = "/srv/data"` or
/// `NetworkAccess = { allowed_hosts = ["api.example.com"], allowed_ports = [443] }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
// Refuses unknown keys inside `NetworkAccess = { .. }` in every format (a
// misspelt `allowed_scheme` must not silently allow every scheme).
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub enum Capability {
    /// Read a file, or everything under a directory. The plugin sees it at
    /// the same absolute path as the host.
    FileRead(PathBuf),
    /// Read and write (create, truncate, remove, rename) a file, or
    /// everything under a directory. Write implies read of the same path.
    FileWrite(PathBuf),
    /// Open outbound connections (TCP, UDP) and look up names.
    ///
    /// A host is a name (`api.example.com`), a wildcard (`*.example.com`,
    /// which matches subdomains but not `example.com` itself), an IP address,
    /// a CIDR block (`10.0.0.0/8`), or `*` for any. A name grant covers the
    /// DNS lookup and connections to the addresses that lookup returned.
    /// Ports are numbers, ranges (`"8000-8100"`) or `"*"`.
    ///
    /// The same grant covers outbound HTTP requests (`wasi:http`) to those
    /// hosts and ports, with the URL's scheme checked against
    /// `allowed_schemes`.
    NetworkAccess {
        /// Hosts the plugin may reach.
        allowed_hosts: Vec<String>,
        /// Ports the plugin may reach on those hosts.
        allowed_ports: Vec<PortRange>,
        /// URL schemes allowed for HTTP requests: `"http"`, `"https"`.
        /// Empty (the default, and what a policy file gets when it leaves
        /// the key out) allows both. Sockets have no scheme and ignore it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        allowed_schemes: Vec<String>,
    },
    /// Environment variables the plugin may read: `"NAME"` copies the host's
    /// value, `"NAME=value"` gives an explicit one, `"*"` (allow only) copies
    /// the whole host environment. The plugin cannot see any other variable.
    EnvironmentRead(Vec<String>),
    /// Programs the plugin may run through `sandbox:host/process`, by exact
    /// name as the plugin asks for them (`"git"`, `"/usr/bin/convert"`).
    /// Arguments are passed as a vector, never through a shell.
    ProcessSpawn(Vec<String>),
    /// An app-registered host interface, by its unversioned import name
    /// (`<Trait>Host::CAPABILITY`, for example
    /// `example-interfaces:key-value/key-value`).
    Custom(String),
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::FileRead(p) => write!(f, "FileRead({})", p.display()),
            Capability::FileWrite(p) => write!(f, "FileWrite({})", p.display()),
            Capability::NetworkAccess {
                allowed_hosts,
                allowed_ports,
                allowed_schemes,
            } => {
                let ports: Vec<String> = allowed_ports.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "NetworkAccess(hosts [{}], ports [{}]",
                    allowed_hosts.join(", "),
                    ports.join(", ")
                )?;
                if !allowed_schemes.is_empty() {
                    write!(f, ", schemes [{}]", allowed_schemes.join(", "))?;
                }
                f.write_str(")")
            }
            Capability::EnvironmentRead(vars) => write!(f, "EnvironmentRead({})", vars.join(", ")),
            Capability::ProcessSpawn(programs) => {
                write!(f, "ProcessSpawn({})", programs.join(", "))
            }
            Capability::Custom(name) => write!(f, "Custom({name})"),
        }
    }
}

/// An inclusive range of ports: `443`, `"8000-8100"`, or `"*"` for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    /// First port.
    pub start: u16,
    /// Last port (inclusive).
    pub end: u16,
}

impl PortRange {
    /// One port.
    pub const fn single(port: u16) -> PortRange {
        PortRange {
            start: port,
            end: port,
        }
    }

    /// Every port.
    pub const ANY: PortRange = PortRange {
        start: 0,
        end: u16::MAX,
    };

    /// Whether `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }
}

impl From<u16> for PortRange {
    fn from(port: u16) -> Self {
        PortRange::single(port)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == PortRange::ANY {
            f.write_str("*")
        } else if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

impl std::str::FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if s == "*" {
            return Ok(PortRange::ANY);
        }
        let parse = |p: &str| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| format!("`{s}` is not a port, a range like 8000-8100, or *"))
        };
        match s.split_once('-') {
            Some((a, b)) => {
                let (start, end) = (parse(a)?, parse(b)?);
                if start > end {
                    return Err(format!("port range `{s}` is empty (start after end)"));
                }
                Ok(PortRange { start, end })
            }
            None => Ok(PortRange::single(parse(s)?)),
        }
    }
}

impl Serialize for PortRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.start == self.end {
            s.serialize_u16(self.start)
        } else {
            s.serialize_str(&self.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = PortRange;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number, a range like \"8000-8100\", or \"*\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<PortRange, E> {
                u16::try_from(v)
                    .map(PortRange::single)
                    .map_err(|_| E::custom(format!("{v} is not a port (0-65535)")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<PortRange, E> {
                u16::try_from(v)
                    .map(PortRange::single)
                    .map_err(|_| E::custom(format!("{v} is not a port (0-65535)")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<PortRange, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// What happens when a plugin imports an interface the policy can never
/// allow (for example `wasi:sockets/tcp` with no network grant).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportCheck {
    /// Refuse to load the plugin: [`Error::UnsatisfiableImport`].
    #[default]
    Deny,
    /// Load it, and record a warning in the audit log (and `tracing`).
    Warn,
}

/// What happens when the policy refuses an operation during a call.
///
/// In a policy file: `on_violation = "deny"` (the default) or
/// `on_violation = "abort-call"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ViolationAction {
    /// The refused operation fails with the error the plugin would get from
    /// an operating system that refused it (a WASI error such as "permission
    /// denied", `denied(..)` from `sandbox:host/process`, no value from
    /// `sandbox:host/environment`), the refusal is audited, and the plugin
    /// carries on. Calls to an ungranted host interface trap in both modes,
    /// as those functions have no error result. The default.
    #[default]
    Deny,
    /// The first refused operation ends the call: it fails with
    /// [`Error::SecurityViolation`] naming what was refused, the refusal is
    /// audited, and the instance is replaced before the next call, so the
    /// plugin never learns that it was refused nor sees its own state after
    /// it.
    AbortCall,
}

impl ViolationAction {
    fn is_default(&self) -> bool {
        *self == ViolationAction::Deny
    }
}

/// What a plugin may do: a set of granted [`Capability`]s, explicit
/// denials that win over them, and how strictly imports are checked when
/// the plugin loads.
///
/// The default is [`SecurityPolicy::strict`]: nothing is granted.
///
/// ```
/// use wasm_sandbox::{Capability, SecurityPolicy};
///
/// // Read all of /srv except /srv/secrets.
/// let policy = SecurityPolicy::strict()
///     .allow(Capability::FileRead("/srv".into()))
///     .deny(Capability::FileRead("/srv/secrets".into()));
/// assert_eq!(policy.grants().len(), 1);
/// ```
///
/// A policy can also be read from TOML or JSON:
///
/// ```
/// let policy = wasm_sandbox::SecurityPolicy::from_toml(r#"
///     imports = "warn"
///     on_violation = "abort-call"
///
///     [[allow]]
///     FileRead = "/srv/data"
///
///     [[allow]]
///     NetworkAccess = { allowed_hosts = ["api.example.com"], allowed_ports = [443] }
///
///     [[deny]]
///     FileRead = "/srv/data/private"
/// "#)?;
/// assert_eq!(policy.grants().len(), 2);
/// assert_eq!(policy.violation_action(), wasm_sandbox::ViolationAction::AbortCall);
/// # Ok::<(), wasm_sandbox::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    #[serde(default)]
    imports: ImportCheck,
    #[serde(default, skip_serializing_if = "ViolationAction::is_default")]
    on_violation: ViolationAction,
    #[serde(default, rename = "allow", skip_serializing_if = "Vec::is_empty")]
    grants: Vec<Capability>,
    #[serde(default, rename = "deny", skip_serializing_if = "Vec::is_empty")]
    denials: Vec<Capability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limits: Option<crate::limits::ResourceLimits>,
    /// Learn mode: allow everything a permissive policy allows, and record it.
    #[serde(skip)]
    observing: bool,
}

impl SecurityPolicy {
    /// Nothing is granted; a plugin that imports an interface it could never
    /// use (files, sockets, a host interface) is refused at load. The default.
    pub fn strict() -> SecurityPolicy {
        SecurityPolicy {
            imports: ImportCheck::Deny,
            on_violation: ViolationAction::Deny,
            grants: Vec::new(),
            denials: Vec::new(),
            limits: None,
            observing: false,
        }
    }

    /// Nothing is granted, imports are checked as in [`strict`](Self::strict),
    /// and the sandbox gets the tightest resource limits,
    /// [`ResourceLimits::tight`](crate::ResourceLimits::tight) (16 MiB of
    /// memory, 1 s per call, 64 KiB of stack, ...).
    pub fn paranoid() -> SecurityPolicy {
        SecurityPolicy {
            limits: Some(crate::limits::ResourceLimits::tight()),
            ..SecurityPolicy::strict()
        }
    }

    /// A starting point for services: nothing is granted until you grant it
    /// (typically `EnvironmentRead` and outbound `NetworkAccess`), and a
    /// plugin whose imports exceed the grants still loads, with a warning in
    /// the audit log, so denials show up at run time instead.
    pub fn microservice() -> SecurityPolicy {
        SecurityPolicy {
            imports: ImportCheck::Warn,
            ..SecurityPolicy::strict()
        }
    }

    /// Everything except running programs: the whole filesystem read and
    /// write, any network host and port, the whole environment. For trusted
    /// plugins and for development only; never the default. Denials still
    /// apply.
    pub fn permissive() -> SecurityPolicy {
        SecurityPolicy {
            imports: ImportCheck::Warn,
            grants: vec![
                Capability::FileWrite(PathBuf::from("/")),
                Capability::NetworkAccess {
                    allowed_hosts: vec!["*".to_string()],
                    allowed_ports: vec![PortRange::ANY],
                    allowed_schemes: Vec::new(),
                },
                Capability::EnvironmentRead(vec!["*".to_string()]),
            ],
            denials: Vec::new(),
            limits: None,
            observing: false,
            on_violation: ViolationAction::Deny,
        }
    }

    /// Learn mode: [`permissive`](Self::permissive), recording what the
    /// plugin does so that [`AuditLog::learned_policy`](crate::AuditLog::learned_policy)
    /// can write the least-privilege policy. (The plugin's WASI environment
    /// stays empty in learn mode, as it will be under the learned policy;
    /// variables read through `wasm_sandbox_guest::env` are learned.)
    ///
    /// Learn mode also lets the plugin run programs and call host interfaces
    /// (so they can be learned), but explicit denials added with
    /// [`deny`](Self::deny) still refuse, for every kind of capability:
    /// `observe().deny(Capability::ProcessSpawn(vec!["sh".into()]))` never
    /// runs `sh`, and the learned policy keeps the denials.
    pub fn observe() -> SecurityPolicy {
        SecurityPolicy {
            observing: true,
            ..SecurityPolicy::permissive()
        }
    }

    /// Grants a capability.
    pub fn allow(mut self, capability: Capability) -> SecurityPolicy {
        self.grants.push(capability);
        self
    }

    /// Denies a capability; a denial wins over every grant.
    pub fn deny(mut self, capability: Capability) -> SecurityPolicy {
        self.denials.push(capability);
        self
    }

    /// Sets resource limits as part of the policy (the builder's own limit
    /// settings take precedence, field by field).
    pub fn resource_limits(mut self, limits: crate::limits::ResourceLimits) -> SecurityPolicy {
        self.limits = Some(limits);
        self
    }

    /// The policy's resource limits, if it sets any.
    pub fn limits(&self) -> Option<&crate::limits::ResourceLimits> {
        self.limits.as_ref()
    }

    /// Sets what happens when the policy refuses an operation during a call:
    /// hand the plugin an error and carry on ([`ViolationAction::Deny`], the
    /// default), or end the call with [`Error::SecurityViolation`]
    /// ([`ViolationAction::AbortCall`]).
    /// [`SandboxBuilder::on_violation`](crate::SandboxBuilder::on_violation)
    /// overrides it.
    pub fn on_violation(mut self, action: ViolationAction) -> SecurityPolicy {
        self.on_violation = action;
        self
    }

    /// What happens when the policy refuses an operation during a call.
    pub fn violation_action(&self) -> ViolationAction {
        self.on_violation
    }

    /// Sets what happens to imports the policy can never allow.
    pub fn import_check(mut self, check: ImportCheck) -> SecurityPolicy {
        self.imports = check;
        self
    }

    /// The granted capabilities.
    pub fn grants(&self) -> &[Capability] {
        &self.grants
    }

    /// The denied capabilities.
    pub fn denials(&self) -> &[Capability] {
        &self.denials
    }

    /// How imports are checked at load.
    pub fn imports(&self) -> ImportCheck {
        self.imports
    }

    /// Whether this is the learn-mode policy of [`observe`](Self::observe).
    pub fn is_observing(&self) -> bool {
        self.observing
    }

    /// Reads a policy from TOML.
    ///
    /// # Errors
    ///
    /// [`Error::Policy`] with the line and column of the problem.
    pub fn from_toml(text: &str) -> Result<SecurityPolicy> {
        let policy: SecurityPolicy = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|span| line_col(text, span.start))
                .map(|(l, c)| format!("line {l}, column {c}: "))
                .unwrap_or_default();
            Error::Policy {
                detail: format!("invalid policy TOML: {at}{}", e.message()),
            }
        })?;
        policy.check_shape()?;
        Ok(policy)
    }

    /// Reads a policy from JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Policy`] with the line and column of the problem.
    pub fn from_json(text: &str) -> Result<SecurityPolicy> {
        let policy: SecurityPolicy = serde_json::from_str(text).map_err(|e| Error::Policy {
            detail: format!(
                "invalid policy JSON: line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
        })?;
        policy.check_shape()?;
        Ok(policy)
    }

    /// The checks that need nothing but the policy's text: every path (in
    /// `allow` and in `deny`) is absolute and plain, and every limit is in
    /// its range.
    fn check_shape(&self) -> Result<()> {
        for (side, list) in [("allow", &self.grants), ("deny", &self.denials)] {
            for c in list {
                match c {
                    Capability::FileRead(p) => check_path(p, side, "FileRead")?,
                    Capability::FileWrite(p) => check_path(p, side, "FileWrite")?,
                    _ => {}
                }
            }
        }
        if let Some(limits) = &self.limits {
            limits.validate()?;
        }
        Ok(())
    }

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

    /// The largest policy file [`from_file`](Self::from_file) reads: 1 MiB.
    /// Real policies are a few hundred bytes.
    pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

    /// Reads a policy file: JSON if the name ends in `.json` (in any case:
    /// `.JSON` too), TOML otherwise. The file must be a regular file of at
    /// most [`MAX_FILE_BYTES`](Self::MAX_FILE_BYTES); it is opened without
    /// blocking, so a FIFO or a device is refused at once.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be read, [`Error::Policy`] if it is not a
    /// regular file, is too large, is not UTF-8 or is invalid.
    pub fn from_file(path: impl AsRef<Path>) -> Result<SecurityPolicy> {
        use crate::read::{Follow, ReadError, read_bounded};
        let path = path.as_ref();
        let refuse = |why: String| Error::Policy {
            detail: format!("policy file `{}` {why}", path.display()),
        };
        let bytes = match read_bounded(path, Self::MAX_FILE_BYTES, Follow::Symlinks) {
            Ok(bytes) => bytes,
            Err(ReadError::Io(source)) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
            Err(ReadError::NotRegular(kind)) => {
                return Err(refuse(format!(
                    "is {kind}, not a regular file, so it was not read; give the path of a .toml or .json file"
                )));
            }
            Err(ReadError::TooLarge { size }) => {
                return Err(refuse(format!(
                    "is {size} bytes, more than the {} bytes a policy file may have; \
                     a policy lists grants and denials and is a few hundred bytes",
                    Self::MAX_FILE_BYTES
                )));
            }
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            refuse(format!(
                "is not UTF-8 text (byte {} is not valid UTF-8); save it as UTF-8",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let parsed = if is_json_path(path) {
            SecurityPolicy::from_json(&text)
        } else {
            SecurityPolicy::from_toml(&text)
        };
        parsed.map_err(|e| match e {
            Error::Policy { detail } => Error::Policy {
                detail: format!("{}: {detail}", path.display()),
            },
            other => other,
        })
    }

    /// The policy as TOML, in the format [`from_toml`](Self::from_toml) reads.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot write policy: {e}\n"))
    }

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

/// Whether a policy file is JSON: its extension is `json`, in any case.
fn is_json_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Refuses a path that cannot mean what its writer meant: not absolute, a
/// leading space, `~` (never expanded), a NUL byte. `side` is `allow` or
/// `deny`, `kind` the capability: the message names the key.
fn check_path(path: &Path, side: &str, kind: &str) -> Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let text = path.as_os_str().as_bytes();
    let problem = if text.contains(&0) {
        "contains a NUL byte, which no file name can; remove it"
    } else if text.first().is_some_and(u8::is_ascii_whitespace) {
        "starts with white space, so it is relative; remove the space"
    } else if text.first() == Some(&b'~') {
        "starts with `~`, which a policy never expands; write the absolute path"
    } else if !path.is_absolute() {
        "is relative; paths in a policy must be absolute"
    } else {
        return Ok(());
    };
    Err(Error::Policy {
        detail: format!(
            "[[{side}]] {kind} = {:?}: the path {problem}",
            path.as_os_str()
        ),
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
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

#[cfg(test)]
mod tests {
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
