use wasm_sandbox_guest::{PluginType, sandbox_plugin};

#[derive(PluginType)]
pub struct Document {
    pub title: String,
    pub lines: Vec<String>,
}

#[sandbox_plugin(wit = "../wit/filter.wit", world = "filter")]
pub trait Filter {
    fn name(&self) -> String;
    fn filter(&self, doc: Document, limit: u32) -> Result<Document, String>;
    fn version(&self) -> String;
}

fn main() {}
