//! `TextFilter`: records, variants, options, results, lists, instance state
//! and a host interface.

use wasm_sandbox_guest::{PluginType, sandbox_plugin};

// ANCHOR: types
/// A document to filter.
#[derive(PluginType, Clone, Debug, PartialEq)]
pub struct Document {
    /// The title.
    pub title: String,
    /// The body, one entry per line.
    pub lines: Vec<String>,
    /// Optional tags.
    pub tags: Option<Vec<String>>,
}

/// How to filter.
#[derive(PluginType, Clone, Debug, PartialEq)]
pub struct FilterOptions {
    /// Lines beyond this many are an error.
    pub max_lines: u32,
    /// Drop blank lines.
    pub drop_empty: bool,
    /// What to do with letter case.
    pub case: CaseMode,
}

/// Letter-case handling.
#[derive(PluginType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseMode {
    /// Leave lines as they are.
    Keep,
    /// Make lines upper case.
    Upper,
    /// Make lines lower case.
    Lower,
}

/// Why a document was not filtered.
#[derive(PluginType, Clone, Debug, PartialEq)]
pub enum FilterError {
    /// The document has no lines.
    Empty,
    /// The document has more lines than allowed.
    TooLong {
        /// The limit that was exceeded.
        limit: u32,
        /// How many lines there were.
        actual: u32,
    },
    /// The filter refused the document, saying why.
    Rejected(String),
}

/// What a filter instance has done so far.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub struct FilterStats {
    /// Documents filtered successfully.
    pub filtered: u64,
    /// Documents refused.
    pub refused: u64,
}
// ANCHOR_END: types

// ANCHOR: trait
/// A plugin that cleans up documents.
///
/// A plugin instance keeps its state between calls (until the host resets
/// it), so `stats` counts the calls this instance has served.
#[sandbox_plugin(imports(KeyValue))]
pub trait TextFilter {
    /// The filter's name.
    fn name(&self) -> String;
    /// Filters `doc` according to `opts`.
    fn filter(&self, doc: Document, opts: FilterOptions) -> Result<Document, FilterError>;
    /// Counts of what this instance has done.
    fn stats(&self) -> FilterStats;
}
// ANCHOR_END: trait
