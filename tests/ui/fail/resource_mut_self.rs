use wasm_sandbox_guest::{plugin_resource, sandbox_plugin};

#[plugin_resource]
pub trait Counter {
    fn bump(&mut self) -> u64;
}

#[sandbox_plugin]
pub trait Counters {
    type Counter: Counter;
    fn open(&self) -> Self::Counter;
}

fn main() {}
