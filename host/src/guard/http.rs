//! Outbound HTTP (`wasi:http/outgoing-handler`), under the `NetworkAccess`
//! grants.
//!
//! `handle` is shadowed: before wasmtime-wasi-http sees a request, the host
//! reads its scheme, authority and path and decides ([`Checker::decide`]):
//!
//! - the scheme is normalised once (`HTTPS` is `https`); anything but
//!   `http` and `https` is refused. TLS, the default port and the audited
//!   authority all come from that one value;
//! - an authority with user credentials (`user:pass@host`) is refused;
//! - a host is a canonical IP address (`127.0.0.1`, `[::1]`) or a DNS name.
//!   Other numeric forms (`127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`,
//!   `127.0.0.1.`) are refused as not an address, and so are IPv4-mapped
//!   and IPv4-compatible IPv6 addresses;
//! - a name is checked with the same rules as a socket lookup, resolved
//!   once by the host, and every address it resolved to is checked against
//!   the grants and denials (as an address resolved from that name). One
//!   denied address refuses the request.
//!
//! A refusal is audited (`http-request`, denied, naming the real address)
//! and the plugin gets `error-code::http-request-denied`. An allowed request
//! goes on to wasmtime-wasi-http, whose send hook ([`HttpGuard`]) hands it
//! to our own sender: a TCP connection to exactly one of the checked
//! addresses (no second lookup, so a name cannot rebind between the check
//! and the connection), TLS with the web PKI roots for `https`, and an
//! HTTP/1.1 exchange. The timeouts are capped by
//! [`ResourceLimits::http_timeout_ms`](crate::ResourceLimits::http_timeout_ms),
//! both bodies are counted against the size limits, and an `http-response`
//! event (status and bytes both ways) is recorded when the response body is
//! finished or dropped.
//!
//! Redirects are not followed by the host: a `3xx` goes back to the plugin,
//! whose client sends a new request for the new URL, which is checked like
//! any other.

pub(crate) mod link;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::Host as _;
use wasmtime_wasi_http::p2::bindings::http::types::{
    DnsErrorPayload, ErrorCode, Method as WasiMethod, Scheme as WasiScheme,
};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

use crate::audit::{AuditSink, CapabilityKind, Decision};
use crate::limits::HttpLimits;
use crate::policy::refused_ipv6;
use crate::policy::{Compiled, Verdict};

/// The capability a refused request would need, as `HostState::refused`
/// names it.
const CAPABILITY: &str = "Capability::NetworkAccess";

/// A name lookup in progress: the addresses of a name.
type Lookup = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// How the host resolves a name a URL gives. The only production value is
/// [`system_resolver`]; tests give answers of their own.
type Resolver = Arc<dyn Fn(&str) -> Lookup + Send + Sync>;

/// The operating system's resolver, through tokio.
fn system_resolver() -> Resolver {
    Arc::new(|name: &str| {
        let name = name.to_string();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    })
}

/// An instance's `wasi:http` state: wasmtime-wasi-http's context and our
/// hooks.
pub(crate) struct HttpState {
    ctx: WasiHttpCtx,
    guard: HttpGuard,
}

impl HttpState {
    pub(crate) fn new(policy: Arc<Compiled>, audit: Arc<AuditSink>, limits: HttpLimits) -> Self {
        HttpState {
            ctx: WasiHttpCtx::new(),
            guard: HttpGuard {
                checker: Checker::new(policy, audit, limits, system_resolver()),
                next: None,
                refusal: None,
            },
        }
    }
}

/// Everything a decision and a send need, without the store.
#[derive(Clone)]
struct Checker {
    policy: Arc<Compiled>,
    audit: Arc<AuditSink>,
    limits: HttpLimits,
    resolver: Resolver,
}

