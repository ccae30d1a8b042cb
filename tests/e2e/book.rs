//! The book's `{{#include}}`s: mdBook renders an include whose file or
//! anchor is missing as nothing at all (an empty code block, no error), so
//! this reads the book's sources and checks each one.

use std::path::{Path, PathBuf};

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// Every `{{#include path}}` / `{{#include path:anchor}}` in `text`.
fn includes(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{#include") {
        let after = &rest[at + "{{#include".len()..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim());
        rest = &after[end..];
    }
    out
}

#[test]
fn every_book_include_names_a_file_and_anchor_that_exist() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut files = Vec::new();
    markdown_files(&src, &mut files);
    files.sort();
    let mut missing = Vec::new();
    let mut checked = 0;
    for md in &files {
        let text = std::fs::read_to_string(md).unwrap();
        for include in includes(&text) {
            checked += 1;
            let (path, anchor) = match include.split_once(':') {
                Some((p, a)) => (p, Some(a)),
                None => (include, None),
            };
            let target = md.parent().unwrap().join(path);
            let Ok(body) = std::fs::read_to_string(&target) else {
                missing.push(format!("{}: `{include}`: no such file", md.display()));
                continue;
            };
            // A line range (`:10:20`) needs no anchor.
            let Some(anchor) = anchor.filter(|a| !a.starts_with(|c: char| c.is_ascii_digit()))
            else {
                continue;
            };
            let has = |marker: &str| {
                body.lines().any(|line| {
                    line.split_once(marker)
                        .is_some_and(|(_, name)| name.trim() == anchor)
                })
            };
            if !has("ANCHOR:") || !has("ANCHOR_END:") {
                missing.push(format!(
                    "{}: `{include}`: `{}` has no `ANCHOR: {anchor}` ... `ANCHOR_END: {anchor}`",
                    md.display(),
                    target.display()
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} includes found: is the book there?"
    );
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_include_reader_sees_what_mdbook_sees() {
    assert_eq!(
        includes("a {{#include ../x.rs:one}} b {{#include y.wit}}"),
        ["../x.rs:one", "y.wit"]
    );
}
