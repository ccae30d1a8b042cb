use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Parser {
    type Output;
    fn parse(&self, text: String) -> String;
}

fn main() {}
