//! Run untrusted plugins as WebAssembly components, and call them with typed
//! values.
//!
//! A plugin is a [component](https://component-model.bytecodealliance.org/)
//! (for Rust: `cargo build --target wasm32-wasip2`). The host loads it into a
//! [`WasmSandbox`], which compiles and links it once and keeps a live
//! instance to call:
//!
//! ```no_run
//! use wasm_sandbox::WasmSandbox;
//!
//! # async fn run() -> wasm_sandbox::Result<()> {
//! let sandbox = WasmSandbox::builder()
//!     .source("plugins/greeter.wasm")
//!     .build()
//!     .await?;
//!
//! // Arguments are a tuple; the result is the function's WIT result type.
//! let greeting: String = sandbox.call("greet", ("world",)).await?;
//! assert_eq!(greeting, "Hello, world!");
//! # Ok(()) }
//! ```
//!
//! Values cross the boundary in the component model's canonical ABI: strings,
//! lists, records and variants are copied into and out of the plugin's
//! memory, never encoded as JSON or any other text.
//!
//! **Deny by default.** A plugin starts with no files, no environment, no
//! network and no inherited stdio; its stderr becomes `tracing` events. A
//! [`SecurityPolicy`] grants [`Capability`]s, and every privileged operation,
//! allowed or denied, leaves an [`AuditEvent`].
//!
//! **Errors** are one enum, [`Error`]. Loading a core module, a damaged file
//! or a plugin with imports the host does not provide, calling a missing
//! export, using the wrong types, and guest traps each have their own variant
//! with a message that says what to do. A trap never takes the host down: the
//! instance is replaced before its next use.
//!
//! Programs without an async runtime use
//! [`SandboxBuilder::build_blocking`] and [`BlockingSandbox`].

mod audit;
mod blocking;
mod builder;
mod cache;
mod deadline;
mod engine;
mod error;
mod guard;
mod inspect;
mod limits;
mod plugin;
mod policy;
mod pool;
mod profile;
mod proxy;
mod read;
mod reload;
mod sandbox;
mod stack;
mod versions;

pub use crate::audit::{AuditEvent, AuditLog, CallAudit, CapabilityKind, Decision, learn_policy};
pub use crate::blocking::BlockingSandbox;
pub use crate::builder::SandboxBuilder;
pub use crate::builder::loader::{MAX_NESTED_ITEMS, MAX_NESTING_DEPTH, MAX_TYPE_NESTING};
pub use crate::cache::CacheOutcome;
pub use crate::engine::{Engine, EngineConfig, Interruption, OptimizationLevel, PoolingConfig};
pub use crate::error::Limit;
pub use crate::error::{BoxError, Error, Result, TrapCode};
pub use crate::guard::host::HostInterface;
pub use crate::inspect::outline::{ComponentOutline, ExportOutline};
pub use crate::inspect::{ComponentImport, ComponentInfo};
pub use crate::limits::{CallReport, LogLevel, LogLine, LogSource, ResourceLimits};
pub use crate::plugin::Plugin;
pub use crate::plugin::command::{CommandOutput, CommandRun, CommandStatus};
pub use crate::plugin::exports::ExportFunction;
pub use crate::plugin::resources::PluginResource;
pub use crate::policy::{
    Capability, ImportCheck, PolicyDiff, PortRange, SecurityPolicy, ViolationAction,
};
pub use crate::pool::{PoolBuilder, PoolMetrics, SandboxPool};
pub use crate::profile::{ExportCalls, ProfileConfig, ProfileReport};
pub use crate::proxy::{PluginHost, PluginType};
pub use crate::reload::{ReloadReport, ReloadWatcher, ReloadablePool};
pub use crate::sandbox::WasmSandbox;
pub use crate::versions::ServedVersions;

/// Compiles a component (binary or text format) for `engine` and returns a
/// precompiled artifact that [`SandboxBuilder::precompiled`] loads without
/// compiling, on an engine with the same settings.
/// [`SandboxBuilder::precompile`] does the same with the engine a builder
/// would use.
///
/// # Errors
///
/// [`Error::InvalidBinary`], [`Error::NotAComponent`] or [`Error::Compile`],
/// as when loading the plugin.
pub fn precompile(engine: &Engine, wasm: &[u8]) -> Result<Vec<u8>> {
    builder::loader::precompile_source(
        |uses| {
            if !uses.is_empty() && !engine.config().get_concurrency_support() {
                return Err(Error::ComponentModelAsync {
                    uses: uses.to_vec(),
                    remedy: "precompile it with an engine made with \
                             `EngineConfig::concurrency_support(true)`"
                        .to_string(),
                });
            }
            Ok(engine.clone())
        },
        &builder::loader::Source::Bytes(std::sync::Arc::from(wasm)),
        &crate::read::InputLimits::default(),
    )
}

/// Maps a struct or enum to a WIT record, enum or variant; see the guide's
/// "Types: Rust and WIT" chapter.
pub use wasm_sandbox_macros::PluginType;
/// Declares functions the host offers plugins; see the guide's "Host
/// interfaces" chapter.
pub use wasm_sandbox_macros::host_interface;
/// Declares what a plugin object (a resource the plugin exports) can do;
/// see the guide's "Resources: objects in plugins" chapter.
pub use wasm_sandbox_macros::plugin_resource;
/// Declares a plugin interface; see the guide's "Declaring a plugin
/// interface" chapter.
pub use wasm_sandbox_macros::sandbox_plugin;

/// The wasmtime release this crate is built on, re-exported so that
/// applications name the same types (`wasmtime::component::Val`, the
/// `ComponentType`/`Lift`/`Lower` derives) without a version mismatch.
pub use wasmtime;

/// What code generated by this crate's macros uses. Not part of the public
/// API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::host::{host_call, host_call_async, host_catch};
    pub use crate::guard::store::HostState;
    pub use crate::plugin::exports::Exports;
    pub use crate::plugin::resources::{Lent, Origin, Pin};
    pub use crate::proxy::{ExportHandle, ExportsRef, InterfaceCheck};
    pub use crate::versions::{__none_served as none_served, version_of};
    pub use wasmtime;
    pub use wasmtime::component::ResourceAny;

    /// The linker host interfaces register into.
    pub type Linker = wasmtime::component::Linker<HostState>;
    /// The store context host functions receive.
    pub type StoreContextMut<'a> = wasmtime::StoreContextMut<'a, HostState>;
}

/// Component-model values and types used in this crate's API.
pub mod component {
    pub use wasmtime::component::types::Type;
    pub use wasmtime::component::{ComponentType, Lift, Lower, Val};
}
