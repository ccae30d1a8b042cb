//! `wit = ".."`: WIT as it is published, read into one self-contained text.
//!
//! The path names a `.wit` file (one package, or several in nested
//! `package .. { }` blocks) or a directory of `.wit` files that make one
//! package, with the packages it uses in `deps/` (a file or a directory
//! each), as `wasm-tools` and `wkg` lay them out. wit-parser reads every
//! form; the result is printed back as one file whose main package is the
//! selected world's and whose other packages are nested, so that the
//! plugin's bindings, the `<TRAIT>_WIT` constant and a plugin author in
//! another language all see the same single text.

use std::path::{Path, PathBuf};

use wit_parser::{InterfaceId, PackageId, Resolve, WorldId};

use crate::scan;

/// The packages read from a `wit = ".."` path.
pub(crate) struct Published {
    pub(crate) resolve: Resolve,
    /// The package of the file or directory itself (not one of its
    /// dependencies or nested packages).
    pub(crate) main: PackageId,
    /// Where it was found.
    pub(crate) path: PathBuf,
    /// Every file read.
    pub(crate) files: Vec<PathBuf>,
}

/// What a `wit = ".."` path may be, for error messages.
const FORMS: &str = "`wit = ..` takes a `.wit` file (one package, or several in nested \
                     `package .. { }` blocks) or a directory of `.wit` files that make one \
                     package, with the packages it uses in `deps/` (as `wasm-tools` and `wkg` \
                     lay them out)";

/// Finds and reads the WIT at `lit`: relative to the crate's `Cargo.toml`
/// directory (like wit-bindgen's `path`), failing that to the file the
/// attribute is in.
pub(crate) fn load(lit: &syn::LitStr) -> syn::Result<Published> {
    let given = lit.value();
    let tried = candidates(&given);
    let Some(path) = tried.iter().find(|p| p.exists()).cloned() else {
        let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        return Err(syn::Error::new_spanned(
            lit,
            format!(
                "no WIT at `{given}` (tried {}); {FORMS}; the path is relative to the crate's \
                 Cargo.toml directory, or to this source file",
                list.join(" and ")
            ),
        ));
    };
    let mut resolve = Resolve::default();
    let (main, files) = match resolve.push_path(&path) {
        Ok((main, sources)) => (main, sources.paths().map(Path::to_path_buf).collect()),
        Err(e) => {
            let what = if path.is_dir() {
                format!(
                    "the WIT directory `{}` does not parse: {e:#}; a WIT directory holds the \
                     `.wit` files of one package, and each package they use in `deps/`",
                    path.display()
                )
            } else {
                format!("the WIT file `{}` does not parse: {e:#}", path.display())
            };
            return Err(syn::Error::new_spanned(lit, what));
        }
    };
    Ok(Published {
        resolve,
        main,
        path,
        files,
    })
}

fn candidates(given: &str) -> Vec<PathBuf> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let mut tried = vec![Path::new(&dir).join(given)];
    if let Some(file) = scan::call_site_file()
        && let Some(parent) = file.parent()
    {
        let beside = parent.join(given);
        if !tried.contains(&beside) {
            tried.push(beside);
        }
    }
    tried
}

/// Makes the expansion depend on `files`, so that cargo builds the crate
/// again when one of them changes (a macro's reads are not tracked).
pub(crate) fn track(files: &[PathBuf]) -> proc_macro2::TokenStream {
    let paths = files
        .iter()
        .filter_map(|f| std::path::absolute(f).ok())
        .filter_map(|f| f.to_str().map(str::to_string));
    quote::quote! {
        #(const _: &[u8] = ::core::include_bytes!(#paths);)*
    }
}

impl Published {
    /// The world named `name` (a plain name in the main package, or
    /// `namespace:package/world[@version]` in any package read), or the
    /// only world of the main package.
    pub(crate) fn select_world(&self, name: Option<&str>) -> Result<WorldId, String> {
        self.resolve.select_world(&[self.main], name).map_err(|e| {
            let worlds: Vec<String> = self
                .resolve
                .worlds
                .iter()
                .filter_map(|(_, w)| {
                    let pkg = &self.resolve.packages[w.package?].name;
                    Some(format!("{}:{}/{}", pkg.namespace, pkg.name, w.name))
                })
                .collect();
            format!(
                "{e:#} (worlds in `{}`: {})",
                self.path.display(),
                if worlds.is_empty() {
                    "none".to_string()
                } else {
                    worlds.join(", ")
                }
            )
        })
    }

