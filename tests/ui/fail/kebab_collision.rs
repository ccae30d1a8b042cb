use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Items {
    fn get_item(&self, id: u32) -> String;
    #[allow(non_snake_case)]
    fn getItem(&self, id: u32) -> String;
}

fn main() {}
