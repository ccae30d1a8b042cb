//! What each plugin instance owns: its wasmtime `Store` and the host state in
//! it.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::audit::AuditSink;
use crate::error::Denied;
use crate::guard::fs::state::FsState;
use crate::guard::http::HttpState;
use crate::guard::net::state::NetState;
use crate::limits::{Effective, Limiter};
use crate::policy::{Compiled, ViolationAction};
use crate::profile::Profiler;

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
    /// On the synchronous call path: the coarse-clock tick (see
    /// `deadline::ticks`) at which the current call's deadline has passed;
    /// the epoch callback traps from then on.
    pub(crate) call_deadline: u64,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("plugin", &self.plugin)
            .finish_non_exhaustive()
    }
}

/// What a [`HostState`] is made of, for [`HostState::new`].
pub(crate) struct HostParts<'a> {
    pub(crate) wasi: WasiCtx,
    pub(crate) plugin: Arc<str>,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) policy: Arc<Compiled>,
    pub(crate) audit: Arc<AuditSink>,
    pub(crate) fs: FsState,
    pub(crate) net: Arc<NetState>,
    pub(crate) http: HttpState,
    pub(crate) environment: Vec<(String, String)>,
    pub(crate) limits: &'a Effective,
    pub(crate) profile: Option<Arc<Profiler>>,
}

impl HostState {
    /// The state of a new instance, before its first call.
    pub(crate) fn new(parts: HostParts<'_>) -> HostState {
        HostState {
            wasi: parts.wasi,
            table: ResourceTable::new(),
            plugin: parts.plugin,
            config: parts.config,
            policy: parts.policy,
            audit: parts.audit,
            fs: parts.fs,
            net: parts.net,
            http: parts.http,
            environment: parts.environment,
            limiter: Limiter::new(parts.limits),
            host_calls: 0,
            log_budget: parts.limits.log_output,
            log_limit: parts.limits.log_output,
            profile: parts.profile,
            call_deadline: u64::MAX,
        }
    }

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
            // `call::classify` finds it by downcast.
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