/// wasmtime-wasi-http's hooks: the send hook sends exactly the request
/// `handle` checked.
struct HttpGuard {
    checker: Checker,
    /// The plan of the request `handle` is handing to wasmtime-wasi-http.
    next: Option<Plan>,
    /// A refusal the send hook audited, for `handle` to report.
    refusal: Option<(String, String)>,
}

/// The request as the plugin built it.
#[derive(Clone, Debug)]
struct Asked {
    /// The method, or `None` when it is not a valid HTTP method.
    method: Option<String>,
    scheme: Option<String>,
    authority: Option<String>,
    path_with_query: Option<String>,
}

impl Asked {
    fn of(request: &HostOutgoingRequest) -> Asked {
        let method = match &request.method {
            WasiMethod::Get => Some("GET".to_string()),
            WasiMethod::Head => Some("HEAD".to_string()),
            WasiMethod::Post => Some("POST".to_string()),
            WasiMethod::Put => Some("PUT".to_string()),
            WasiMethod::Delete => Some("DELETE".to_string()),
            WasiMethod::Connect => Some("CONNECT".to_string()),
            WasiMethod::Options => Some("OPTIONS".to_string()),
            WasiMethod::Trace => Some("TRACE".to_string()),
            WasiMethod::Patch => Some("PATCH".to_string()),
            WasiMethod::Other(m) => http::Method::from_bytes(m.as_bytes())
                .ok()
                .map(|m| m.to_string()),
        };
        let scheme = request.scheme.as_ref().map(|s| match s {
            WasiScheme::Http => "http".to_string(),
            WasiScheme::Https => "https".to_string(),
            WasiScheme::Other(s) => s.clone(),
        });
        Asked {
            method,
            scheme,
            authority: request.authority.clone(),
            path_with_query: request.path_with_query.clone(),
        }
    }

    /// The path for the audit log: the query string is left out (it often
    /// carries credentials).
    fn audit_path(&self) -> String {
        let pq = self.path_with_query.as_deref().unwrap_or("/");
        let (path, query) = match pq.split_once('?') {
            Some((p, _)) => (p, "?…"),
            None => (pq, ""),
        };
        let path = if path.is_empty() { "/" } else { path };
        format!("{path}{query}")
    }

    fn audit_method(&self) -> &str {
        self.method.as_deref().unwrap_or("(invalid method)")
    }
}

/// The scheme of a request, normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// The host of a URL, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    /// A canonical IP address.
    Ip(IpAddr),
    /// A DNS name, lower case.
    Name(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// Splits an authority (without user credentials) into its host and port.
/// Only canonical IP addresses and DNS names are hosts; any other numeric
/// form is refused, whatever a C library would make of it.
fn parse_authority(authority: &str, default_port: u16) -> Result<(Host, u16), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{authority}` has an unclosed `[`"))?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("`[{inside}]` is not an IPv6 address"))?;
        if let Some(rule) = refused_ipv6(ip) {
            return Err(rule);
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("`{authority}` is not host:port"))?,
            ),
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        (parse_host(host)?, port)
    };
    let port = match port {
        None => default_port,
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{p}` is not a port number"));
            }
            p.parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port number"))?
        }
    };
    if port == 0 {
        return Err("port 0 cannot be connected to".to_string());
    }
    Ok((host, port))
}

