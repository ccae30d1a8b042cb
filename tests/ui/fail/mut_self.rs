use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Counter {
    fn bump(&mut self) -> u64;
}

fn main() {}
