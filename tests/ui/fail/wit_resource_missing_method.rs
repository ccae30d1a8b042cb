use wasm_sandbox_guest::{plugin_resource, sandbox_plugin};

#[plugin_resource]
pub trait Cursor {
    fn new(start: u32) -> Self;
    fn next(&self) -> u32;
    fn rewind(&self);
}

#[sandbox_plugin(wit = "../wit/objects.wit", world = "objects")]
pub trait Store {
    type Cursor: Cursor;
    fn open(&self) -> Self::Cursor;
    fn peek(&self, c: &Self::Cursor) -> u32;
}

fn main() {}