/// A host that is not in brackets: a canonical IPv4 address or a DNS name.
fn parse_host(host: &str) -> Result<Host, String> {
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    let not_a_host = || {
        format!(
            "`{host}` is neither a host name nor an IP address in canonical form \
             (an IPv4 address is four decimal numbers, a.b.c.d; an IPv6 address is in brackets)"
        )
    };
    let bare = host.strip_suffix('.').unwrap_or(host);
    if bare.is_empty() || bare.len() > 253 {
        return Err(if host.is_empty() {
            "the URL names no host".to_string()
        } else {
            not_a_host()
        });
    }
    let labels_ok = bare.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    // A last label that is a number makes the whole host an IPv4 address
    // to URL parsers and C libraries (`127.1`, `0x7f.1`, `2130706433`):
    // only the canonical form above is accepted.
    let last = bare.rsplit('.').next().unwrap_or(bare);
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || (last.len() >= 2
            && last[..2].eq_ignore_ascii_case("0x")
            && last[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    if !labels_ok || numeric {
        return Err(not_a_host());
    }
    Ok(Host::Name(host.to_ascii_lowercase()))
}

/// What `handle` decided for one request.
enum Decided {
    /// Send it, as planned.
    Send(Plan),
    /// Refused by the policy or as malformed; audited as denied.
    Refused { target: String, rule: String },
    /// The name did not resolve.
    Unresolved {
        target: String,
        rule: String,
        error: String,
    },
}

/// An allowed request: where it goes and how.
#[derive(Clone, Debug)]
struct Plan {
    /// The audit target: `GET https://host:443/path`.
    target: String,
    /// The rule that allowed it, with the addresses checked.
    rule: String,
    scheme: Scheme,
    host: Host,
    /// Every address the host resolved to, each one checked.
    addrs: Vec<SocketAddr>,
    /// The scheme and authority as the plugin gave them, which is what
    /// wasmtime-wasi-http puts in the request it hands the send hook.
    asked_scheme: Option<String>,
    asked_authority: String,
}

impl Plan {
    /// Whether `request` is the request this plan was made for.
    fn is_for(&self, request: &http::Request<WasiBody>) -> bool {
        let uri = request.uri();
        let scheme_ok = match (&self.asked_scheme, uri.scheme_str()) {
            (Some(asked), Some(sent)) => asked == sent,
            // wasmtime-wasi-http's default scheme, when the plugin set none.
            (None, Some(sent)) => sent == "https" && self.scheme == Scheme::Https,
            (_, None) => false,
        };
        scheme_ok && uri.authority().map(|a| a.as_str()) == Some(self.asked_authority.as_str())
    }
}

impl Checker {
    /// A checker that resolves names with `resolver` (the production value
    /// is [`system_resolver`]).
    fn new(
        policy: Arc<Compiled>,
        audit: Arc<AuditSink>,
        limits: HttpLimits,
        resolver: Resolver,
    ) -> Checker {
        Checker {
            policy,
            audit,
            limits,
            resolver,
        }
    }

    /// Decides `asked`: normalises it, checks the name, resolves it once,
    /// checks every address. Records nothing.
    async fn decide(&self, asked: &Asked) -> Decided {
        let method = asked.audit_method();
        let path = asked.audit_path();
        let authority = asked.authority.as_deref().unwrap_or("");
        // Credentials never reach the audit log.
        let (userinfo, bare_authority) = match authority.rsplit_once('@') {
            Some((_, rest)) => (true, rest),
            None => (false, authority),
        };
        let raw_scheme = asked.scheme.as_deref().unwrap_or("https");
        let lower = raw_scheme.to_ascii_lowercase();
        let refuse = |target: String, rule: String| Decided::Refused { target, rule };
        let scheme = match lower.as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => {
                return refuse(
                    format!("{method} {other}://{bare_authority}{path}"),
                    format!(
                        "`{other}` is not an HTTP scheme; plugins send http and https requests only"
                    ),
                );
            }
        };
        let loose_target = || format!("{method} {}://{bare_authority}{path}", scheme.as_str());
        if asked.method.is_none() {
            return refuse(
                loose_target(),
                "the method is not a valid HTTP method".into(),
            );
        }
        if bare_authority.is_empty() {
            return refuse(loose_target(), "the URL names no host".into());
        }
        let (host, port) = match parse_authority(bare_authority, scheme.default_port()) {
            Ok(hp) => hp,
            Err(rule) => return refuse(loose_target(), rule),
        };
        let target = format!("{method} {}://{host}:{port}{path}", scheme.as_str());
        if userinfo {
            return refuse(
                target,
                "the URL carries user credentials (user:password@host), which plugins may not \
                 send in a URL; send an Authorization header instead"
                    .into(),
            );
        }
        let policy = &self.policy;
        let (name, ips) = match &host {
            Host::Ip(ip) => (None, vec![*ip]),
            Host::Name(name) => {
                let by_name = policy.check_http(scheme.as_str(), name, port);
                if !by_name.allowed {
                    return refuse(target, by_name.rule);
                }
                // The same rules as a socket lookup of the name.
                let lookup = policy.check_lookup(name);
                if !lookup.allowed {
                    return refuse(target, lookup.rule);
                }
                let found =
                    tokio::time::timeout(self.limits.timeout, (self.resolver)(name.as_str())).await;
                let ips = match found {
                    Ok(Ok(ips)) if !ips.is_empty() => ips,
                    Ok(Ok(_)) => {
                        return Decided::Unresolved {
                            target,
                            rule: by_name.rule,
                            error: format!("`{name}` has no addresses"),
                        };
                    }
                    Ok(Err(e)) => {
                        return Decided::Unresolved {
                            target,
                            rule: by_name.rule,
                            error: format!("`{name}` did not resolve: {e}"),
                        };
                    }
                    Err(_) => {
                        return Decided::Unresolved {
                            target,
                            rule: by_name.rule,
                            error: format!(
                                "`{name}` did not resolve in time (the limit is {} ms, \
                                 http_timeout_ms)",
                                self.limits.timeout.as_millis()
                            ),
                        };
                    }
                };
                (Some(name.as_str()), ips)
            }
        };
        // Every address is checked; one refused address refuses the request.
        let mut rule = None;
        for ip in &ips {
            let refused = match ip {
                IpAddr::V6(v6) => refused_ipv6(*v6),
                IpAddr::V4(_) => None,
            };
            let verdict = match refused {
                Some(r) => Verdict::deny(r),
                None => policy.check_http_addr(scheme.as_str(), *ip, port, name),
            };
            if !verdict.allowed {
                let rule = match name {
                    Some(_) => format!("{} [{ip}]", verdict.rule),
                    None => verdict.rule,
                };
                return refuse(target, rule);
            }
            rule.get_or_insert(verdict.rule);
        }
        let rule = rule.unwrap_or_default();
        let rule = match name {
            Some(_) => {
                let list: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
                format!("{rule} [{}]", list.join(", "))
            }
            None => rule,
        };
        Decided::Send(Plan {
            target,
            rule,
            scheme,
            host,
            addrs: ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect(),
            asked_scheme: asked.scheme.clone(),
            asked_authority: authority.to_string(),
        })
    }

    /// Sends `request` as `plan` says: audits it as allowed, applies the
    /// limits, connects to a checked address.
    fn send(
        &self,
        plan: Plan,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> SendFuture {
        let target = plan.target.clone();
        self.audit.record_event(
            CapabilityKind::Network,
            "http-request",
            target.clone(),
            Decision::Allowed,
            plan.rule.clone(),
        );
        let limits = self.limits;
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.request_bytes) {
            self.audit.record_event(
                CapabilityKind::Limit,
                "http-request-size",
                target,
                Decision::Denied,
                format!(
                    "the request body is larger than the limit of {} bytes (http_request_bytes)",
                    limits.request_bytes
                ),
            );
            return Box::new(async move {
                Err(HttpError::HttpRequestBodySize(Some(limits.request_bytes)))
            });
        }

        let sent = Arc::new(AtomicU64::new(0));
        let request = request.map(|body| {
            Counted {
                inner: body,
                count: sent.clone(),
                limit: limits.request_bytes,
                over: HttpError::HttpRequestBodySize(Some(limits.request_bytes)),
                report: None,
            }
            .boxed_unsync()
        });
        let cap = |t: Option<Duration>| t.map_or(limits.timeout, |t| t.min(limits.timeout));
        let timeouts = Timeouts {
            connect: cap(options.and_then(|o| o.connect_timeout)),
            first_byte: cap(options.and_then(|o| o.first_byte_timeout)),
            between_bytes: cap(options.and_then(|o| o.between_bytes_timeout)),
        };
        let audit = self.audit.clone();
        Box::new(async move {
            let sending = exchange(plan, request, timeouts);
            let (response, io) = match tokio::time::timeout(limits.timeout, sending).await {
                Ok(Ok(pair)) => pair,
                Ok(Err(e)) => {
                    let rule = match e {
                        HttpError::ConnectionTimeout
                        | HttpError::ConnectionReadTimeout
                        | HttpError::HttpResponseTimeout => format!(
                            "failed: {e} (the limit is {} ms, http_timeout_ms)",
                            limits.timeout.as_millis()
                        ),
                        _ => format!("failed: {e}"),
                    };
                    audit.record_event(
                        CapabilityKind::Network,
                        "http-response",
                        target,
                        Decision::Allowed,
                        rule,
                    );
                    return Err(e);
                }
                Err(_) => {
                    audit.record_event(
                        CapabilityKind::Network,
                        "http-response",
                        target,
                        Decision::Allowed,
                        format!(
                            "failed: no response in time (the limit is {} ms, http_timeout_ms)",
                            limits.timeout.as_millis()
                        ),
                    );
                    return Err(HttpError::HttpResponseTimeout);
                }
            };
            let status = response.status().as_u16();
            let declared = response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > limits.response_bytes) {
                audit.record_event(
                    CapabilityKind::Limit,
                    "http-response-size",
                    target,
                    Decision::Denied,
                    format!(
                        "status {status}: the response body is larger than the limit of {} bytes \
                         (http_response_bytes)",
                        limits.response_bytes
                    ),
                );
                return Err(HttpError::HttpResponseBodySize(declared));
            }
            let report = Report {
                audit,
                target,
                status,
                sent,
            };
            let response = response.map(|body| {
                Counted {
                    inner: body,
                    count: Arc::new(AtomicU64::new(0)),
                    limit: limits.response_bytes,
                    over: HttpError::HttpResponseBodySize(None),
                    report: Some(report),
                }
                .boxed_unsync()
            });
            Ok((response, io))
        })
    }
}

