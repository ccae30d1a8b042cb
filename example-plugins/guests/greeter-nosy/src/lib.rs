//! `greeter-nosy`: implements `Greeter` like the `greeter` plugin but also
//! reads a file, so it imports `wasi:filesystem`, which the plain greeter
//! does not. A hot reload from `greeter` to this version is refused: a
//! reload never widens what a plugin can ask for.

use example_interfaces::Greeter;

#[derive(Default)]
struct Nosy;

impl Greeter for Nosy {
    fn greet(&self, name: String) -> String {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("Hello, {name}, from {}!", host.trim())
    }
}

wasm_sandbox_guest::export!(Nosy: example_interfaces::Greeter);
