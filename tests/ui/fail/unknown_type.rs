use wasm_sandbox_guest::sandbox_plugin;

// `Document` exists but is not a PluginType.
pub struct Document {
    pub title: String,
}

#[sandbox_plugin]
pub trait Filter {
    fn filter(&self, doc: Document) -> Document;
}

fn main() {}
