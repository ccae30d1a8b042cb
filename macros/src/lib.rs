//! Procedural macros of [wasm-sandbox](https://docs.rs/wasm-sandbox).
//!
//! This crate is re-exported by `wasm-sandbox` (the host) and
//! `wasm-sandbox-guest` (the plugin SDK); depend on those, not on it.
//! `#[sandbox_plugin]` and `#[derive(PluginType)]` arrive here next; for now
//! the crate only reserves its place in the workspace.
