use wasm_sandbox_guest::sandbox_plugin;

pub trait NotAResource {}

#[sandbox_plugin]
pub trait Sessions {
    type Session: NotAResource;
    fn open(&self) -> Self::Session;
}

fn main() {}
