use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Buffer {
    fn fill(&self, ptr: *mut u8, len: u32);
}

fn main() {}