    /// The interface named `name`: a plain name in the main package, or
    /// `namespace:package/interface[@version]` in any package read (the
    /// version may be left out when only one version was read).
    pub(crate) fn find_interface(&self, name: &str) -> Result<InterfaceId, String> {
        let resolve = &self.resolve;
        let found: Vec<InterfaceId> = if name.contains(':') {
            let (unversioned, version) = match name.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (name, None),
            };
            resolve
                .interfaces
                .iter()
                .filter(|(id, _)| {
                    resolve.id_of(*id).is_some_and(|full| match version {
                        Some(_) => full == name,
                        None => full.split('@').next() == Some(unversioned),
                    })
                })
                .map(|(id, _)| id)
                .collect()
        } else {
            resolve.packages[self.main]
                .interfaces
                .get(name)
                .copied()
                .into_iter()
                .collect()
        };
        match found.as_slice() {
            [one] => Ok(*one),
            [] => {
                let known: Vec<String> = resolve
                    .interfaces
                    .iter()
                    .filter_map(|(id, _)| resolve.id_of(id))
                    .collect();
                Err(format!(
                    "no interface `{name}` in `{}` (it has: {}); name one with `interface = \"..\"` \
                     (a plain name is looked up in the main package, \
                     `namespace:package/interface` in any)",
                    self.path.display(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            }
            many => {
                let names: Vec<String> = many.iter().filter_map(|id| resolve.id_of(*id)).collect();
                Err(format!(
                    "more than one version of `{name}` was read ({}); add the version",
                    names.join(", ")
                ))
            }
        }
    }

    /// Every package read, each printed as a nested `package .. { }` block,
    /// with its id; dependencies first.
    pub(crate) fn nested_blocks(&self) -> Result<Vec<(String, String)>, String> {
        self.resolve
            .packages
            .iter()
            .map(|(id, package)| {
                let mut printer = wit_component::WitPrinter::default();
                printer
                    .print_package(&self.resolve, id, false)
                    .map_err(|e| format!("{e:#}"))?;
                Ok((package.name.to_string(), printer.output.to_string()))
            })
            .collect()
    }

    /// Every package read, printed as one WIT text: `main` first, the
    /// others nested, in the order they were read (dependencies before the
    /// packages that use them).
    pub(crate) fn render(&self, main: PackageId) -> Result<String, String> {
        let nested: Vec<PackageId> = self
            .resolve
            .packages
            .iter()
            .map(|(id, _)| id)
            .filter(|id| *id != main)
            .collect();
        let mut printer = wit_component::WitPrinter::default();
        printer
            .print(&self.resolve, main, &nested)
            .map_err(|e| format!("{e:#}"))?;
        Ok(printer.output.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A main package using two versions of one dependency.
    fn two_versions() -> Published {
        let mut resolve = Resolve::default();
        let main = resolve
            .push_str(
                "main.wit",
                r#"
                package acme:app@1.0.0;
                interface kv { get: func(key: string) -> option<string>; }
                world app { import acme:dep/store@1.0.0; import acme:dep/store@2.0.0; export kv; }

                package acme:dep@1.0.0 { interface store { put: func(v: u32); } }
                package acme:dep@2.0.0 { interface store { put: func(v: u64); } }
                "#,
            )
            .unwrap();
        Published {
            resolve,
            main,
            path: PathBuf::from("main.wit"),
            files: Vec::new(),
        }
    }

    fn name(p: &Published, id: InterfaceId) -> String {
        p.resolve.id_of(id).unwrap()
    }

    #[test]
    fn interfaces_are_found_by_plain_or_full_name() {
        let p = two_versions();
        assert_eq!(
            name(&p, p.find_interface("kv").unwrap()),
            "acme:app/kv@1.0.0"
        );
        assert_eq!(
            name(&p, p.find_interface("acme:app/kv").unwrap()),
            "acme:app/kv@1.0.0"
        );
        assert_eq!(
            name(&p, p.find_interface("acme:dep/store@2.0.0").unwrap()),
            "acme:dep/store@2.0.0"
        );
        // A plain name is only looked up in the main package.
        let err = p.find_interface("store").unwrap_err();
        assert!(
            err.starts_with("no interface `store` in `main.wit`"),
            "{err}"
        );
        assert!(err.contains("acme:dep/store@1.0.0"), "{err}");
        // Two versions read: the version must be given.
        let err = p.find_interface("acme:dep/store").unwrap_err();
        assert_eq!(
            err,
            "more than one version of `acme:dep/store` was read \
             (acme:dep/store@1.0.0, acme:dep/store@2.0.0); add the version"
        );
        // A version that was not read is not found.
        assert!(p.find_interface("acme:dep/store@3.0.0").is_err());
    }

    #[test]
    fn the_rendered_text_reads_back_with_every_package() {
        let p = two_versions();
        let text = p.render(p.main).unwrap();
        assert!(text.starts_with("package acme:app@1.0.0;"), "{text}");
        let mut again = Resolve::default();
        let main = again.push_str("again.wit", &text).unwrap();
        let world = again.select_world(&[main], Some("app")).unwrap();
        assert_eq!(again.worlds[world].imports.len(), 2);
        assert_eq!(again.packages.len(), 3);
        // Each package also prints on its own as a nested block.
        let blocks = p.nested_blocks().unwrap();
        let ids: Vec<&str> = blocks.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["acme:dep@1.0.0", "acme:dep@2.0.0", "acme:app@1.0.0"]);
        assert!(
            blocks[0].1.starts_with("package acme:dep@1.0.0 {"),
            "{}",
            blocks[0].1
        );
    }

    #[test]
    fn the_selected_world_error_lists_the_worlds_read() {
        let p = two_versions();
        let err = p.select_world(Some("nope")).unwrap_err();
        assert!(
            err.contains("(worlds in `main.wit`: acme:app/app)"),
            "{err}"
        );
    }
}
