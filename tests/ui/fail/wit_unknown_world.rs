use wasm_sandbox_guest::sandbox_plugin;

// `filter.wit` has the world `filter`, not `filters`.
#[sandbox_plugin(wit = "../wit/filter.wit", world = "filters")]
pub trait Filter {
    fn name(&self) -> String;
}

fn main() {}
