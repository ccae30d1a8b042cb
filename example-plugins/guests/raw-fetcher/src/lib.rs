//! A hostile HTTP client: implements `example_interfaces::Fetcher` with raw
//! `wasi:http` calls, and passes the URL's scheme and authority to the host
//! exactly as written: `HTTPS://` stays the scheme `HTTPS` (a
//! `scheme::other`), `user:pass@host` stays in the authority, `ftp` is sent
//! as it is. The guest SDK's `http` module would normalise or refuse all of
//! these in the plugin; a hostile plugin does not, so the host must.
//! Redirects are not followed. The error is the `wasi:http` error code.

use example_interfaces::{FetchRequest, FetchResponse, Fetcher};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

#[derive(Default)]
struct Raw;

impl Fetcher for Raw {
    fn fetch(&self, request: FetchRequest) -> Result<FetchResponse, String> {
        let (scheme, rest) = request
            .url
            .split_once("://")
            .ok_or_else(|| format!("`{}` has no scheme", request.url))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let scheme = match scheme {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => Scheme::Other(other.to_string()),
        };
        let outgoing = OutgoingRequest::new(Fields::new());
        outgoing
            .set_method(&Method::Other(request.method.clone()))
            .map_err(|()| "invalid method".to_string())?;
        outgoing
            .set_scheme(Some(&scheme))
            .map_err(|()| "invalid scheme".to_string())?;
        outgoing
            .set_authority(Some(authority))
            .map_err(|()| "invalid authority".to_string())?;
        outgoing
            .set_path_with_query(Some(path))
            .map_err(|()| "invalid path".to_string())?;
        let body = outgoing
            .body()
            .map_err(|()| "request body taken twice".to_string())?;
        let pending = outgoing_handler::handle(outgoing, None).map_err(|e| format!("{e:?}"))?;
        OutgoingBody::finish(body, None).map_err(|e| format!("{e:?}"))?;
        let incoming = loop {
            match pending.get() {
                Some(Ok(result)) => break result.map_err(|e| format!("{e:?}"))?,
                Some(Err(())) => return Err("response taken twice".to_string()),
                None => pending.subscribe().block(),
            }
        };
        let status = incoming.status();
        let body_handle = incoming
            .consume()
            .map_err(|()| "response body taken twice".to_string())?;
        let stream = body_handle
            .stream()
            .map_err(|()| "response body stream taken twice".to_string())?;
        let mut body = Vec::new();
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
            }
        }
        Ok(FetchResponse {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

wasm_sandbox_guest::export!(Raw: example_interfaces::Fetcher);
