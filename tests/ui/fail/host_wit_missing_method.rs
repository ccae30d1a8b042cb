use wasm_sandbox_guest::host_interface;

// The trait leaves out `set`, and declares `remove`, which the WIT lacks.
#[host_interface(wit = "../wit/store.wit", interface = "acme:store/kv")]
pub trait Kv {
    fn get(&self, key: String) -> Option<String>;
    fn remove(&self, key: String);
}

fn main() {}
