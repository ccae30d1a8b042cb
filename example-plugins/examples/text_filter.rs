//! Run with: `cargo run --example text_filter`
//!
//! Drives the `text-filter` plugin through the typed proxy that
//! `#[sandbox_plugin]` generated for `example_interfaces::TextFilter`, and
//! offers it the host's `KeyValue` store.

use std::collections::BTreeMap;
use std::sync::Mutex;

// ANCHOR: host_impl
use example_interfaces::{
    CaseMode, Document, FilterOptions, KeyValue, KeyValueHost, TextFilterPlugin,
};
use wasm_sandbox::{Capability, SecurityPolicy, WasmSandbox};

/// The host's implementation of the `KeyValue` host interface.
#[derive(Default)]
struct MemoryStore {
    entries: Mutex<BTreeMap<String, String>>,
}

impl KeyValue for MemoryStore {
    fn get(&self, key: String) -> Option<String> {
        self.entries.lock().unwrap().get(&key).cloned()
    }

    fn set(&self, key: String, value: String) {
        self.entries.lock().unwrap().insert(key, value);
    }

    fn keys(&self, prefix: &str) -> Vec<String> {
        let entries = self.entries.lock().unwrap();
        entries
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }
}
// ANCHOR_END: host_impl

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    // ANCHOR: register
    let store = MemoryStore::default();
    store.set("banned".to_string(), "password".to_string());

    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TEXT_FILTER)
        // Offer the store to plugins, and let this one use it.
        .host_interface(KeyValueHost::new(store))
        .security_policy(
            SecurityPolicy::strict().allow(Capability::Custom(KeyValueHost::CAPABILITY.into())),
        )
        .config("name", "tidy")
        .build()
        .await?;
    // ANCHOR_END: register

    // ANCHOR: proxy
    // `load` checks that the plugin exports every function of the trait with
    // the right types; after that, calls are plain async methods.
    let filter = TextFilterPlugin::load(&sandbox)?;
    println!("filter name: {}", filter.name().await?);

    let doc = Document {
        title: "Meeting notes".to_string(),
        lines: vec!["  Agenda".to_string(), String::new(), "Budget".to_string()],
        tags: None,
    };
    let opts = FilterOptions {
        max_lines: 10,
        drop_empty: true,
        case: CaseMode::Upper,
    };
    // The outer `?` is the host's error (a trap, a limit); the inner
    // `Result` is the plugin's own answer.
    match filter.filter(doc, opts.clone()).await? {
        Ok(clean) => println!("filtered: {:?}", clean.lines),
        Err(refused) => println!("refused: {refused:?}"),
    }
    // ANCHOR_END: proxy

    let leaky = Document {
        title: "Credentials".to_string(),
        lines: vec!["the password is hunter2".to_string()],
        tags: Some(vec!["secret".to_string()]),
    };
    match filter.filter(leaky, opts).await? {
        Ok(clean) => println!("filtered: {:?}", clean.lines),
        Err(refused) => println!("refused: {refused:?}"),
    }
    println!("stats: {:?}", filter.stats().await?);
    Ok(())
}
