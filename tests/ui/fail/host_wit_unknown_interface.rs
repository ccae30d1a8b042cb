use wasm_sandbox_guest::host_interface;

// `store.wit` has the interface `kv`, not `cache`.
#[host_interface(wit = "../wit/store.wit", interface = "cache")]
pub trait Kv {
    fn get(&self, key: String) -> Option<String>;
}

fn main() {}
