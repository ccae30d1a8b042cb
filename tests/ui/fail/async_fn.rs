use wasm_sandbox_guest::sandbox_plugin;

#[sandbox_plugin]
pub trait Fetcher {
    async fn fetch(&self, url: String) -> String;
}

fn main() {}
