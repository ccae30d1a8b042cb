//! Outbound HTTP from a plugin, through `wasi:http/outgoing-handler`.
//!
//! The host sends the request only if its policy grants the URL's host and
//! port (`Capability::NetworkAccess`, with the scheme checked against the
//! grant's `allowed_schemes`); otherwise [`send`] fails with
//! [`Error::Denied`]. Every request is audited by the host.
//!
//! ```no_run
//! use wasm_sandbox_guest::http;
//!
//! # fn main() -> Result<(), http::Error> {
//! let response = http::get("https://api.example.com/v1/status")?;
//! assert_eq!(response.status, 200);
//! let text = String::from_utf8_lossy(&response.body);
//! # let _ = text;
//! # Ok(()) }
//! ```
//!
//! [`send`] follows up to [`MAX_REDIRECTS`] redirects (`301`, `302`, `303`,
//! `307`, `308`); each new URL is a new request that the host checks on its
//! own, so a redirect to a host the policy does not grant fails with
//! [`Error::Denied`].

use std::fmt;

/// How many redirects [`send`] follows before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// An HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method: `GET`, `POST`, ...
    pub method: String,
    /// An absolute `http://` or `https://` URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl Request {
    /// A `GET` of `url`.
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: "GET".to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `POST` of `body` to `url`.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Request {
        Request {
            method: "POST".to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// An HTTP response, body read in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The host's policy does not allow this URL
    /// (`error-code::http-request-denied`).
    Denied {
        /// The URL that was refused.
        url: String,
    },
    /// The URL is not an absolute `http://` or `https://` URL.
    InvalidUrl(String),
    /// More than [`MAX_REDIRECTS`] redirects.
    TooManyRedirects,
    /// Any other failure, with the `wasi:http` error code: connection
    /// refused, timeout, a body over the host's size limit, ...
    Http(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Denied { url } => write!(
                f,
                "the host's policy denied the request to {url} (http-request-denied)"
            ),
            Error::InvalidUrl(url) => write!(f, "`{url}` is not an absolute http(s) URL"),
            Error::TooManyRedirects => write!(f, "more than {MAX_REDIRECTS} redirects"),
            Error::Http(code) => write!(f, "HTTP request failed: {code}"),
        }
    }
}

impl std::error::Error for Error {}

/// A `GET` of `url`, following redirects.
pub fn get(url: &str) -> Result<Response, Error> {
    send(Request::get(url))
}

/// Sends `request`, following redirects: `303`, and `301`/`302` after a
/// `POST`, become a `GET` without a body, as browsers do; `307` and `308`
/// repeat the request.
pub fn send(mut request: Request) -> Result<Response, Error> {
    for _ in 0..=MAX_REDIRECTS {
        let response = send_once(&request)?;
        let Some(location) = response
            .header("location")
            .filter(|_| matches!(response.status, 301 | 302 | 303 | 307 | 308))
        else {
            return Ok(response);
        };
        request.url = resolve(&request.url, location)?;
        if response.status == 303 || (request.method == "POST" && response.status <= 302) {
            request.method = "GET".to_string();
            request.body.clear();
        }
    }
    Err(Error::TooManyRedirects)
}

/// The parts of an absolute URL: scheme, authority, path with query.
fn split(url: &str) -> Result<(&str, &str, &str), Error> {
    let invalid = || Error::InvalidUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(invalid());
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(invalid());
    }
    Ok((scheme, authority, path))
}

/// `location` (absolute, or a path) resolved against `base`.
fn resolve(base: &str, location: &str) -> Result<String, Error> {
    if location.contains("://") {
        return Ok(location.to_string());
    }
    let (scheme, authority, path) = split(base)?;
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Ok(format!("{scheme}://{authority}{location}"));
    }
    let dir = path.split('?').next().unwrap_or("/");
    let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
    Ok(format!("{scheme}://{authority}{dir}{location}"))
}

