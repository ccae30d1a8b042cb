use wasm_sandbox_guest::{plugin_resource, sandbox_plugin};

#[plugin_resource]
pub trait Counter {
    fn value(&self) -> u64;
}

#[sandbox_plugin]
pub trait Counters {
    type Counter: Counter;
    fn open_many(&self, n: u32) -> Vec<Self::Counter>;
}

fn main() {}
