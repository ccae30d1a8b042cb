use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

#[derive(Default)]
struct Polite;

impl Greeter for Polite {
    fn greet(&self, name: String) -> String {
        name
    }
}

wasm_sandbox_guest::export!(Polite: Greeter);

fn main() {}