/// The timeouts of one request, already capped by the limit.
#[derive(Clone, Copy, Debug)]
struct Timeouts {
    connect: Duration,
    first_byte: Duration,
    between_bytes: Duration,
}

/// The future that drives a connection after its response has arrived.
type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), HttpError>> + Send>;

/// The TLS client configuration: the web PKI roots, rustls' safe defaults.
fn tls_config() -> Option<Arc<ClientConfig>> {
    static CONFIG: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Some(Arc::new(config))
        })
        .clone()
}

/// Connects to the first of `addrs` that answers. Each was checked; none
/// is looked up again.
async fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, HttpError> {
    let mut last = HttpError::ConnectionRefused;
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(*addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = HttpError::Connect(e),
            Err(_) => last = HttpError::ConnectionTimeout,
        }
    }
    Err(last)
}

/// Connects as `plan` says and exchanges `request` for a response.
async fn exchange(
    plan: Plan,
    mut request: http::Request<WasiBody>,
    timeouts: Timeouts,
) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
    // The request line carries the path only; the authority went into the
    // `host` header.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(path)
        .build()
        .map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let stream = connect(&plan.addrs, timeouts.connect).await?;
    match plan.scheme {
        Scheme::Http => over(stream, request, timeouts).await,
        Scheme::Https => {
            let config = tls_config().ok_or(HttpError::TlsProtocolError)?;
            let name = match &plan.host {
                Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
                Host::Name(name) => ServerName::try_from(name.trim_end_matches('.').to_string())?,
            };
            let tls = tokio::time::timeout(
                timeouts.connect,
                TlsConnector::from(config).connect(name, stream),
            )
            .await
            .map_err(|_| HttpError::ConnectionTimeout)?
            .map_err(HttpError::Tls)?;
            over(tls, request, timeouts).await
        }
    }
}

