use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin(package = "acme:a@1.0.0", world = "greeter", package = "acme:b@1.0.0")]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

fn main() {}
