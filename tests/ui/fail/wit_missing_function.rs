use wasm_sandbox_guest::{PluginType, sandbox_plugin};

#[derive(PluginType)]
pub struct Document {
    pub title: String,
    pub lines: Vec<String>,
}

// The WIT also exports `name`, which this trait forgets.
#[sandbox_plugin(wit = "../wit/filter.wit", world = "filter")]
pub trait Filter {
    fn filter(&self, doc: Document, limit: u32) -> Result<Document, String>;
}

fn main() {}
