//! The declared policy: capabilities, grants and denials, presets, and
//! policy files (TOML or JSON), as a user writes them.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
    pub(crate) imports: ImportCheck,
    #[serde(default, skip_serializing_if = "ViolationAction::is_default")]
    pub(crate) on_violation: ViolationAction,
    #[serde(default, rename = "allow", skip_serializing_if = "Vec::is_empty")]
    pub(crate) grants: Vec<Capability>,
    #[serde(default, rename = "deny", skip_serializing_if = "Vec::is_empty")]
    pub(crate) denials: Vec<Capability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) limits: Option<crate::limits::ResourceLimits>,
    /// Learn mode: allow everything a permissive policy allows, and record it.
    #[serde(skip)]
    pub(crate) observing: bool,
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
    /// can write the least-privilege policy. The plugin sees the host's
    /// environment, as under `permissive` (minus denied variables):
    /// variables read one by one through `wasm_sandbox_guest::env` are
    /// learned by name; a listing of the whole environment through WASI
    /// (which is how `std::env::var` and C's `getenv` read it) is audited
    /// as one `env-list` event naming every variable, and grants nothing,
    /// since it does not say which variable the plugin used.
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
    pub(crate) fn check_shape(&self) -> Result<()> {
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
                    cause: source,
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
