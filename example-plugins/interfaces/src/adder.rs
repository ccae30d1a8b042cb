//! `Adder`: a trait for the component model book's first component, world
//! `adder` of `docs:adder@0.1.0`, bound to its WIT as published
//! (`wit/third-party/adder/world.wit`). The `adder` example plugin
//! implements that WIT with plain `wit-bindgen`; the book's walkthrough and
//! `tests/e2e/walkthrough.rs` drive it through the proxy generated here.

use wasm_sandbox_guest::sandbox_plugin;

// ANCHOR: adder
/// The `adder` world of `docs:adder@0.1.0`: one exported interface, `add`,
/// with one function, also called `add`.
#[sandbox_plugin(wit = "../../wit/third-party/adder", world = "adder")]
pub trait Adder {
    /// `add.add: func(x: u32, y: u32) -> u32`
    fn add(&self, x: u32, y: u32) -> u32;
}
// ANCHOR_END: adder
