//! `#[sandbox_plugin]`: from a trait and its arguments to the trait's WIT
//! world (`<TRAIT>_WIT`), the host-side proxy and the plugin-side export glue.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::args::PluginArgs;
use crate::errors::Errors;
use crate::iface::{self, Role};
use crate::package::PackageName;
use crate::world::{self, World};
use crate::{bind, guest, host, scan};

/// Expands `#[sandbox_plugin]`. On error, the trait is emitted unchanged next
/// to the error, so that one mistake does not cascade into errors at every
/// use of the trait.
pub(crate) fn expand(args: PluginArgs, item: &syn::ItemTrait) -> TokenStream {
    match try_expand(args, item) {
        Ok(tokens) => tokens,
        Err(e) => {
            let err = e.into_compile_error();
            quote!(#item #err)
        }
    }
}

fn try_expand(args: PluginArgs, item: &syn::ItemTrait) -> syn::Result<TokenStream> {
    let iface = iface::parse(item, Role::Plugin)?;
    let scan = scan::scan_crate(scan::call_site_file());
    let mut errors = Errors::default();
    let types = world::resolve_types(&iface, &scan, &mut errors);
    let imports = world::resolve_imports(&args.imports, &scan, &mut errors);
    errors.finish()?;

    let (wit_text, world_id, resolve, world_key) = if let Some(path) = &args.wit {
        if !args.imports.is_empty() || args.package.is_some() {
            return Err(syn::Error::new_spanned(
                path,
                "with `wit = ..`, the package and imports come from the WIT file; \
                 remove `package` and `imports`",
            ));
        }
        // Like wit-bindgen's `path`, relative to the crate's Cargo.toml
        // directory; failing that, relative to the file the trait is in.
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        let mut tried = vec![std::path::Path::new(&dir).join(path.value())];
        if let Some(file) = scan::call_site_file()
            && let Some(parent) = file.parent()
        {
            tried.push(parent.join(path.value()));
        }
        let Some((file, text)) = tried
            .iter()
            .find_map(|f| std::fs::read_to_string(f).ok().map(|t| (f.clone(), t)))
        else {
            let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
            return Err(syn::Error::new_spanned(
                path,
                format!(
                    "cannot read the WIT file (tried {}); the path is relative to the crate's \
                     Cargo.toml directory, or to this source file",
                    list.join(" and ")
                ),
            ));
        };
        let world_name = args.world.as_ref().map(|w| w.value());
        let mut resolve = wit_parser::Resolve::default();
        let pkg = resolve.push_str(&file, &text).map_err(|e| {
            syn::Error::new_spanned(path, format!("the WIT file does not parse: {e:#}"))
        })?;
        let world = resolve
            .select_world(&[pkg], world_name.as_deref())
            .map_err(|e| {
                syn::Error::new_spanned(
                    args.world
                        .as_ref()
                        .map_or_else(|| quote!(#path), |w| quote!(#w)),
                    format!("cannot select the world: {e:#}; name it with `world = \"..\"`"),
                )
            })?;
        let id = {
            let w = &resolve.worlds[world];
            match w.package {
                Some(p) => {
                    let n = &resolve.packages[p].name;
                    let pn = PackageName {
                        namespace: n.namespace.clone(),
                        name: n.name.clone(),
                        version: n.version.as_ref().map(|v| v.to_string()),
                    };
                    pn.item(&w.name)
                }
                None => w.name.clone(),
            }
        };
        (text, id, resolve, world)
    } else {
        let package = args
            .package
            .clone()
            .unwrap_or_else(|| PackageName::derived(&iface.wit));
        let world_name = args.world.as_ref().map_or(iface.wit.clone(), |w| w.value());
        let origin = format!(
            "the Rust trait `{}` (crate {} {})",
            iface.ident,
            std::env::var("CARGO_PKG_NAME").unwrap_or_default(),
            std::env::var("CARGO_PKG_VERSION").unwrap_or_default()
        );
        let w = World {
            package,
            world: world_name,
            iface: iface.clone(),
            types: types.clone(),
            imports,
            origin,
        };
        let text = w.render();
        let id = w.world_id();
        let (resolve, world) = bind::load_text(&text, &id).map_err(|e| {
            syn::Error::new_spanned(
                &item.ident,
                format!("wasm-sandbox generated WIT that does not parse (a bug; please report it): {e}\n{text}"),
            )
        })?;
        (text, id, resolve, world)
    };

    let mut errors = Errors::default();
    let binding = bind::bind(&resolve, world_key, &iface, &types, &mut errors);
    errors.finish()?;

    let vis = &item.vis;
    let bound: Vec<host::Bound<'_>> = iface
        .methods
        .iter()
        .zip(&binding.methods)
        .map(|(m, b)| host::Bound {
            method: m,
            export_name: b.export_name.clone(),
            wit_signature: b.wit_signature.clone(),
        })
        .collect();
    let proxy = host::proxy(vis, &iface, &bound, &wit_text, &world_id);
    let conv = guest::Conv {
        root: quote!(__bindings),
        binding: &binding,
        types: types.iter().map(|t| (t.ident.to_string(), t)).collect(),
    };
    let export = guest::export_macro(&iface, &conv, &wit_text, &world_id);
    let const_name = trait_const_name(&iface.ident);
    let const_doc = format!(
        " The WIT world of [`{}`] (`{world_id}`): what a plugin in any language implements.",
        iface.ident
    );
    Ok(quote! {
        #item

        #[doc = #const_doc]
        #vis const #const_name: &str = #wit_text;

        #proxy

        #[cfg(target_family = "wasm")]
        #export
    })
}

/// The name of the const that holds a trait's WIT: `TextFilter` -> `TEXT_FILTER_WIT`.
fn trait_const_name(ident: &syn::Ident) -> syn::Ident {
    format_ident!(
        "{}_WIT",
        heck::ToShoutySnakeCase::to_shouty_snake_case(ident.to_string().as_str())
    )
}
