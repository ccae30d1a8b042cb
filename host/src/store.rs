//! What each plugin instance owns: its wasmtime `Store` and the host state in
//! it.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::audit::AuditSink;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::guard_fs::FsState;
use crate::guard_http::HttpState;
use crate::guard_net::NetState;
use crate::host_iface::Denied;
use crate::limits::{Effective, Limit, LimitHit, Limiter};
use crate::policy::{Compiled, ViolationAction};
use crate::profile::Profiler;
use crate::stdio::GuestStderr;

/// The data of a plugin's `Store`.
///
/// The WASI context holds only what the policy grants: preopens for granted
/// paths (and an empty decoy at `/`), granted environment variables,
/// sockets whose every address is checked. No arguments, stdin closed,
/// stdout discarded; stderr is captured into `tracing` (see [`GuestStderr`]).
/// Clocks and random numbers are available, as in every WASI host.
#[doc(hidden)]
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    plugin: Arc<str>,
    config: Arc<BTreeMap<String, String>>,
    pub(crate) policy: Arc<Compiled>,
    pub(crate) audit: Arc<AuditSink>,
    pub(crate) fs: FsState,
    pub(crate) net: Arc<NetState>,
    http: HttpState,
    /// The variables the plugin can see through WASI.
    pub(crate) environment: Vec<(String, String)>,
    pub(crate) limiter: Limiter,
    /// Calls from the plugin into host functions (WASI, `sandbox:host`,
    /// host interfaces) during the current call.
    pub(crate) host_calls: u64,
    /// Bytes of log output the current call may still write.
    pub(crate) log_budget: usize,
    pub(crate) log_limit: usize,
    /// The sandbox's profiler, when profiling is on.
    pub(crate) profile: Option<Arc<Profiler>>,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("plugin", &self.plugin)
            .finish_non_exhaustive()
    }
}

impl HostState {
    /// The plugin's name, for logs.
    pub(crate) fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Counts one call from the plugin into the host function of
    /// `interface`.
    #[inline]
    pub(crate) fn count_host_call(&mut self, interface: &str) {
        self.host_calls += 1;
        if let Some(profile) = &self.profile {
            profile.count_host_call(interface);
        }
    }

    /// The resource table and the HTTP state, borrowed together.
    pub(crate) fn table_and_http(&mut self) -> (&mut ResourceTable, &mut HttpState) {
        (&mut self.table, &mut self.http)
    }

    /// Called by a guard right after it audited a refusal (`capability` as
    /// the grant that would allow it, e.g. `Capability::FileRead`; `target`
    /// the real object; `rule` the rule that refused it). Under
    /// `ViolationAction::Deny` (the default) this returns `Ok` and the guard
    /// hands the plugin its WASI error; under `ViolationAction::AbortCall` it
    /// returns the error that ends the call with `Error::SecurityViolation`.
    pub(crate) fn refused(
        &self,
        capability: &str,
        target: &str,
        rule: &str,
    ) -> wasmtime::Result<()> {
        match self.policy.source.violation_action() {
            ViolationAction::Deny => Ok(()),
            // The host function returns this error, which traps the plugin;
            // `Error::from_call` finds it by downcast.
            ViolationAction::AbortCall => Err(wasmtime::Error::new(Denied {
                capability: capability.to_string(),
                target: target.to_string(),
                rule: rule.to_string(),
            })),
        }
    }

    /// The configuration the host gave the plugin.
    pub(crate) fn config(&self) -> &BTreeMap<String, String> {
        &self.config
    }
}

