use wasm_sandbox_guest::{plugin_resource, sandbox_plugin};

#[plugin_resource]
pub trait Connection {
    fn send(&self, bytes: Vec<u8>);
    fn close(&self);
}

#[sandbox_plugin]
pub trait Network {
    type Connection: Connection;
    fn connect(&self, host: String) -> Self::Connection;
}

fn main() {}
