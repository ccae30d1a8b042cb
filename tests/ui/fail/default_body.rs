use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Greeter {
    fn greet(&self, name: String) -> String {
        format!("Hello, {name}")
    }
}

fn main() {}
