//! The `adder` example plugin: world `adder` of `docs:adder@0.1.0`, the
//! component model book's first component, read from its published WIT in
//! `wit/third-party/adder/`. Plain `wit-bindgen`, no wasm-sandbox SDK: what
//! a newcomer from that book builds runs here unchanged.
//!
//! Build it on its own with
//! `cargo build --target wasm32-wasip2 --release -p adder`
//! from `example-plugins/guests/`.

// ANCHOR: guest
// Generates the `Guest` trait of the exported `add` interface, in the
// module `exports::docs::adder::add`, and the `export!` macro.
wit_bindgen::generate!({
    path: "../../../wit/third-party/adder",
    world: "adder",
});

use exports::docs::adder::add::Guest;

/// The component: a type that implements each exported interface.
struct Adder;

impl Guest for Adder {
    fn add(x: u32, y: u32) -> u32 {
        // Wrapping add: the WIT result is a plain `u32`, with no way to
        // report an overflow, so the sum wraps around modulo 2^32
        // (`u32::MAX + 1 == 0`) in every build profile. `x + y` would panic
        // on overflow in a debug build, and a panic traps the instance.
        x.wrapping_add(y)
    }
}

export!(Adder);
// ANCHOR_END: guest
