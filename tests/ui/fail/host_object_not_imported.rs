use wasm_sandbox_guest::{host_interface, plugin_resource, sandbox_plugin};

#[plugin_resource]
pub trait Page {
    fn text(&self) -> String;
}

#[host_interface]
pub trait Workspace {
    type Page: Page;
    fn open(&self, path: String) -> Self::Page;
}

#[sandbox_plugin]
pub trait Reviewer {
    fn describe(&self, page: &dyn Page) -> String;
}

fn main() {}
