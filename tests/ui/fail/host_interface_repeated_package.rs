use wasm_sandbox_guest::host_interface;

#[host_interface(package = "acme:store@1.0.0", package = "acme:store@1.0.0")]
pub trait KeyValue {
    fn get(&self, key: String) -> Option<String>;
}

fn main() {}
