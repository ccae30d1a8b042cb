//! Procedural macros of [wasm-sandbox](https://docs.rs/wasm-sandbox).
//!
//! Depend on `wasm-sandbox` (host) or `wasm-sandbox-guest` (plugin), which
//! re-export these macros, rather than on this crate.
//!
//! - `#[sandbox_plugin]` turns a trait into a plugin interface: a WIT world,
//!   a typed host proxy, and the plugin-side export glue.
//! - `#[host_interface]` turns a trait into functions the host offers plugins.
//! - `#[derive(PluginType)]` maps a struct or enum to a WIT record, enum or
//!   variant.
//! - `export!(MyPlugin: my_api::MyTrait)` exports a plugin type.
//!
//! Set `WASM_SANDBOX_MACROS_DEBUG=1` to write each expansion to
//! `target/wasm-sandbox-macros/<name>.rs` for reading.

mod args;
mod bind;
mod derive;
mod errors;
mod guest;
mod host;
mod iface;
mod model;
mod package;
mod scan;
mod typedef;
mod world;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::parse_macro_input;

use crate::args::{HostArgs, PluginArgs};
use crate::bind::{Binding, BoundType};
use crate::errors::Errors;
use crate::iface::Role;
use crate::model::{Payload, TypeDef, TypeKind, bindgen_ident, bindgen_type};
use crate::package::PackageName;
use crate::world::World;

