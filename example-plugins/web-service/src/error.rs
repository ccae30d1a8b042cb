//! Errors as HTTP responses: [`status_for`] maps each `wasm_sandbox::Error`
//! to a status, and [`ApiError`] carries it with a JSON body.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use wasm_sandbox::{Error, Limit};

// ANCHOR: status_for
/// The HTTP status that answers a request whose plugin call failed with
/// `err`.
///
/// | error | status | because |
/// |---|---|---|
/// | `ResourceLimitExceeded(Limit::Time)`, `(Limit::Fuel)` | 504 Gateway Timeout | the plugin did not finish within its time or instruction budget |
/// | `ResourceLimitExceeded(..)`, any other limit (memory, stack, table, instances, output) | 507 Insufficient Storage | the plugin needed more room than its route allows |
/// | `Trap`, `Instantiate` | 502 Bad Gateway | the plugin, the "upstream" of the request, crashed |
/// | `SecurityViolation` | 403 Forbidden | the plugin tried something its route's policy does not grant |
/// | `PoolTimeout` | 503 Service Unavailable | every instance of the route stayed busy; retry later |
/// | `TypeMismatch` | 400 Bad Request | the request's arguments do not fit the function's WIT signature |
/// | `ExportNotFound` | 404 Not Found | the plugin has no function of that name |
/// | anything else (a plugin that does not load, a policy or configuration error) | 500 Internal Server Error | the service is set up wrongly; the client can do nothing about it |
///
/// A plugin's own error value (the `Err` of a function that returns a WIT
/// `result`) is not a `wasm_sandbox::Error`: the call succeeded and the
/// plugin refused the input. The routes answer it with 422 Unprocessable
/// Content.
pub fn status_for(err: &Error) -> StatusCode {
    match err {
        Error::ResourceLimitExceeded(Limit::Time { .. } | Limit::Fuel { .. }) => {
            StatusCode::GATEWAY_TIMEOUT
        }
        Error::ResourceLimitExceeded(_) => StatusCode::INSUFFICIENT_STORAGE,
        Error::Trap { .. } | Error::Instantiate { .. } => StatusCode::BAD_GATEWAY,
        Error::SecurityViolation { .. } => StatusCode::FORBIDDEN,
        Error::PoolTimeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::TypeMismatch { .. } => StatusCode::BAD_REQUEST,
        Error::ExportNotFound { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
// ANCHOR_END: status_for

/// A short, stable name for the kind of `err`, for the `error` field of the
/// JSON body: `time_limit`, `memory_limit`, `trap`, `security_violation`,
/// `pool_timeout`, `type_mismatch`, `export_not_found`, ...
pub fn error_kind(err: &Error) -> &'static str {
    match err {
        Error::ResourceLimitExceeded(limit) => match limit {
            Limit::Memory { .. } => "memory_limit",
            Limit::Time { .. } => "time_limit",
            Limit::Fuel { .. } => "fuel_limit",
            Limit::Stack { .. } => "stack_limit",
            Limit::Table { .. } => "table_limit",
            Limit::Instances { .. } => "instances_limit",
            Limit::Output { .. } => "output_limit",
            _ => "resource_limit",
        },
        Error::Trap { .. } => "trap",
        Error::Instantiate { .. } => "instantiate",
        Error::SecurityViolation { .. } => "security_violation",
        Error::PoolTimeout { .. } => "pool_timeout",
        Error::TypeMismatch { .. } => "type_mismatch",
        Error::ExportNotFound { .. } => "export_not_found",
        _ => "internal",
    }
}

/// An error response: a status and a JSON body
/// `{"error": kind, "message": text}`, with a `"detail"` value when there
/// is more to say (the plugin's own error value, the nearest export names).
///
/// Every failure of a request becomes one: a `wasm_sandbox::Error` (through
/// `From`, with [`status_for`]), a request body that is not the JSON the
/// route takes, a plugin's refusal, a request past its deadline.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    detail: Option<Value>,
}

impl ApiError {
    /// An error with this status, kind and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            detail: None,
        }
    }

    /// Adds a `"detail"` value to the body.
    #[must_use]
    pub fn with_detail(mut self, detail: Value) -> ApiError {
        self.detail = Some(detail);
        self
    }

    /// The response's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `"error"` field of the body.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The `"message"` field of the body.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The plugin answered with its own error value (422).
    pub(crate) fn plugin_refused(message: impl Into<String>, detail: Value) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_error", message).with_detail(detail)
    }

    /// The request's body or arguments are not what the route takes (400).
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// The request ran past its route's deadline and was cancelled (504).
    pub(crate) fn request_timeout(route: &str, timeout: Duration) -> ApiError {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "request_timeout",
            format!(
                "the request to route `{route}` did not finish within its deadline of \
                 {timeout:?} and was cancelled; send less work, or raise the route's \
                 `request_timeout`"
            ),
        )
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        let detail = match &err {
            Error::ResourceLimitExceeded(limit) => Some(json!({ "limit": limit.name() })),
            Error::ExportNotFound { suggestions, .. } if !suggestions.is_empty() => {
                Some(json!({ "suggestions": suggestions }))
            }
            _ => None,
        };
        ApiError {
            status: status_for(&err),
            kind: error_kind(&err),
            message: err.to_string(),
            detail,
        }
    }
}

