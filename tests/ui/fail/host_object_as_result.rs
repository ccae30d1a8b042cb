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

#[sandbox_plugin(imports(Workspace))]
pub trait Reviewer {
    fn rewrite(&self, page: &dyn Page) -> Box<dyn Page>;
}

fn main() {}
