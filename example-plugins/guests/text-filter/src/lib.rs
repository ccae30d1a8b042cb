//! The `text-filter` example plugin: implements `example_interfaces::TextFilter`
//! with instance state, logging, configuration and the host's `KeyValue`.

// ANCHOR: plugin
use std::cell::Cell;

use example_interfaces::{
    CaseMode, Document, FilterError, FilterOptions, FilterStats, KeyValue, KeyValueHost,
    TextFilter,
};
use wasm_sandbox_guest::{config, log};

/// State lives in the instance, so methods take `&self` and use `Cell`.
#[derive(Default)]
struct Cleaner {
    filtered: Cell<u64>,
    refused: Cell<u64>,
}

impl Cleaner {
    fn refuse(&self, err: FilterError) -> Result<Document, FilterError> {
        self.refused.set(self.refused.get() + 1);
        log::warn!("refused a document: {err:?}");
        Err(err)
    }
}

impl TextFilter for Cleaner {
    fn name(&self) -> String {
        // The host may rename the filter through its configuration.
        config::get("name").unwrap_or_else(|| "cleaner".to_string())
    }

    fn filter(&self, doc: Document, opts: FilterOptions) -> Result<Document, FilterError> {
        if doc.lines.is_empty() {
            return self.refuse(FilterError::Empty);
        }
        // ANCHOR: call_host
        // Words the host has banned, from its key-value store.
        let banned = KeyValueHost.get("banned".to_string()).unwrap_or_default();
        // ANCHOR_END: call_host
        let mut lines = Vec::new();
        for line in doc.lines {
            if opts.drop_empty && line.trim().is_empty() {
                continue;
            }
            if !banned.is_empty() && line.contains(banned.as_str()) {
                return self.refuse(FilterError::Rejected(format!("contains `{banned}`")));
            }
            lines.push(match opts.case {
                CaseMode::Keep => line,
                CaseMode::Upper => line.to_uppercase(),
                CaseMode::Lower => line.to_lowercase(),
            });
        }
        let actual = lines.len() as u32;
        if actual > opts.max_lines {
            return self.refuse(FilterError::TooLong {
                limit: opts.max_lines,
                actual,
            });
        }
        self.filtered.set(self.filtered.get() + 1);
        // Remember the last title in the host's store.
        KeyValueHost.set("last-title".to_string(), doc.title.clone());
        log::info!("filtered `{}`: {actual} lines", doc.title);
        Ok(Document {
            title: doc.title,
            lines,
            tags: doc.tags,
        })
    }

    fn stats(&self) -> FilterStats {
        FilterStats {
            filtered: self.filtered.get(),
            refused: self.refused.get(),
        }
    }
}

wasm_sandbox_guest::export!(Cleaner: example_interfaces::TextFilter);
// ANCHOR_END: plugin
