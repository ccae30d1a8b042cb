use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin(wit = "../wit/broken", world = "painter")]
pub trait Painter {
    fn name(&self) -> String;
}

fn main() {}
