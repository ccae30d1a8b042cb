//! Outbound HTTP (`wasi:http/outgoing-handler`), under the `NetworkAccess`
//! grants.
//!
//! Every request a plugin sends reaches [`HttpGuard::send_request`] before
//! anything touches the network. It checks the URL's scheme, host and port
//! against the policy (the same grants and matching as sockets, plus the
//! grant's `allowed_schemes`), records an `http-request` audit event, and
//! refuses a denied request with `error-code::http-request-denied`, the
//! error a WASI HTTP client expects. An allowed request is sent by
//! wasmtime-wasi-http's client with the timeouts capped by
//! [`ResourceLimits::http_timeout_ms`](crate::ResourceLimits::http_timeout_ms),
//! its body and the response body counted against the size limits, and an
//! `http-response` event (status and bytes both ways) recorded when the
//! response body is finished or dropped.
//!
//! Redirects are not followed by the host: a `3xx` goes back to the plugin,
//! whose client sends a new request for the new URL, which is checked like
//! any other.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

use crate::audit::{AuditSink, CapabilityKind, Decision};
use crate::policy::{Compiled, Verdict};
use crate::store::HostState;

/// The HTTP limits in force for an instance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpLimits {
    pub(crate) request_bytes: u64,
    pub(crate) response_bytes: u64,
    pub(crate) timeout: Duration,
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
                policy,
                audit,
                limits,
            },
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.count_host_call("wasi");
        let (table, http) = self.table_and_http();
        WasiHttpCtxView {
            ctx: &mut http.ctx,
            table,
            hooks: &mut http.guard,
        }
    }
}

/// The policy check in front of wasmtime-wasi-http's client.
struct HttpGuard {
    policy: Arc<Compiled>,
    audit: Arc<AuditSink>,
    limits: HttpLimits,
}

/// What a request looks like in the audit log: `GET http://host:port/path`.
/// The query string is left out (it often carries credentials).
fn describe(request: &http::Request<WasiBody>, scheme: &str, host: &str, port: u16) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let path = request.uri().path();
    let query = if request.uri().query().is_some() {
        "?…"
    } else {
        ""
    };
    format!("{} {scheme}://{host}:{port}{path}{query}", request.method())
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpGuard {
    /// Every scheme reaches `send_request`, so that the policy decides and
    /// the audit log records the attempt.
    fn is_supported_scheme(&mut self, _scheme: &http::uri::Scheme) -> bool {
        true
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        drop(fut);
        let uri = request.uri().clone();
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        let host = uri.host().unwrap_or("").to_string();
        let port = uri.port_u16().unwrap_or(match scheme.as_str() {
            "https" => 443,
            _ => 80,
        });
        let target = describe(&request, &scheme, &host, port);
        let verdict = if scheme != "http" && scheme != "https" {
            Verdict::deny(format!(
                "`{scheme}` is not an HTTP scheme; plugins send http and https requests only"
            ))
        } else if host.is_empty() {
            Verdict::deny("the URL names no host")
        } else {
            self.policy.check_http(&scheme, &host, port)
        };
        self.audit.record(
            CapabilityKind::Network,
            "http-request",
            target.clone(),
            &verdict,
        );
        if !verdict.allowed {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }

        let limits = self.limits;
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.request_bytes) {
            let audit = self.audit.clone();
            audit.record_event(
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
        let cap = |t: Option<Duration>| Some(t.map_or(limits.timeout, |t| t.min(limits.timeout)));
        let options = RequestOptions {
            connect_timeout: cap(options.and_then(|o| o.connect_timeout)),
            first_byte_timeout: cap(options.and_then(|o| o.first_byte_timeout)),
            between_bytes_timeout: cap(options.and_then(|o| o.between_bytes_timeout)),
        };
        let audit = self.audit.clone();
        Box::new(async move {
            let sending = wasmtime_wasi_http::default_send_request(request, Some(options));
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
                    inner: body.boxed_unsync(),
                    count: Arc::new(AtomicU64::new(0)),
                    limit: limits.response_bytes,
                    over: HttpError::HttpResponseBodySize(None),
                    report: Some(report),
                }
                .boxed_unsync()
            });
            Ok((
                response,
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
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
