use wasm_sandbox_guest::{PluginType, sandbox_plugin};

// The WIT's `document` has `lines: list<string>`.
#[derive(PluginType)]
pub struct Document {
    pub title: String,
    pub lines: Vec<u32>,
}

#[sandbox_plugin(wit = "../wit/filter.wit", world = "filter")]
pub trait Filter {
    fn name(&self) -> String;
    fn filter(&self, doc: Document, limit: u32) -> Result<Document, String>;
}

fn main() {}
