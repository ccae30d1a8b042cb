//! The `fetcher` example plugin: outbound HTTP with the guest SDK's `http`
//! module. The JavaScript version (`example-plugins/js/fetcher.js`) does the
//! same with `fetch()`.

// ANCHOR: plugin
use example_interfaces::{FetchRequest, FetchResponse, Fetcher};
use wasm_sandbox_guest::http;

#[derive(Default)]
struct Client;

impl Fetcher for Client {
    fn fetch(&self, request: FetchRequest) -> Result<FetchResponse, String> {
        let body = request.body.unwrap_or_default().into_bytes();
        let mut outgoing = http::Request::get(request.url);
        outgoing.method = request.method;
        outgoing.body = body;
        // Follows redirects; each new URL is checked by the host again.
        let response = http::send(outgoing).map_err(|e| e.to_string())?;
        Ok(FetchResponse {
            status: response.status,
            body: String::from_utf8_lossy(&response.body).into_owned(),
        })
    }
}

wasm_sandbox_guest::export!(Client: example_interfaces::Fetcher);
// ANCHOR_END: plugin
