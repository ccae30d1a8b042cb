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

/// Expands `#[plugin_resource]`: checks the trait and emits it unchanged
/// (the `#[sandbox_plugin]` trait that names it does the rest).
pub(crate) fn expand_resource(args: TokenStream, item: &syn::ItemTrait) -> TokenStream {
    // Functions without `self` (the constructor, static functions) get
    // `where Self: Sized`, so that `dyn Trait` is a type: the plugin sees a
    // host's objects as `&dyn Trait`.
    let mut emitted = item.clone();
    for ti in &mut emitted.items {
        if let syn::TraitItem::Fn(f) = ti
            && !matches!(f.sig.inputs.first(), Some(syn::FnArg::Receiver(_)))
        {
            let clause = f.sig.generics.make_where_clause();
            clause
                .predicates
                .push(syn::parse_quote!(Self: ::core::marker::Sized));
        }
    }
    let mut out = quote!(#emitted);
    if !args.is_empty() {
        let e = syn::Error::new_spanned(&args, "#[plugin_resource] takes no arguments");
        out.extend(e.into_compile_error());
    }
    if let Err(e) = iface::parse_resource(item) {
        out.extend(e.into_compile_error());
    }
    out
}

/// Finds, for each host object a method takes (`&dyn Page`), the imported
/// host interface that declares it, and sets its WIT name. Returns what the
/// plugin interface must `use`: (import name, resource name).
fn resolve_host_objects(
    iface: &mut iface::Interface,
    imports: &[world::Import],
    errors: &mut Errors,
) -> Vec<(String, String)> {
    let mut uses: Vec<(String, String)> = Vec::new();
    for m in &mut iface.methods {
        for p in &mut m.params {
            let crate::model::Ty::Handle(h) = &mut p.ty else {
                continue;
            };
            if h.host_type.is_none() {
                continue;
            }
            let found = imports.iter().find_map(|import| {
                import
                    .iface
                    .resources
                    .iter()
                    .find(|r| r.bound.segments.last().is_some_and(|s| s.ident == h.rust))
                    .map(|r| (import.import_name(), r.wit.clone()))
            });
            match found {
                Some((import, wit)) => {
                    h.wit = wit.clone();
                    if !uses.contains(&(import.clone(), wit.clone())) {
                        uses.push((import, wit));
                    }
                }
                None => errors.push(syn::Error::new_spanned(
                    &p.rust,
                    format!(
                        "`dyn {}` is not an object of an imported host interface: add the \
                         #[host_interface] trait that declares `type X: {};` to \
                         `imports(..)` of this trait",
                        h.rust, h.rust
                    ),
                )),
            }
        }
    }
    uses
}

/// The trait as emitted: each plugin object's bound gets `'static` (the
/// plugin keeps its objects in a table), and on `wasm32` the trait gets one
/// hidden provided function per resource function, through which the
/// export glue (expanded in the plugin crate, where the resource trait's
/// path is unknown) reaches the resource trait.
fn emitted_trait(item: &syn::ItemTrait, iface: &iface::Interface) -> syn::ItemTrait {
    let mut item = item.clone();
    for ti in &mut item.items {
        if let syn::TraitItem::Type(t) = ti {
            t.bounds.push(syn::parse_quote!('static));
        }
    }
    // Host objects the methods take (`&dyn Page`): the export glue makes the
    // plugin-side object through `<dyn Page>::__wasm_sandbox_import`, which
    // `#[host_interface]` defines next to the resource trait.
    let mut made: Vec<String> = Vec::new();
    for m in &iface.methods {
        for p in &m.params {
            let Some(h) = p.ty.handle() else { continue };
            if h.host_type.is_none() || made.contains(&h.rust) {
                continue;
            }
            made.push(h.rust.clone());
            let path = host::host_trait_path(h);
            let shim = guest::host_object_shim(&h.rust);
            item.items.push(syn::parse_quote! {
                #[cfg(target_family = "wasm")]
                #[doc(hidden)]
                #[allow(unsafe_code)]
                fn #shim(handle: u32, owned: bool) -> ::std::boxed::Box<dyn #path> where Self: Sized {
                    // SAFETY: `handle` is a handle of this resource that the
                    // plugin was just given (lent when `owned` is false).
                    unsafe { <dyn #path>::__wasm_sandbox_import(handle, owned) }
                }
            });
        }
    }
    for decl in &iface.resources {
        let Some(def) = &decl.def else {
            continue;
        };
        let assoc = &decl.ident;
        let bound = &decl.bound;
        for (kind, m) in def.functions() {
            let shim = guest::resource_shim(&assoc.to_string(), &m.ident);
            let ident = &m.ident;
            let params = m.params.iter().map(|p| {
                let id = &p.ident;
                let ty = &p.rust;
                quote!(#id: #ty)
            });
            let args: Vec<_> = m.params.iter().map(|p| &p.ident).collect();
            let ret = match (kind, &m.result) {
                (iface::ResourceFn::Constructor, _) => quote!(-> Self::#assoc),
                (_, Some((_, rust))) => quote!(-> #rust),
                (_, None) => quote!(),
            };
            let (receiver, call) = match kind {
                iface::ResourceFn::Method => (
                    quote!(this: &Self::#assoc,),
                    quote!(<Self::#assoc as #bound>::#ident(this, #(#args),*)),
                ),
                _ => (
                    quote!(),
                    quote!(<Self::#assoc as #bound>::#ident(#(#args),*)),
                ),
            };
            item.items.push(syn::parse_quote! {
                #[cfg(target_family = "wasm")]
                #[doc(hidden)]
                fn #shim(#receiver #(#params),*) #ret where Self: Sized {
                    #call
                }
            });
        }
    }
    item
}

fn try_expand(args: PluginArgs, item: &syn::ItemTrait) -> syn::Result<TokenStream> {
    let mut iface = iface::parse(item, Role::Plugin)?;
    let scan = scan::scan_crate(scan::call_site_file());
    let mut errors = Errors::default();
    world::resolve_resources(&mut iface, &scan, &mut errors);
    errors.finish()?;
    let mut errors = Errors::default();
    let types = world::resolve_types(&iface, &scan, &mut errors);
    let imports = world::resolve_imports(&args.imports, &scan, &mut errors);
    let host_objects = resolve_host_objects(&mut iface, &imports, &mut errors);
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
            host_objects,
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
    let resources: Vec<_> = iface
        .resources
        .iter()
        .zip(&binding.resources)
        .filter_map(|(decl, b)| {
            let def = decl.def.as_ref()?;
            let fns = def
                .functions()
                .zip(&b.functions)
                .map(|((kind, m), bm)| {
                    (
                        kind,
                        host::Bound {
                            method: m,
                            export_name: bm.export_name.clone(),
                            wit_signature: bm.wit_signature.clone(),
                        },
                    )
                })
                .collect();
            Some((decl, fns))
        })
        .collect();
    let proxy = host::proxy(vis, &iface, &bound, &resources, &wit_text, &world_id);
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
    let item = emitted_trait(item, &iface);
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
