//! [`WasmSandbox`]: one plugin with one instance, called with typed values.

use std::ops::Deref;

use crate::error::Result;
use crate::plugin::Plugin;

/// One plugin, compiled and linked once, with a live instance to call.
///
/// Methods take `&self`: a sandbox can be shared (for example in an `Arc`)
/// and calls from several tasks are serialised, because one instance runs one
/// call at a time. For concurrent calls use a [`SandboxPool`](crate::SandboxPool).
///
/// A sandbox dereferences to its [`Plugin`], which has the methods to call
/// it and to look at it.
///
/// **State.** The instance keeps its state (its linear memory, globals) from
/// one call to the next, until [`reset`](Self::reset) or a failed call. After
/// a trap, or when a call's future is dropped before it finished, the
/// instance is discarded and the next call runs on a fresh one, created from
/// the already-linked component (no recompilation);
/// [`instances_created`](Plugin::instances_created) counts them. With
/// [`fresh_instance_per_call`](crate::SandboxBuilder::fresh_instance_per_call)
/// every call gets a new instance and no state survives a call.
///
/// **Capabilities.** The plugin runs with nothing granted: no files, no
/// environment variables, no network, stdin closed and stdout discarded; what
/// it writes to stderr becomes `tracing` events (target
/// `wasm_sandbox::guest`). Clocks and random numbers are available.
pub struct WasmSandbox {
    plugin: Plugin,
}

impl std::fmt::Debug for WasmSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmSandbox")
            .field("name", &self.plugin.name())
            .field("exports", &self.plugin.list_exports().len())
            .field("instances_created", &self.plugin.instances_created())
            .finish_non_exhaustive()
    }
}

/// A sandbox is its plugin with one instance: every method of [`Plugin`]
/// (`call`, `call_dynamic`, `list_exports`, `audit_log`, ...) is a method
/// of the sandbox.
impl Deref for WasmSandbox {
    type Target = Plugin;

    #[inline]
    fn deref(&self) -> &Plugin {
        &self.plugin
    }
}

impl WasmSandbox {
    pub(crate) fn from_plugin(plugin: Plugin) -> WasmSandbox {
        WasmSandbox { plugin }
    }

    /// Throws the current instance away and starts a fresh one: the plugin's
    /// state is back to what it was right after loading. The component is
    /// not compiled or linked again.
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`](crate::Error::Instantiate) if the new instance
    /// cannot be started; the next call tries again.
    pub async fn reset(&self) -> Result<()> {
        self.plugin.reset().await
    }
}