/// A body that is not the JSON a route takes: 400 (or 413 when it is too
/// large, 415 without a JSON content type), with axum's explanation.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        let (status, kind) = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            // Syntax errors (400) and JSON of the wrong shape (422) alike:
            // the request does not fit what the route takes. 422 is kept
            // for a plugin that refuses well-formed input.
            _ => (StatusCode::BAD_REQUEST, "bad_request"),
        };
        ApiError::new(
            status,
            kind,
            format!(
                "{}; send a JSON body as described in the route's documentation",
                rejection.body_text()
            ),
        )
    }
}

/// A body that could not be read: 413 when it is too large, else 400.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        let (status, kind) = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            _ => (StatusCode::BAD_REQUEST, "bad_request"),
        };
        ApiError::new(status, kind, rejection.body_text())
    }
}

/// The JSON body of an error response, fields in this order.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, kind = self.kind, "{}", self.message);
        }
        let body = ErrorBody {
            error: self.kind,
            message: &self.message,
            detail: self.detail.as_ref(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_sandbox::TrapCode;

    fn limit(limit: Limit) -> Error {
        Error::ResourceLimitExceeded(limit)
    }

    #[test]
    fn every_error_kind_has_its_status() {
        let cases = [
            (
                limit(Limit::Time {
                    deadline: Duration::from_millis(500),
                }),
                StatusCode::GATEWAY_TIMEOUT,
                "time_limit",
            ),
            (
                limit(Limit::Fuel { budget: 1000 }),
                StatusCode::GATEWAY_TIMEOUT,
                "fuel_limit",
            ),
            (
                limit(Limit::Memory {
                    requested: 2 << 20,
                    allowed: 1 << 20,
                }),
                StatusCode::INSUFFICIENT_STORAGE,
                "memory_limit",
            ),
            (
                limit(Limit::Stack { max: 65536 }),
                StatusCode::INSUFFICIENT_STORAGE,
                "stack_limit",
            ),
            (
                limit(Limit::Table {
                    requested: 20,
                    allowed: 10,
                }),
                StatusCode::INSUFFICIENT_STORAGE,
                "table_limit",
            ),
            (
                limit(Limit::Instances { allowed: 1 }),
                StatusCode::INSUFFICIENT_STORAGE,
                "instances_limit",
            ),
            (
                limit(Limit::Output {
                    size: 20,
                    allowed: 10,
                }),
                StatusCode::INSUFFICIENT_STORAGE,
                "output_limit",
            ),
            (
                Error::Trap {
                    function: "plugin#panic".into(),
                    code: Some(TrapCode::UnreachableCodeReached),
                    message: "wasm `unreachable` instruction executed".into(),
                    backtrace: None,
                    guest_stderr: Vec::new(),
                },
                StatusCode::BAD_GATEWAY,
                "trap",
            ),
            (
                Error::SecurityViolation {
                    function: "plugin#filter".into(),
                    target: "example-interfaces:key-value/key-value#get".into(),
                    rule: "no Custom grant names this interface".into(),
                    capability: "Capability::Custom(\"example-interfaces:key-value/key-value\")"
                        .into(),
                },
                StatusCode::FORBIDDEN,
                "security_violation",
            ),
            (
                Error::PoolTimeout {
                    waited: Duration::from_secs(1),
                    max_instances: 4,
                },
                StatusCode::SERVICE_UNAVAILABLE,
                "pool_timeout",
            ),
            (
                Error::TypeMismatch {
                    function: "plugin#greet".into(),
                    expected: "func(name: string) -> string".into(),
                    given: "(u64)".into(),
                    detail: None,
                },
                StatusCode::BAD_REQUEST,
                "type_mismatch",
            ),
            (
                Error::ExportNotFound {
                    name: "gret".into(),
                    suggestions: vec!["plugin#greet".into()],
                    available: 1,
                },
                StatusCode::NOT_FOUND,
                "export_not_found",
            ),
            (
                Error::Policy {
                    detail: "relative path".into(),
                },
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
            (
                Error::Config {
                    detail: "no source".into(),
                },
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
            (
                Error::NotAComponent {
                    origin: "plugin `x.wasm`".into(),
                },
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (err, status, kind) in cases {
            assert_eq!(status_for(&err), status, "{err:?}");
            assert_eq!(error_kind(&err), kind, "{err:?}");
            let message = err.to_string();
            let api = ApiError::from(err);
            assert_eq!(
                (api.status(), api.kind(), api.message()),
                (status, kind, message.as_str())
            );
        }
    }

    #[test]
    fn limit_errors_name_the_limit_and_suggestions_are_kept() {
        let api = ApiError::from(limit(Limit::Stack { max: 65536 }));
        assert_eq!(api.detail, Some(json!({ "limit": "stack" })));
        let api = ApiError::from(Error::ExportNotFound {
            name: "gret".into(),
            suggestions: vec!["plugin#greet".into()],
            available: 1,
        });
        assert_eq!(api.detail, Some(json!({ "suggestions": ["plugin#greet"] })));
    }

    #[tokio::test]
    async fn the_body_is_json_with_kind_and_message() {
        let response = ApiError::from(Error::PoolTimeout {
            waited: Duration::from_secs(1),
            max_instances: 4,
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"], "pool_timeout");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("all 4 instances of the pool are busy"),
            "{body}"
        );
    }
}
