use wasm_sandbox_guest::host_interface;

#[host_interface(interface = "kv")]
pub trait Kv {
    fn get(&self, key: String) -> Option<String>;
}

fn main() {}
