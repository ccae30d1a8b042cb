//! `#[sandbox_plugin]`: from a trait and its arguments to the trait's WIT
//! world (`<TRAIT>_WIT`), the host-side proxy and the plugin-side export glue.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::args::PluginArgs;
use crate::errors::Errors;
use crate::iface::{self, Role};
use crate::package::PackageName;
use crate::world::{self, World};
use crate::{bind, guest, host, published, scan};

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

    // The WIT files read, whose changes must rebuild the crate.
    let mut read: Vec<std::path::PathBuf> = imports
        .iter()
        .filter_map(|i| i.published.as_ref())
        .flat_map(|p| p.files.iter().cloned())
        .collect();
    let (wit_text, world_id, resolve, world_key) = if let Some(path) = &args.wit {
        if !args.imports.is_empty() || args.package.is_some() {
            return Err(syn::Error::new_spanned(
                path,
                "with `wit = ..`, the package and imports come from the WIT file; \
                 remove `package` and `imports`",
            ));
        }
        let published = published::load(path)?;
        read.extend(published.files.iter().cloned());
        let world_name = args.world.as_ref().map(|w| w.value());
        let world_span = args
            .world
            .as_ref()
            .map_or_else(|| quote!(#path), |w| quote!(#w));
        let world = published.select_world(world_name.as_deref()).map_err(|e| {
            syn::Error::new_spanned(
                &world_span,
                format!("cannot select the world: {e}; name it with `world = \"..\"`"),
            )
        })?;
        let w = &published.resolve.worlds[world];
        let Some(package) = w.package else {
            return Err(syn::Error::new_spanned(
                &world_span,
                "the selected world belongs to no package; give the WIT a `package` line",
            ));
        };
        let n = &published.resolve.packages[package].name;
        let id = PackageName {
            namespace: n.namespace.clone(),
            name: n.name.clone(),
            version: n.version.as_ref().map(|v| v.to_string()),
        }
        .item(&w.name);
        // One text for everything downstream: the world's package first,
        // every other package read (dependencies included) nested.
        let text = published.render(package).map_err(|e| {
            syn::Error::new_spanned(
                path,
                format!(
                    "cannot print the WIT read from `{}` as one file: {e}",
                    published.path.display()
                ),
            )
        })?;
        let (resolve, world) = bind::load_text(&text, &id).map_err(|e| {
            syn::Error::new_spanned(
                path,
                format!(
                    "the WIT read from `{}` does not read back as one file (a bug; please report \
                     it): {e}\n{text}",
                    published.path.display()
                ),
            )
        })?;
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
    let track = published::track(&read);
    Ok(quote! {
        #item
        #track

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
