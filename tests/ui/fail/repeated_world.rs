use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin(world = "greeter", world = "greeting")]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

fn main() {}