/// One HTTP/1.1 exchange over `stream`.
async fn over<S>(
    stream: S,
    request: http::Request<WasiBody>,
    timeouts: Timeouts,
) -> Result<(http::Response<WasiBody>, IoFuture), HttpError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, conn) = tokio::time::timeout(
        timeouts.connect,
        hyper::client::conn::http1::handshake::<_, WasiBody>(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| HttpError::ConnectionTimeout)??;
    let mut conn = Box::pin(conn);
    let mut conn_done = false;
    let sending = tokio::time::timeout(timeouts.first_byte, sender.send_request(request));
    tokio::pin!(sending);
    let response = loop {
        tokio::select! {
            sent = &mut sending => {
                break sent.map_err(|_| HttpError::ConnectionReadTimeout)??;
            }
            done = &mut conn, if !conn_done => {
                done?;
                conn_done = true;
            }
        }
    };
    drop(sender);
    let gap = timeouts.between_bytes.max(Duration::from_nanos(1));
    let response = response.map(|incoming| {
        Paced {
            inner: incoming,
            gap,
            timer: Box::pin(tokio::time::sleep(gap)),
        }
        .boxed_unsync()
    });
    let io: IoFuture = Box::new(async move {
        if conn_done {
            return Ok(());
        }
        conn.await.map_err(|e| {
            if e.is_timeout() {
                HttpError::HttpResponseTimeout
            } else {
                HttpError::from(e)
            }
        })
    });
    Ok((response, io))
}

