use wasm_sandbox_guest::{host_interface, sandbox_plugin};

#[host_interface]
pub trait Clock {
    fn now(&self) -> u64;
}

#[host_interface]
pub trait Random {
    fn next(&self) -> u64;
}

#[sandbox_plugin(imports(Clock), imports(Random))]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

fn main() {}
