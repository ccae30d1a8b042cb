use wasm_sandbox_guest::{PluginType, sandbox_plugin};

// The WIT calls this record `document`.
#[derive(PluginType)]
pub struct Page {
    pub title: String,
    pub lines: Vec<String>,
}

#[sandbox_plugin(wit = "../wit/filter.wit", world = "filter")]
pub trait Filter {
    fn name(&self) -> String;
    fn filter(&self, doc: Page, limit: u32) -> Result<Page, String>;
}

fn main() {}
