use wasm_sandbox_guest::{host_interface, plugin_resource};

#[plugin_resource]
pub trait Page {
    fn text(&self) -> String;
}

#[host_interface]
pub trait Workspace {
    type Page: Page;
    async fn open(&self, path: String) -> Self::Page;
}

fn main() {}
