use std::collections::HashMap;

use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Index {
    fn lookup(&self, table: HashMap<String, u32>) -> u32;
}

fn main() {}
