use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Store<T> {
    fn get(&self, key: String) -> T;
}

fn main() {}
