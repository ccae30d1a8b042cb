use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Greeter {
    fn greet(name: String) -> String;
}

fn main() {}