/// Declares a plugin interface. See the crate documentation of
/// `wasm-sandbox` ("Declaring a plugin interface") for the full story.
#[proc_macro_attribute]
pub fn sandbox_plugin(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(args as PluginArgs);
    let item = parse_macro_input!(item as syn::ItemTrait);
    let out = match expand_plugin(args, &item) {
        Ok(tokens) => tokens,
        Err(e) => {
            let err = e.into_compile_error();
            quote!(#item #err)
        }
    };
    debug_dump(&item.ident.to_string(), &out);
    out.into()
}

/// Declares functions the host offers plugins.
#[proc_macro_attribute]
pub fn host_interface(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(args as HostArgs);
    let item = parse_macro_input!(item as syn::ItemTrait);
    let out = match expand_host_interface(args, &item) {
        Ok(tokens) => tokens,
        Err(e) => {
            let err = e.into_compile_error();
            quote!(#item #err)
        }
    };
    debug_dump(&item.ident.to_string(), &out);
    out.into()
}

/// Maps a struct or enum to a WIT record, enum or variant.
#[proc_macro_derive(PluginType)]
pub fn derive_plugin_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    derive::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Exports a plugin type: `export!(MyFilter: my_api::TextFilter)`, or with a
/// constructor, `export!(MyFilter: my_api::TextFilter = MyFilter::new())`.
#[proc_macro]
pub fn export(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as ExportInput);
    expand_export(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

struct ExportInput {
    ty: syn::Type,
    path: syn::Path,
    ctor: Option<syn::Expr>,
}

impl syn::parse::Parse for ExportInput {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let ty: syn::Type = input.parse()?;
        input.parse::<syn::Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `export!(MyPlugin: my_api_crate::MyTrait)` (a `:` and the trait's path)",
            )
        })?;
        let path: syn::Path = input.parse()?;
        let ctor = if input.peek(syn::Token![=]) {
            input.parse::<syn::Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        if input.peek(syn::Token![;]) {
            input.parse::<syn::Token![;]>()?;
        }
        Ok(ExportInput { ty, path, ctor })
    }
}

fn expand_export(input: ExportInput) -> syn::Result<TokenStream2> {
    let ExportInput { ty, path, ctor } = input;
    let last = path.segments.last().expect("non-empty path");
    let mac = guest::export_macro_name(&last.ident);
    let first = path
        .segments
        .first()
        .expect("non-empty path")
        .ident
        .to_string();
    let same_crate = matches!(first.as_str(), "crate" | "self" | "super");
    if path.segments.len() < 2 || path.leading_colon.is_some() && path.segments.len() < 2 {
        return Err(syn::Error::new_spanned(
            &path,
            format!(
                "write the trait with the crate that declares it, for example \
                 `export!({}: my_api::{})`: the export glue lives in that crate",
                quote!(#ty),
                last.ident
            ),
        ));
    }
    let invoke = if same_crate {
        quote!(#mac!)
    } else {
        let krate = &path.segments.first().expect("non-empty").ident;
        let lead = path.leading_colon;
        quote!(#lead #krate::#mac!)
    };
    let ctor = ctor.map_or_else(
        || quote!(<#ty as ::core::default::Default>::default()),
        |c| quote!(#c),
    );
    Ok(quote! {
        #[cfg(target_family = "wasm")]
        #invoke(#ty, (#path), #ctor);

        // On other targets, check what can be checked: the type implements the trait.
        #[cfg(not(target_family = "wasm"))]
        const _: fn() = || {
            fn implements<T: #path>() {}
            implements::<#ty>();
        };
    })
}

fn trait_const_name(ident: &syn::Ident) -> syn::Ident {
    format_ident!(
        "{}_WIT",
        heck::ToShoutySnakeCase::to_shouty_snake_case(ident.to_string().as_str())
    )
}

fn expand_plugin(args: PluginArgs, item: &syn::ItemTrait) -> syn::Result<TokenStream2> {
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

fn expand_host_interface(args: HostArgs, item: &syn::ItemTrait) -> syn::Result<TokenStream2> {
    let iface = iface::parse(item, Role::Host)?;
    let scan = scan::scan_crate(scan::call_site_file());
    let mut errors = Errors::default();
    let types = world::resolve_types(&iface, &scan, &mut errors);
    errors.finish()?;
    let package = args
        .package
        .unwrap_or_else(|| PackageName::derived(&iface.wit));
    let import_name = package.item(&iface.wit);

    // A world that only imports the interface, for the plugin-side bindings.
    let imports_world = format!("{}-imports", iface.wit);
    let import = world::Import {
        package: package.clone(),
        iface: iface.clone(),
        types: types.clone(),
    };
    let text = import.render_standalone(&imports_world);
    let world_id = package.item(&imports_world);
    if let Err(e) = world::validate_text(&text, &world_id) {
        return Err(syn::Error::new_spanned(
            &item.ident,
            format!(
                "wasm-sandbox generated WIT that does not parse (a bug; please report it): {e}\n{text}"
            ),
        ));
    }
    let binding = Binding {
        methods: Vec::new(),
        types: derived_type_paths(&package, &types),
    };
    let module_ident = format_ident!(
        "__wasm_sandbox_{}",
        heck::ToSnakeCase::to_snake_case(iface.ident.to_string().as_str())
    );
    let conv = guest::Conv {
        root: quote!(#module_ident::bindings),
        binding: &binding,
        types: types.iter().map(|t| (t.ident.to_string(), t)).collect(),
    };
    let vis = &item.vis;
    let module = vec![
        bindgen_ident(&package.namespace),
        bindgen_ident(&package.name),
        bindgen_ident(&iface.wit),
    ];
    let host_side = host::host_interface(vis, &iface, &import_name);
    let guest_side = guest::host_handle(vis, item, &iface, &conv, &text, &world_id, &module);
    Ok(quote! {
        #item
        #host_side
        #guest_side
    })
}

/// Binding paths of a derived package's `types` interface.
fn derived_type_paths(
    package: &PackageName,
    types: &[TypeDef],
) -> std::collections::HashMap<String, BoundType> {
    let base = vec![
        bindgen_ident(&package.namespace),
        bindgen_ident(&package.name),
        "types".to_string(),
    ];
    types
        .iter()
        .map(|t| {
            let mut path = base.clone();
            path.push(bindgen_type(&t.wit));
            let mut case_records = std::collections::HashMap::new();
            if let TypeKind::Variant(cases) = &t.kind {
                for c in cases {
                    if matches!(c.payload, Payload::Struct(_)) {
                        let mut p = base.clone();
                        p.push(bindgen_type(&t.aux_record_name(c)));
                        case_records.insert(c.ident.to_string(), p);
                    }
                }
            }
            (t.ident.to_string(), BoundType { path, case_records })
        })
        .collect()
}

/// With `WASM_SANDBOX_MACROS_DEBUG=1`, writes an expansion to a file.
fn debug_dump(name: &str, tokens: &TokenStream2) {
    if std::env::var_os("WASM_SANDBOX_MACROS_DEBUG").is_none() {
        return;
    }
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map(|d| std::path::PathBuf::from(d).join("target"))
        })
        .unwrap_or_else(|| std::path::PathBuf::from("target"))
        .join("wasm-sandbox-macros");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{name}.rs")), tokens.to_string());
}
