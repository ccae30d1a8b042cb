//! `greeter-v2`: a second version of the `greeter` plugin, for the hot
//! reload tests and the Hot reload chapter: the same interface, a new text.

use example_interfaces::Greeter;

#[derive(Default)]
struct Friendly;

impl Greeter for Friendly {
    fn greet(&self, name: String) -> String {
        format!("Howdy, {name}!")
    }
}

wasm_sandbox_guest::export!(Friendly: example_interfaces::Greeter);
