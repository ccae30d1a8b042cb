use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Counters {
    fn open(&self) -> Self::Counter;
}

fn main() {}
