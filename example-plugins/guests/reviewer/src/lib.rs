//! The `reviewer` example plugin: reads pages, objects of the host's
//! `Workspace` interface, through their methods. `forge` and `reuse` are
//! hostile: they use handles the plugin was never given, or gave back.

use std::cell::RefCell;

// ANCHOR: plugin
use example_interfaces::{Page, Reviewer, Workspace, WorkspaceHost, WorkspacePage};

#[derive(Default)]
struct Review {
    /// Pages kept between calls: the host keeps each alive until dropped.
    held: RefCell<Vec<Box<dyn Page>>>,
}

impl Reviewer for Review {
    fn review(&self, path: String) -> String {
        let page = WorkspaceHost.open(path);
        let first = page.line(0).unwrap_or_default();
        format!(
            "{} ({} lines, {}): {first}",
            WorkspaceHost.title(&page),
            page.lines(),
            WorkspacePage::kind()
        )
    }

    fn hold(&self, path: String) -> u32 {
        self.keep(Box::new(WorkspaceHost.open(path)))
    }

    fn release_all(&self) -> u32 {
        let dropped = self.held.borrow_mut().drain(..).count();
        dropped as u32
    }

    fn draft(&self, text: String) -> u32 {
        let page = WorkspacePage::new(text);
        WorkspaceHost.close(page)
    }

    fn forge(&self, handle: u32) -> String {
        // SAFETY: deliberately wrong; the component model checks the handle.
        let page = unsafe { WorkspacePage::__from_handle(handle) };
        let text = page.text();
        std::mem::forget(page);
        text
    }

    fn reuse(&self, path: String) -> String {
        let page = WorkspaceHost.open(path);
        let handle = page.__handle();
        drop(page);
        // SAFETY: deliberately wrong: the handle was given back above.
        let stale = unsafe { WorkspacePage::__from_handle(handle) };
        let text = stale.text();
        std::mem::forget(stale);
        text
    }

    fn describe(&self, page: &dyn Page) -> String {
        format!("{} lines: {}", page.lines(), page.text())
    }

    fn keep(&self, page: Box<dyn Page>) -> u32 {
        let mut held = self.held.borrow_mut();
        held.push(page);
        held.len() as u32
    }

    fn crash(&self) {
        panic!("asked to crash");
    }
}

wasm_sandbox_guest::export!(Review: example_interfaces::Reviewer);
// ANCHOR_END: plugin
