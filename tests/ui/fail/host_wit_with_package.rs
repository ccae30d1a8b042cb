use wasm_sandbox_guest::host_interface;

#[host_interface(wit = "../wit/store.wit", package = "acme:other@1.0.0")]
pub trait Kv {
    fn get(&self, key: String) -> Option<String>;
    fn set(&self, key: String, value: String);
}

fn main() {}
