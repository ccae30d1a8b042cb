//! An HTTP service that routes requests to plugins, with axum and one
//! [`SandboxPool`] per route. Run it with `cargo run -p web-service-example`;
//! the guide's "Embedding in a web service" chapter walks through it.
//!
//! | endpoint | plugin | does |
//! |---|---|---|
//! | `POST /greet` `{"name": ..}` | `greeter` | `{"greeting": ..}` |
//! | `POST /filter` `{"title", "lines", "tags"?, "options"?}` | `text-filter` (reads the host's key-value store) | the filtered document, or 422 with the plugin's reason |
//! | `POST /hog/{action}` `{..}` | `hog` (hostile) | `add-one`, `fib`, `sleep`, and misbehaviour: `spin`, `grow-memory`, `allocate`, `recurse`, `panic` |
//! | `POST /call/{route}/{function}` `[args..]` | any route's plugin | calls any export with JSON arguments |
//! | `GET /plugins` | | every route's plugin and its exports, in WIT |
//! | `GET /metrics` (`?format=prometheus`) | | each route's [`PoolMetrics`](wasm_sandbox::PoolMetrics) |
//!
//! Each route has its own policy, limits and instances ([`RouteConfig`]),
//! and every request runs within its route's deadline. A failed call
//! answers with the status [`status_for`] picks and a JSON body
//! `{"error": kind, "message": ..}` ([`ApiError`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let app = web_service_example::router(Default::default()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use example_interfaces::{GreeterPlugin, HogPlugin, KeyValue, KeyValueHost, TextFilterPlugin};
use wasm_sandbox::SandboxPool;

mod config;
mod error;
mod json;
mod metrics;
mod route;
mod routes;
mod store;

pub use crate::config::{RouteConfig, ServiceConfig};
pub use crate::error::{ApiError, error_kind, status_for};

use crate::route::{Route, RouteCore};
use crate::store::MemoryStore;

/// The service: one pool (and typed proxy) per route, built from a
/// [`ServiceConfig`]. [`Service::router`] turns it into an axum `Router`.
#[derive(Debug)]
pub struct Service {
    greeter: Route<GreeterPlugin<SandboxPool>>,
    filter: Route<TextFilterPlugin<SandboxPool>>,
    hog: Route<HogPlugin<SandboxPool>>,
    max_body_bytes: usize,
}

impl Service {
    /// Compiles (or loads from the compile cache) each route's plugin,
    /// starts its pool and checks that the plugin implements the route's
    /// interface.
    ///
    /// # Errors
    ///
    /// The first `wasm_sandbox::Error` of a route that cannot start: a
    /// missing plugin file, a plugin whose imports its policy can never
    /// grant, a plugin that does not implement the route's interface.
    pub async fn build(config: ServiceConfig) -> wasm_sandbox::Result<Service> {
        // ANCHOR: build
        let store = MemoryStore::default();
        if let Some(word) = &config.banned_word {
            store.set("banned".to_string(), word.clone());
        }
        let greeter = Route::build("greeter", &config.greeter, |b| b, GreeterPlugin::load).await?;
        let filter = Route::build(
            "text-filter",
            &config.text_filter,
            // Every instance of the pool shares the one store.
            |b| b.host_interface(KeyValueHost::new(store)),
            TextFilterPlugin::load,
        )
        .await?;
        let hog = Route::build("hog", &config.hog, |b| b, HogPlugin::load).await?;
        // ANCHOR_END: build
        Ok(Service {
            greeter,
            filter,
            hog,
            max_body_bytes: config.max_body_bytes,
        })
    }

    /// Each route's name and pool, in a fixed order.
    pub fn pools(&self) -> impl Iterator<Item = (&'static str, &SandboxPool)> {
        self.routes().map(|r| (r.name, &r.pool))
    }

    /// Every route, in a fixed order.
    fn routes(&self) -> impl Iterator<Item = &RouteCore> {
        [&self.greeter.core, &self.filter.core, &self.hog.core].into_iter()
    }

    /// The route called `name`.
    fn route(&self, name: &str) -> Option<&RouteCore> {
        self.routes().find(|r| r.name == name)
    }

    /// The routes' names.
    fn route_names(&self) -> Vec<&'static str> {
        self.pools().map(|(name, _)| name).collect()
    }

    // ANCHOR: router
    /// The axum router of the service's endpoints, sharing `self`.
    pub fn router(self) -> Router {
        let max_body_bytes = self.max_body_bytes;
        Router::new()
            .route("/greet", post(routes::greet))
            .route("/filter", post(routes::filter))
            .route("/hog/{action}", post(routes::hog))
            .route("/call/{route}/{function}", post(routes::call))
            .route("/plugins", get(routes::plugins))
            .route("/metrics", get(routes::metrics))
            .fallback(routes::not_found)
            .layer(DefaultBodyLimit::max(max_body_bytes))
            .with_state(Arc::new(self))
    }
    // ANCHOR_END: router
}

/// Builds the [`Service`] for `config` and returns its router.
///
/// # Errors
///
/// As [`Service::build`].
pub async fn router(config: ServiceConfig) -> wasm_sandbox::Result<Router> {
    Ok(Service::build(config).await?.router())
}
