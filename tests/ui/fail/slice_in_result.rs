use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Bytes {
    fn head(&self, data: Vec<u8>) -> &[u8];
}

fn main() {}
