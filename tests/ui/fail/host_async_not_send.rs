use std::rc::Rc;

use wasm_sandbox_guest::host_interface;

#[host_interface]
pub trait Directory {
    async fn lookup(&self, name: String) -> Option<String>;
}

struct Local;

// The sandbox runs host futures on a multi-threaded runtime, so an
// implementation may not hold a `!Send` value across an `.await`.
impl Directory for Local {
    async fn lookup(&self, name: String) -> Option<String> {
        let held = Rc::new(name);
        std::future::ready(()).await;
        Some(held.to_string())
    }
}

fn main() {}
