//! What the service runs: one [`RouteConfig`] per plugin route, gathered in
//! a [`ServiceConfig`].

use std::path::PathBuf;
use std::time::Duration;

use example_interfaces::KeyValueHost;
use wasm_sandbox::{Capability, PoolBuilder, SandboxPool, SecurityPolicy};

/// How one route's plugin runs: which plugin, under which policy and
/// limits, with how many instances, and how long a request may take.
///
/// Each route has a [`SandboxPool`] of its own, so a route's policy, limits
/// and instances are its own: a plugin that misbehaves on one route uses up
/// that route's instances and nothing else.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RouteConfig {
    /// The plugin's `.wasm` file.
    pub plugin: PathBuf,
    /// What the plugin may do.
    pub policy: SecurityPolicy,
    /// The most instances of the plugin, which is the most requests the
    /// route serves at once; more requests wait for a free instance.
    pub max_instances: usize,
    /// Instances started before the first request.
    pub preload_instances: usize,
    /// How long a request waits for a free instance before it fails with
    /// `503 Service Unavailable`.
    pub checkout_timeout: Duration,
    /// The plugin's deadline per call (the pool's `cpu_timeout`), enforced
    /// inside wasm-sandbox; a call past it fails with `504 Gateway Timeout`.
    pub cpu_timeout: Duration,
    /// Linear memory per instance, in bytes; a plugin that wants more fails
    /// with `507 Insufficient Storage`.
    pub memory_limit: usize,
    /// The deadline of the whole request, the wait for an instance
    /// included: a `tokio::time::timeout` around the call. At the deadline
    /// the call is cancelled (its instance is discarded) and the request
    /// fails with `504 Gateway Timeout`.
    pub request_timeout: Duration,
    /// Gives every request a new instance, so nothing one request leaves in
    /// the plugin's memory is seen by the next.
    pub fresh_instance_per_call: bool,
    /// Whether `POST /call/{route}/{function}` may call any export of the
    /// plugin with JSON arguments (otherwise it answers `403 Forbidden`).
    pub dynamic_calls: bool,
    /// Threads that run the route's plugin calls: a tokio runtime of the
    /// route's own, apart from the threads that serve HTTP. A plugin that
    /// computes without end occupies one of them until its deadline, and
    /// no thread of another route. 0 runs the calls on the threads that
    /// serve HTTP, where such a plugin slows every route down.
    pub threads: usize,
}

impl RouteConfig {
    /// A route for `plugin` under [`SecurityPolicy::strict`] (nothing
    /// granted), with 8 instances (1 preloaded), a 2 s wait for an
    /// instance, 1 s per call, 32 MiB of memory, a 5 s request deadline,
    /// instances reused between requests, dynamic calls allowed, and 2
    /// threads.
    pub fn new(plugin: impl Into<PathBuf>) -> RouteConfig {
        RouteConfig {
            plugin: plugin.into(),
            policy: SecurityPolicy::strict(),
            max_instances: 8,
            preload_instances: 1,
            checkout_timeout: Duration::from_secs(2),
            cpu_timeout: Duration::from_secs(1),
            memory_limit: 32 * 1024 * 1024,
            request_timeout: Duration::from_secs(5),
            fresh_instance_per_call: false,
            dynamic_calls: true,
            threads: 2,
        }
    }

    // ANCHOR: pool
    /// The pool builder for this route (the caller adds host interfaces).
    pub(crate) fn pool_builder(&self, name: &str) -> PoolBuilder {
        SandboxPool::builder()
            .source(&self.plugin)
            .name(name)
            .security_policy(self.policy.clone())
            .max_instances(self.max_instances)
            .preload_instances(self.preload_instances)
            .checkout_timeout(self.checkout_timeout)
            .cpu_timeout(self.cpu_timeout)
            .memory_limit(self.memory_limit)
            .fresh_instance_per_call(self.fresh_instance_per_call)
    }
    // ANCHOR_END: pool
}

/// Everything the service runs: a route per example plugin, the word the
/// text filter refuses, and the largest request body.
///
/// Start from [`ServiceConfig::default`] and change fields:
///
/// ```
/// use std::time::Duration;
///
/// let mut config = web_service_example::ServiceConfig::default();
/// config.hog.cpu_timeout = Duration::from_millis(100);
/// config.hog.max_instances = 2;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// `POST /greet`: the `greeter` plugin.
    pub greeter: RouteConfig,
    /// `POST /filter`: the `text-filter` plugin, which reads the host's
    /// key-value store.
    pub text_filter: RouteConfig,
    /// `POST /hog/{action}`: the hostile `hog` plugin.
    pub hog: RouteConfig,
    /// The word the text filter refuses documents for (stored under
    /// `banned` in the key-value store the plugin reads), if any.
    pub banned_word: Option<String>,
    /// The largest request body accepted, in bytes; a larger one is
    /// answered `413 Payload Too Large`.
    pub max_body_bytes: usize,
}

// ANCHOR: config
impl Default for ServiceConfig {
    /// The example plugins, each under its own policy and limits.
    fn default() -> ServiceConfig {
        ServiceConfig {
            // Nothing granted: the greeter only computes.
            greeter: RouteConfig::new(example_plugins::GREETER),
            // The text filter may use the host's key-value store, and
            // starts afresh for every request.
            text_filter: RouteConfig {
                policy: SecurityPolicy::strict()
                    .allow(Capability::Custom(KeyValueHost::CAPABILITY.to_string())),
                fresh_instance_per_call: true,
                ..RouteConfig::new(example_plugins::TEXT_FILTER)
            },
            // The hog gets the tightest policy and a short leash: 4
            // instances on 1 thread, 500 ms per call, 16 MiB, 3 s per
            // request.
            hog: RouteConfig {
                policy: SecurityPolicy::paranoid(),
                max_instances: 4,
                threads: 1,
                checkout_timeout: Duration::from_secs(1),
                cpu_timeout: Duration::from_millis(500),
                memory_limit: 16 * 1024 * 1024,
                request_timeout: Duration::from_secs(3),
                ..RouteConfig::new(example_plugins::HOG)
            },
            banned_word: Some("password".to_string()),
            max_body_bytes: 64 * 1024,
        }
    }
}
// ANCHOR_END: config