#[cfg(target_family = "wasm")]
fn send_once(request: &Request) -> Result<Response, Error> {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{
        ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
    };
    use wasip2::io::streams::StreamError;

    let http_error = |code: ErrorCode| match code {
        ErrorCode::HttpRequestDenied => Error::Denied {
            url: request.url.clone(),
        },
        other => Error::Http(format!("{other:?}")),
    };
    let (scheme, authority, path) = split(&request.url)?;
    let headers = Fields::new();
    // A body of known length goes with `content-length`, not chunked.
    if !request.body.is_empty()
        && !request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        headers
            .append("content-length", request.body.len().to_string().as_bytes())
            .map_err(|e| Error::Http(format!("header `content-length`: {e:?}")))?;
    }
    for (name, value) in &request.headers {
        headers
            .append(name, value.as_bytes())
            .map_err(|e| Error::Http(format!("header `{name}`: {e:?}")))?;
    }
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    };
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let bad = |what: &str| Error::Http(format!("invalid {what} in {}", request.url));
    outgoing.set_method(&method).map_err(|()| bad("method"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| bad("scheme"))?;
    outgoing
        .set_authority(Some(authority))
        .map_err(|()| bad("authority"))?;
    outgoing
        .set_path_with_query(Some(path))
        .map_err(|()| bad("path"))?;
    let body = outgoing
        .body()
        .map_err(|()| Error::Http("request body taken twice".to_string()))?;

    let pending = outgoing_handler::handle(outgoing, None).map_err(http_error)?;
    if !request.body.is_empty() {
        let stream = body
            .write()
            .map_err(|()| Error::Http("request body stream taken twice".to_string()))?;
        for chunk in request.body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| Error::Http(format!("writing the request body: {e:?}")))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(http_error)?;

    let incoming = loop {
        match pending.get() {
            Some(Ok(result)) => break result.map_err(http_error)?,
            Some(Err(())) => return Err(Error::Http("response taken twice".to_string())),
            None => pending.subscribe().block(),
        }
    };
    let status = incoming.status();
    let headers = incoming
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .collect();
    let body_handle = incoming
        .consume()
        .map_err(|()| Error::Http("response body taken twice".to_string()))?;
    let stream = body_handle
        .stream()
        .map_err(|()| Error::Http("response body stream taken twice".to_string()))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                let detail = wasip2::http::types::http_error_code(&e)
                    .map_or_else(|| e.to_debug_string(), |code| format!("{code:?}"));
                return Err(Error::Http(format!("reading the response body: {detail}")));
            }
        }
    }
    drop(stream);
    let _trailers = IncomingBody::finish(body_handle);
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(not(target_family = "wasm"))]
fn send_once(request: &Request) -> Result<Response, Error> {
    split(&request.url)?;
    Err(Error::Http(
        "HTTP requests are sent only inside a wasm-sandbox host".to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_request_url() {
        let base = "http://127.0.0.1:8080/a/b?x=1";
        assert_eq!(
            resolve(base, "https://other.example/z").unwrap(),
            "https://other.example/z"
        );
        assert_eq!(resolve(base, "/c").unwrap(), "http://127.0.0.1:8080/c");
        assert_eq!(resolve(base, "c").unwrap(), "http://127.0.0.1:8080/a/c");
        assert_eq!(resolve(base, "//host:1/p").unwrap(), "http://host:1/p");
    }

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert_eq!(split("http://h:1/p?q").unwrap(), ("http", "h:1", "/p?q"));
        assert_eq!(split("https://h").unwrap(), ("https", "h", "/"));
        assert!(matches!(split("ftp://h/"), Err(Error::InvalidUrl(_))));
        assert!(matches!(split("/relative"), Err(Error::InvalidUrl(_))));
        assert!(matches!(
            get("http://h/").unwrap_err(),
            Error::Http(m) if m.contains("only inside a wasm-sandbox host")
        ));
    }
}
