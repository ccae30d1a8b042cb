//! What each plugin instance owns: its wasmtime `Store` and the host state in
//! it.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::stdio::GuestStderr;

/// The data of a plugin's `Store`.
///
/// The WASI context is empty: no files, no environment variables, no
/// arguments, no sockets or name lookups, stdin closed, stdout discarded.
/// Stderr is captured into `tracing` (see [`GuestStderr`]). Clocks and random
/// numbers are available, as in every WASI host.
#[doc(hidden)]
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    plugin: Arc<str>,
    config: Arc<BTreeMap<String, String>>,
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

    /// The configuration the host gave the plugin.
    pub(crate) fn config(&self) -> &BTreeMap<String, String> {
        &self.config
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A live instance of the plugin.
pub(crate) struct Live {
    pub(crate) store: Store<HostState>,
    pub(crate) instance: Instance,
    pub(crate) stderr: GuestStderr,
    /// Set while a call runs and left set when it fails or is cancelled: the
    /// instance must not be entered again.
    pub(crate) poisoned: bool,
}

impl Live {
    /// Creates a fresh instance from the pre-linked component.
    pub(crate) async fn new(
        engine: &Engine,
        pre: &InstancePre<HostState>,
        plugin: &Arc<str>,
        config: &Arc<BTreeMap<String, String>>,
    ) -> Result<Live> {
        let stderr = GuestStderr::new(plugin.clone());
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let mut store = Store::new(
            engine.wasmtime(),
            HostState {
                wasi,
                table: ResourceTable::new(),
                plugin: plugin.clone(),
                config: config.clone(),
            },
        );
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(Error::instantiate)?;
        Ok(Live {
            store,
            instance,
            stderr,
            poisoned: false,
        })
    }
}