impl WasiView for HostState {
    /// wasmtime-wasi projects the host state through here once for every WASI
    /// function the plugin calls, which makes it the place to count them.
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.count_host_call("wasi");
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// An instantiation failure, with limit hits named as such.
fn instantiate_error(err: wasmtime::Error, limits: &Effective) -> Error {
    if let Some(hit) = err.downcast_ref::<LimitHit>() {
        return Error::ResourceLimitExceeded(hit.0.clone());
    }
    let text = format!("{err:#}");
    if text.contains("resource limit exceeded") && text.contains("count too high") {
        return Error::ResourceLimitExceeded(Limit::Instances {
            allowed: limits.instances,
        });
    }
    Error::instantiate(err)
}

/// What every instance of a sandbox is made from.
#[derive(Clone)]
pub(crate) struct InstanceSetup {
    pub(crate) engine: Engine,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) plugin: Arc<str>,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) policy: Arc<Compiled>,
    pub(crate) audit: Arc<AuditSink>,
    pub(crate) limits: Effective,
    pub(crate) profile: Option<Arc<Profiler>>,
    /// Whether the plugin imports `wasi:filesystem/preopens`; without it,
    /// preopened directories could never be reached, so none are opened.
    pub(crate) uses_preopens: bool,
}

/// A live instance of the plugin.
pub(crate) struct Live {
    pub(crate) store: Store<HostState>,
    pub(crate) instance: Instance,
    /// The instance's exported functions, by export position, looked up on
    /// first use.
    pub(crate) funcs: Vec<Option<wasmtime::component::Func>>,
    pub(crate) stderr: GuestStderr,
    /// Set while a call runs and left set when it fails or is cancelled: the
    /// instance must not be entered again.
    pub(crate) poisoned: bool,
    /// When the current call started, if it is being profiled.
    pub(crate) call_started: Option<std::time::Instant>,
}

impl Live {
    /// Creates a fresh instance from the pre-linked component, recording its
    /// privileged operations in `audit` (the sandbox's sink, or one sharing
    /// its log for an instance of a pool).
    pub(crate) async fn new(setup: &InstanceSetup, audit: Arc<AuditSink>) -> Result<Live> {
        let stderr = GuestStderr::new(setup.plugin.clone(), setup.limits.log_output);
        let mut builder = WasiCtx::builder();
        builder.stderr(stderr.clone());
        let fs = if setup.uses_preopens {
            FsState::setup(&setup.policy, &mut builder)
        } else {
            FsState::default()
        };
        let net = NetState::setup(&setup.policy, &audit, &mut builder);
        // Learn mode keeps the WASI environment empty, as it will be under
        // the learned policy (see `SecurityPolicy::observe`).
        let environment = if setup.policy.source.is_observing() || !setup.policy.can_read_env() {
            Vec::new()
        } else {
            setup.policy.environment(std::env::vars())
        };
        builder.envs(&environment);
        let wasi = builder.build();
        let http = HttpState::new(setup.policy.clone(), audit.clone(), setup.limits.http);
        let mut store = Store::new(
            setup.engine.wasmtime(),
            HostState {
                wasi,
                table: ResourceTable::new(),
                plugin: setup.plugin.clone(),
                config: setup.config.clone(),
                policy: setup.policy.clone(),
                audit,
                fs,
                net,
                http,
                environment,
                limiter: Limiter::new(&setup.limits),
                host_calls: 0,
                log_budget: setup.limits.log_output,
                log_limit: setup.limits.log_output,
                profile: setup.profile.clone(),
            },
        );
        store.limiter(|state| &mut state.limiter);
        match setup.engine.config().get_interruption() {
            crate::engine::Interruption::Fuel => {
                // Fuel drives the pauses that let the deadline fire; a
                // budget, if any, is set per call.
                let _ = store.set_fuel(u64::MAX);
                let _ = store
                    .fuel_async_yield_interval(Some(setup.engine.config().get_yield_interval()));
            }
            crate::engine::Interruption::Epoch => {
                store.set_epoch_deadline(1);
                if setup.profile.as_ref().is_some_and(|p| p.samples()) {
                    // Each tick: one stack sample, then the usual pause.
                    store.epoch_deadline_callback(|cx| {
                        if let Some(profile) = cx.data().profile.clone() {
                            profile.sample(&cx);
                        }
                        Ok(wasmtime::UpdateDeadline::Yield(1))
                    });
                } else {
                    store.epoch_deadline_callback(|_| Ok(wasmtime::UpdateDeadline::Yield(1)));
                }
            }
        }
        let instance = setup
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| instantiate_error(e, &setup.limits))?;
        Ok(Live {
            store,
            instance,
            funcs: Vec::new(),
            stderr,
            poisoned: false,
            call_started: None,
        })
    }
}
