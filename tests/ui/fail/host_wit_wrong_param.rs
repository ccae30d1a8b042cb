use wasm_sandbox_guest::host_interface;

#[host_interface(wit = "../wit/store.wit")]
pub trait Kv {
    fn get(&self, key: u32) -> Option<String>;
    fn set(&self, key: String, value: String);
}

fn main() {}
