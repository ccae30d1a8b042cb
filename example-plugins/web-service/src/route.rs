//! One route: its plugin's pool and proxy, the threads its calls run on,
//! and its request deadline.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::runtime::{Handle, Runtime};
use tokio::task::AbortHandle;
use wasm_sandbox::SandboxPool;

use crate::config::RouteConfig;
use crate::error::ApiError;

/// What every route has, whatever its plugin's interface.
#[derive(Debug)]
pub(crate) struct RouteCore {
    pub(crate) name: &'static str,
    pub(crate) pool: SandboxPool,
    pub(crate) request_timeout: Duration,
    pub(crate) dynamic_calls: bool,
    threads: Threads,
}

/// A route with the typed proxy of its plugin's interface.
#[derive(Debug)]
pub(crate) struct Route<P> {
    pub(crate) core: RouteCore,
    proxy: Arc<P>,
}

/// The threads that run a route's plugin calls: a tokio runtime of the
/// route's own, or none (`handle` is `None`) to run them on the threads
/// that serve HTTP.
#[derive(Debug)]
struct Threads {
    runtime: Option<Runtime>,
    handle: Option<Handle>,
}

impl Threads {
    // ANCHOR: threads
    fn new(route: &str, count: usize) -> std::io::Result<Threads> {
        if count == 0 {
            return Ok(Threads {
                runtime: None,
                handle: None,
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(count)
            .thread_name(format!("plugin-{route}"))
            // A plugin call may run for a whole epoch tick (10 ms) before it
            // yields: look at newly arrived calls, timers and sockets every
            // other turn (events by default only every 61st), so that a
            // call never waits behind a long queue of spinning ones.
            .global_queue_interval(2)
            .event_interval(2)
            .enable_all()
            .build()?;
        let handle = Some(runtime.handle().clone());
        Ok(Threads {
            runtime: Some(runtime),
            handle,
        })
    }
    // ANCHOR_END: threads
}

impl Drop for Threads {
    fn drop(&mut self) {
        // The service may be dropped inside another runtime, where waiting
        // for these threads is not allowed; calls still running are
        // cancelled like any other.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Aborts a spawned call when the request that waits for it goes away (its
/// deadline passed, or the client hung up).
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl RouteCore {
    // ANCHOR: run
    /// Runs a plugin call on the route's own threads, within the route's
    /// request deadline. When the deadline passes or the client hangs up,
    /// the call is aborted: its future is dropped at its next yield, which
    /// cancels the call and discards its instance (wasm-sandbox never reuses
    /// an instance whose call did not finish).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        call: impl Future<Output = wasm_sandbox::Result<T>> + Send + 'static,
    ) -> Result<T, ApiError> {
        let task = match &self.threads.handle {
            Some(threads) => threads.spawn(call),
            None => tokio::spawn(call),
        };
        let _abort = AbortOnDrop(task.abort_handle());
        match tokio::time::timeout(self.request_timeout, task).await {
            Ok(Ok(result)) => result.map_err(ApiError::from),
            Ok(Err(failed)) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!(
                    "the call on route `{}` failed in the host: {failed}",
                    self.name
                ),
            )),
            Err(_elapsed) => Err(ApiError::request_timeout(self.name, self.request_timeout)),
        }
    }
    // ANCHOR_END: run
}

impl<P: Send + Sync + 'static> Route<P> {
    /// Builds the route's pool (`configure` adds what is particular to it,
    /// such as host interfaces), loads the typed proxy and starts the
    /// route's threads.
    pub(crate) async fn build(
        name: &'static str,
        config: &RouteConfig,
        configure: impl FnOnce(wasm_sandbox::PoolBuilder) -> wasm_sandbox::PoolBuilder,
        load: impl FnOnce(SandboxPool) -> wasm_sandbox::Result<P>,
    ) -> wasm_sandbox::Result<Route<P>> {
        let pool = configure(config.pool_builder(name)).build().await?;
        let threads =
            Threads::new(name, config.threads).map_err(|e| wasm_sandbox::Error::Config {
                detail: format!(
                    "could not start {} thread(s) for route `{name}`: {e}; lower `threads`",
                    config.threads
                ),
            })?;
        Ok(Route {
            proxy: Arc::new(load(pool.clone())?),
            core: RouteCore {
                name,
                pool,
                request_timeout: config.request_timeout,
                dynamic_calls: config.dynamic_calls,
                threads,
            },
        })
    }

    /// Runs `call` with the typed proxy (see [`RouteCore::run`]).
    pub(crate) async fn call<T, F>(&self, call: impl FnOnce(Arc<P>) -> F) -> Result<T, ApiError>
    where
        F: Future<Output = wasm_sandbox::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.core.run(call(self.proxy.clone())).await
    }
}
