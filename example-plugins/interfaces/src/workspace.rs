//! Host objects: a host interface whose objects (pages) live on the host
//! and are lent or given to plugins, which call their methods.

use wasm_sandbox_guest::{host_interface, plugin_resource, sandbox_plugin};

// ANCHOR: page
/// A page the host holds: plugins read it through its methods.
#[plugin_resource]
pub trait Page {
    /// A new page with `text` (the constructor: the host makes it).
    fn new(text: String) -> Self;
    /// The whole text.
    fn text(&self) -> String;
    /// Line `n` (from 0), if there is one.
    fn line(&self, n: u32) -> Option<String>;
    /// How many lines it has.
    fn lines(&self) -> u32;
    /// What kind of pages these are (a static function).
    fn kind() -> String;
}

/// Pages the host offers plugins.
#[host_interface]
pub trait Workspace {
    /// A page; the host chooses its type.
    type Page: Page;

    /// Opens the page at `path` (empty when there is none).
    fn open(&self, path: String) -> Self::Page;
    /// The page's title, as the host keeps it.
    fn title(&self, doc: &Self::Page) -> String;
    /// Gives the page back to the host, which closes it; returns its
    /// line count.
    fn close(&self, doc: Self::Page) -> u32;
}
// ANCHOR_END: page

// ANCHOR: reviewer
/// A plugin that reads the host's pages.
#[sandbox_plugin(imports(Workspace))]
pub trait Reviewer {
    /// Opens `path` and describes it: title, line count and first line.
    fn review(&self, path: String) -> String;
    /// Opens `path` and keeps the page; returns how many it keeps.
    fn hold(&self, path: String) -> u32;
    /// Drops every page it keeps; returns how many it dropped.
    fn release_all(&self) -> u32;
    /// Makes a page with the host's constructor and closes it through
    /// the host; returns its line count.
    fn draft(&self, text: String) -> u32;
    /// Hostile: reads the text of the page at a handle index it was
    /// never given.
    fn forge(&self, handle: u32) -> String;
    /// Hostile: opens `path`, drops the page, then uses its old handle.
    fn reuse(&self, path: String) -> String;
    /// Describes a page the host lends it for this call.
    fn describe(&self, page: &dyn Page) -> String;
    /// Keeps a page the host gives it; returns how many it keeps.
    fn keep(&self, page: Box<dyn Page>) -> u32;
    /// Traps (for tests of what happens to held pages).
    fn crash(&self);
}
// ANCHOR_END: reviewer
