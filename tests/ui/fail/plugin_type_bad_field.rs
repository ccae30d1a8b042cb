use std::collections::HashMap;

use wasm_sandbox_guest::PluginType;

#[derive(PluginType)]
pub struct Config {
    pub name: String,
    pub limits: HashMap<String, u32>,
}

fn main() {}