/// A response body that fails when no data comes for `gap`.
struct Paced {
    inner: hyper::body::Incoming,
    gap: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl Body for Paced {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + this.gap;
                this.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(if e.is_timeout() {
                HttpError::HttpResponseTimeout
            } else {
                HttpError::from(e)
            }))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl WasiHttpHooks for HttpGuard {
    /// Only `http` and `https`, in any case: `handle` has refused (and
    /// audited) every other scheme before wasmtime-wasi-http asks.
    fn is_supported_scheme(&mut self, scheme: &http::uri::Scheme) -> bool {
        let s = scheme.as_str();
        s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https")
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        drop(fut);
        match self.next.take() {
            Some(plan) if plan.is_for(&request) => self.checker.send(plan, request, options),
            other => {
                // Never expected: `handle` plans every request it passes on.
                let target = other.map_or_else(
                    || format!("{} {}", request.method(), request.uri()),
                    |p| p.target,
                );
                let rule = "the request is not the one the host checked".to_string();
                self.checker.audit.record_event(
                    CapabilityKind::Network,
                    "http-request",
                    target.clone(),
                    Decision::Denied,
                    rule.clone(),
                );
                self.refusal = Some((target, rule));
                Box::new(async { Err(HttpError::HttpRequestDenied) })
            }
        }
    }

    fn p2_error_from_connect(&mut self, err: &std::io::Error) -> ErrorCode {
        tracing::debug!(target: "wasm_sandbox::http", "connect error: {err}");
        ErrorCode::ConnectionRefused
    }
}

/// The `http-response` event, recorded once the response body is done.
struct Report {
    audit: Arc<AuditSink>,
    target: String,
    status: u16,
    sent: Arc<AtomicU64>,
}

/// A body that counts its bytes and fails past `limit`.
struct Counted {
    inner: WasiBody,
    count: Arc<AtomicU64>,
    limit: u64,
    over: HttpError,
    report: Option<Report>,
}

impl Counted {
    fn finish(&mut self, outcome: &str) {
        if let Some(r) = self.report.take() {
            r.audit.record_event(
                CapabilityKind::Network,
                "http-response",
                r.target,
                Decision::Allowed,
                format!(
                    "status {}, {} bytes sent, {} bytes received{outcome}",
                    r.status,
                    r.sent.load(Ordering::Relaxed),
                    self.count.load(Ordering::Relaxed)
                ),
            );
        }
    }
}

impl Body for Counted {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let total = this.count.fetch_add(data.len() as u64, Ordering::Relaxed)
                        + data.len() as u64;
                    if total > this.limit {
                        let over = match &this.over {
                            HttpError::HttpRequestBodySize(n) => HttpError::HttpRequestBodySize(*n),
                            _ => HttpError::HttpResponseBodySize(Some(total)),
                        };
                        let limit = this.limit;
                        this.finish(&format!(", cut off past the limit of {limit} bytes"));
                        return Poll::Ready(Some(Err(over)));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.finish("");
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish(&format!(", failed: {e}"));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.finish(", body not read to the end");
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::atomic::AtomicUsize;

    use http_body_util::Empty;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::audit::AuditConfig;
    use crate::policy::{Capability, PortRange, SecurityPolicy};

    #[test]
    fn only_canonical_addresses_and_names_are_hosts() {
        let ip = |s: &str| Host::Ip(s.parse().unwrap());
        assert_eq!(parse_authority("127.0.0.1", 80), Ok((ip("127.0.0.1"), 80)));
        assert_eq!(parse_authority("[::1]:8080", 443), Ok((ip("::1"), 8080)));
        assert_eq!(
            parse_authority("Example.COM:8443", 443),
            Ok((Host::Name("example.com".into()), 8443))
        );
        for numeric in [
            "127.1",
            "2130706433",
            "0x7f.1",
            "0177.0.0.1",
            "127.0.0.1.",
            "1.0x1",
        ] {
            let err = parse_authority(&format!("{numeric}:80"), 80).unwrap_err();
            assert!(
                err.contains("nor an IP address in canonical form"),
                "{numeric}: {err}"
            );
        }
        let mapped = parse_authority("[::ffff:127.0.0.1]:80", 80).unwrap_err();
        assert!(
            mapped.starts_with("IPv4-mapped IPv6 addresses are refused"),
            "{mapped}"
        );
        let compatible = parse_authority("[::127.0.0.1]", 80).unwrap_err();
        assert!(compatible.starts_with("IPv4-compatible"), "{compatible}");
        assert!(
            parse_authority("host:0", 80)
                .unwrap_err()
                .contains("port 0")
        );
        assert!(parse_authority("host:", 80).is_err());
        assert!(parse_authority("host:+80", 80).is_err());
        assert!(parse_authority("ho%73t", 80).is_err());
        assert!(parse_authority("[::1", 80).is_err());
    }

    /// A test resolver: `answers[n]` for the n-th lookup (the last one for
    /// any later lookup), counting lookups.
    fn scripted(answers: Vec<Vec<IpAddr>>, count: Arc<AtomicUsize>) -> Resolver {
        Arc::new(move |name: &str| {
            assert_eq!(name, "rebind.test");
            let n = count.fetch_add(1, Ordering::SeqCst);
            let answer = answers[n.min(answers.len() - 1)].clone();
            Box::pin(async move { Ok(answer) })
        })
    }

    fn checker(resolver: Resolver) -> Checker {
        let policy = SecurityPolicy::strict()
            .allow(Capability::NetworkAccess {
                allowed_hosts: vec!["rebind.test".into()],
                allowed_ports: vec![PortRange::ANY],
                allowed_schemes: Vec::new(),
            })
            .deny(Capability::NetworkAccess {
                allowed_hosts: vec!["127.0.0.2".into()],
                allowed_ports: vec![PortRange::ANY],
                allowed_schemes: Vec::new(),
            });
        let limits = HttpLimits {
            request_bytes: 1 << 20,
            response_bytes: 1 << 20,
            timeout: Duration::from_secs(10),
        };
        let audit = AuditSink::new("test".into(), &AuditConfig::default()).unwrap();
        Checker::new(
            Arc::new(Compiled::new(&policy).unwrap()),
            Arc::new(audit),
            limits,
            resolver,
        )
    }

    fn asked(port: u16) -> Asked {
        Asked {
            method: Some("GET".into()),
            scheme: Some("http".into()),
            authority: Some(format!("rebind.test:{port}")),
            path_with_query: Some("/hello".into()),
        }
    }

    /// A server on `ip:port` (port 0: any) that answers `ok` and counts
    /// the connections it accepted.
    async fn counting_server(ip: Ipv4Addr, port: u16) -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind((ip, port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        (port, accepted)
    }

    /// DNS rebinding: the name resolves to an allowed address when it is
    /// checked and to a denied one afterwards. The request goes to the
    /// checked address; the name is not looked up again.
    #[tokio::test]
    async fn a_name_is_resolved_once_and_the_connection_goes_to_the_checked_address() {
        let (port, checked) = counting_server(Ipv4Addr::new(127, 0, 0, 1), 0).await;
        let (_, rebound) = counting_server(Ipv4Addr::new(127, 0, 0, 2), port).await;
        let lookups = Arc::new(AtomicUsize::new(0));
        let answers = vec![
            vec![IpAddr::from([127, 0, 0, 1])],
            vec![IpAddr::from([127, 0, 0, 2])],
        ];
        let checker = checker(scripted(answers, lookups.clone()));

        let Decided::Send(plan) = checker.decide(&asked(port)).await else {
            panic!("rebind.test -> 127.0.0.1 is allowed");
        };
        assert_eq!(plan.addrs, vec![SocketAddr::from(([127, 0, 0, 1], port))]);
        let request = http::Request::get(format!("http://rebind.test:{port}/hello"))
            .header(http::header::HOST, format!("rebind.test:{port}"))
            .body(
                Empty::<Bytes>::new()
                    .map_err(HttpError::from)
                    .boxed_unsync(),
            )
            .unwrap();
        let (response, io) = Pin::from(checker.send(plan, request, None)).await.unwrap();
        tokio::spawn(Pin::from(io));
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ok");
        assert_eq!(
            lookups.load(Ordering::SeqCst),
            1,
            "one lookup, at the check"
        );
        assert_eq!(checked.load(Ordering::SeqCst), 1);
        assert_eq!(rebound.load(Ordering::SeqCst), 0);
        let events = checker.audit.events();
        let request = events
            .iter()
            .find(|e| e.operation == "http-request")
            .unwrap();
        assert_eq!(
            request.target,
            format!("GET http://rebind.test:{port}/hello")
        );
        assert_eq!(request.decision, Decision::Allowed);
        assert!(request.rule.ends_with(" [127.0.0.1]"), "{request}");

        // The next request sees the new answer, and is refused, naming it.
        let Decided::Refused { target, rule } = checker.decide(&asked(port)).await else {
            panic!("rebind.test -> 127.0.0.2 is denied");
        };
        assert_eq!(target, format!("GET http://rebind.test:{port}/hello"));
        assert_eq!(
            rule,
            format!("deny NetworkAccess(127.0.0.2:{port}) [127.0.0.2]")
        );
        assert_eq!(rebound.load(Ordering::SeqCst), 0);
    }

    /// One denied address among a name's answers refuses the request.
    #[tokio::test]
    async fn one_denied_address_refuses_the_name() {
        let lookups = Arc::new(AtomicUsize::new(0));
        let answers = vec![vec![
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from([127, 0, 0, 2]),
        ]];
        let checker = checker(scripted(answers, lookups.clone()));
        let Decided::Refused { rule, .. } = checker.decide(&asked(8080)).await else {
            panic!("127.0.0.2 is denied");
        };
        assert_eq!(rule, "deny NetworkAccess(127.0.0.2:8080) [127.0.0.2]");
        assert_eq!(lookups.load(Ordering::SeqCst), 1);
    }
}
