//! `Fetcher`: a plugin that makes outbound HTTP requests through
//! `wasi:http/outgoing-handler`, under the host's `NetworkAccess` grants.

use wasm_sandbox_guest::{PluginType, sandbox_plugin};

/// An HTTP request the host asks the plugin to make.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// An absolute `http://` or `https://` URL.
    pub url: String,
    /// The request body, if any.
    pub body: Option<String>,
}

/// What came back.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub struct FetchResponse {
    /// The HTTP status code of the final response (after redirects).
    pub status: u16,
    /// The response body, as text.
    pub body: String,
}

/// Makes HTTP requests on the host's behalf.
#[sandbox_plugin]
pub trait Fetcher {
    /// Sends `request`, following redirects, and returns the final
    /// response, or the error the plugin's HTTP client reported.
    fn fetch(&self, request: FetchRequest) -> Result<FetchResponse, String>;
}
