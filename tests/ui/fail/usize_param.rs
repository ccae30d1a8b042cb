use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Sizes {
    fn len(&self, text: String) -> usize;
}

fn main() {}
