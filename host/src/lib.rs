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
//! network and no inherited stdio; its stderr becomes `tracing` events.
//!
//! **Errors** are one enum, [`Error`]. Loading a core module, a damaged file
//! or a plugin with imports the host does not provide, calling a missing
//! export, using the wrong types, and guest traps each have their own variant
//! with a message that says what to do. A trap never takes the host down: the
//! instance is replaced before its next use.
//!
//! Programs without an async runtime use
//! [`SandboxBuilder::build_blocking`] and [`BlockingSandbox`].

mod blocking;
mod engine;
mod error;
mod exports;
mod loader;
mod sandbox;
mod stdio;
mod store;
mod values;

pub use crate::blocking::BlockingSandbox;
pub use crate::engine::{Engine, EngineConfig};
pub use crate::error::{BoxError, Error, Result, TrapCode};
pub use crate::exports::ExportFunction;
pub use crate::sandbox::{SandboxBuilder, WasmSandbox};

/// The wasmtime release this crate is built on, re-exported so that
/// applications name the same types (`wasmtime::component::Val`, the
/// `ComponentType`/`Lift`/`Lower` derives) without a version mismatch.
pub use wasmtime;

/// Component-model values and types used in this crate's API.
pub mod component {
    pub use wasmtime::component::types::Type;
    pub use wasmtime::component::{ComponentType, Lift, Lower, Val};
}
