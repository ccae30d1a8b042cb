//! Finding the definitions a trait's signatures refer to.
//!
//! A proc macro sees only the item it is attached to. To write the WIT world
//! of a trait (and the plugin-side bindings, which need it at compile time),
//! `#[sandbox_plugin]` needs the definitions of the `PluginType`s and
//! `#[host_interface]` and `#[plugin_resource]` traits the trait uses. They live in the same crate, so
//! the macro reads the crate's source files (`src/**/*.rs` under
//! `CARGO_MANIFEST_DIR`, plus the file the trait is in) and picks out the
//! items carrying those attributes. Items produced by other macros, or behind
//! `#[path]` outside `src/`, are not seen; the error for an unknown type says
//! so.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Items found in the crate's sources, by name.
#[derive(Default)]
pub(crate) struct Scan {
    pub(crate) types: BTreeMap<String, Vec<syn::DeriveInput>>,
    pub(crate) host_traits: BTreeMap<String, Vec<syn::ItemTrait>>,
    pub(crate) resource_traits: BTreeMap<String, Vec<syn::ItemTrait>>,
}

/// Reads the crate's sources.
pub(crate) fn scan_crate(extra_file: Option<PathBuf>) -> Scan {
    let mut files = Vec::new();
    if let Some(f) = extra_file {
        files.push(f);
    }
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        collect_rs(&Path::new(&dir).join("src"), &mut files, 0);
    }
    let mut seen = HashSet::new();
    let mut scan = Scan::default();
    for file in files {
        let key = std::fs::canonicalize(&file).unwrap_or(file.clone());
        if !seen.insert(key) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        // A file that does not parse is reported by rustc itself.
        let Ok(parsed) = syn::parse_file(&text) else {
            continue;
        };
        visit_items(&parsed.items, &mut scan);
    }
    scan
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, out, depth + 1);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn visit_items(items: &[syn::Item], scan: &mut Scan) {
    for item in items {
        match item {
            syn::Item::Struct(s) if derives_plugin_type(&s.attrs) => {
                scan.types
                    .entry(s.ident.to_string())
                    .or_default()
                    .push(syn::DeriveInput::from(s.clone()));
            }
            syn::Item::Enum(e) if derives_plugin_type(&e.attrs) => {
                scan.types
                    .entry(e.ident.to_string())
                    .or_default()
                    .push(syn::DeriveInput::from(e.clone()));
            }
            syn::Item::Trait(t) if has_attr(&t.attrs, "host_interface") => {
                scan.host_traits
                    .entry(t.ident.to_string())
                    .or_default()
                    .push(t.clone());
            }
            syn::Item::Trait(t) if has_attr(&t.attrs, "plugin_resource") => {
                scan.resource_traits
                    .entry(t.ident.to_string())
                    .or_default()
                    .push(t.clone());
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    visit_items(items, scan);
                }
            }
            _ => {}
        }
    }
}

fn derives_plugin_type(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if !a.path().is_ident("derive") {
            return false;
        }
        let mut found = false;
        let _ = a.parse_nested_meta(|meta| {
            if meta
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "PluginType")
            {
                found = true;
            }
            Ok(())
        });
        found
    })
}

/// Whether an attribute whose last path segment is `name` is present.
pub(crate) fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs
        .iter()
        .any(|a| a.path().segments.last().is_some_and(|s| s.ident == name))
}

/// The file a macro was invoked from, when the compiler can tell.
pub(crate) fn call_site_file() -> Option<PathBuf> {
    if !proc_macro::is_available() {
        return None;
    }
    proc_macro::Span::call_site().local_file()
}
