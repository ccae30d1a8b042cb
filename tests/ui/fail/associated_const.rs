use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Versioned {
    const VERSION: u32;
    fn name(&self) -> String;
}

fn main() {}
