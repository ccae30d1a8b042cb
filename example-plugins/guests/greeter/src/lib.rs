//! The `greeter` example plugin: `example_interfaces::Greeter`, written with
//! the guest SDK.

// ANCHOR: plugin
use example_interfaces::Greeter;

#[derive(Default)]
struct Polite;

impl Greeter for Polite {
    fn greet(&self, name: String) -> String {
        format!("Hello, {name}!")
    }
}

wasm_sandbox_guest::export!(Polite: example_interfaces::Greeter);
// ANCHOR_END: plugin
