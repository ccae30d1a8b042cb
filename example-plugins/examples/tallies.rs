//! Run with: `cargo run --example tallies`
//!
//! Plugin objects: the `tally` plugin hands out word tallies, each an
//! object that lives in the plugin between calls. The host holds typed
//! handles on them, one per document here.

use std::collections::HashMap;

use example_interfaces::{TalliesPlugin, TallyHandle};
use wasm_sandbox::{Error, WasmSandbox};

#[tokio::main]
async fn main() -> wasm_sandbox::Result<()> {
    // ANCHOR: use
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TALLY)
        .build()
        .await?;
    let tallies = TalliesPlugin::load(&sandbox)?;

    // One object per document, kept by the host between calls.
    let mut per_document: HashMap<&str, TallyHandle<'_, &WasmSandbox>> = HashMap::new();
    for (document, line) in [
        ("notes.txt", "buy milk"),
        ("draft.md", "the quick brown fox"),
        ("notes.txt", "call Ada back"),
    ] {
        let tally = match per_document.remove(document) {
            Some(tally) => tally,
            None => tallies.open().await?,
        };
        let total = tally.add(line).await?;
        println!("{document}: {total} words");
        per_document.insert(document, tally);
    }

    // Objects are passed back to the plugin by reference (lent) ...
    let notes = &per_document["notes.txt"];
    let draft = &per_document["draft.md"];
    println!("both documents: {} words", tallies.sum(notes, draft).await?);

    // ... and released with `close` (or by dropping the handle).
    let draft = per_document.remove("draft.md").expect("opened above");
    draft.close().await?;
    println!("tallies alive in the plugin: {}", tallies.live().await?);
    // ANCHOR_END: use

    // ANCHOR: expired
    // A trap discards the instance, and every object in it.
    let _ = tallies.crash().await;
    let notes = &per_document["notes.txt"];
    match notes.total().await {
        Err(Error::ResourceExpired { resource, why }) => {
            println!("the `{resource}` is gone ({why}); starting over");
        }
        other => println!("unexpected: {other:?}"),
    }
    let fresh = tallies.open().await?;
    println!("a new tally starts at {}", fresh.total().await?);
    // ANCHOR_END: expired
    Ok(())
}
