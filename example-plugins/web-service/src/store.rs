//! The host's key-value store, offered to the text filter through the
//! `KeyValue` host interface.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use example_interfaces::KeyValue;

/// A key-value store in memory, shared by every instance of the text
/// filter's pool (clones share the entries).
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoryStore {
    entries: Arc<Mutex<BTreeMap<String, String>>>,
}

impl MemoryStore {
    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, String>> {
        // A panic while holding the lock cannot leave the map half-changed.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl KeyValue for MemoryStore {
    fn get(&self, key: String) -> Option<String> {
        self.entries().get(&key).cloned()
    }

    fn set(&self, key: String, value: String) {
        self.entries().insert(key, value);
    }

    fn keys(&self, prefix: &str) -> Vec<String> {
        self.entries()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }
}
