//! `#[host_interface]`: from a trait to the host-side registration
//! (`<Trait>Host` on the host) and the plugin-side handle that calls the host
//! (`<Trait>Host` on `wasm32`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::args::HostArgs;
use crate::bind::{Binding, BoundType};
use crate::errors::Errors;
use crate::iface::{self, Role};
use crate::model::{Payload, TypeDef, TypeKind, bindgen_ident, bindgen_type};
use crate::package::PackageName;
use crate::{bind, guest, host, published, scan, world};

/// Expands `#[host_interface]`. On error, the trait is emitted unchanged next
/// to the error, so that one mistake does not cascade into errors at every
/// use of the trait.
pub(crate) fn expand(args: HostArgs, item: &syn::ItemTrait) -> TokenStream {
    match try_expand(args, item) {
        Ok(tokens) => tokens,
        Err(e) => {
            let err = e.into_compile_error();
            quote!(#item #err)
        }
    }
}

fn try_expand(args: HostArgs, item: &syn::ItemTrait) -> syn::Result<TokenStream> {
    let mut iface = iface::parse(item, Role::Host)?;
    let scan = scan::scan_crate(scan::call_site_file());
    let mut errors = Errors::default();
    world::resolve_resources(&mut iface, &scan, &mut errors);
    if !iface.resources.is_empty() {
        if let Some(wit) = &args.wit {
            errors.push(syn::Error::new_spanned(
                wit,
                "objects (associated types) in a #[host_interface] bound to published WIT are \
                 not supported yet; derive the interface from the trait (remove `wit = ..`)",
            ));
        }
        if let Some(m) = iface.methods.iter().find(|m| {
            m.asynchronous
                && (m.params.iter().any(|p| p.ty.handle().is_some())
                    || m.result.as_ref().is_some_and(|(t, _)| t.handle().is_some()))
        }) {
            errors.push(syn::Error::new_spanned(
                &m.ident,
                "an `async fn` of a host interface cannot take or return objects yet; make it a \
                 plain `fn`",
            ));
        }
    }
    let types = world::resolve_types(&iface, &scan, &mut errors);
    errors.finish()?;
    let Target {
        import_name,
        text,
        world_id,
        binding,
        module,
        files,
    } = match &args.wit {
        Some(wit) => published_interface(&args, wit, &iface, &types)?,
        None => derived_interface(&args, &iface, &types, item)?,
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
    let host_side = host::host_interface(vis, &iface, &import_name);
    let (traits, guest_item) = if iface.methods.iter().any(|m| m.asynchronous) {
        let (host_item, guest_item) = split_async(item);
        let traits = quote! {
            #[cfg(not(target_family = "wasm"))]
            #host_item
            #[cfg(target_family = "wasm")]
            #guest_item
        };
        (traits, guest_item)
    } else {
        (quote!(#item), item.clone())
    };
    let guest_side = guest::host_handle(vis, &guest_item, &iface, &conv, &text, &world_id, &module);
    let track = published::track(&files);
    Ok(quote! {
        #traits
        #track
        #host_side
        #guest_side
    })
}

/// The two forms of a trait with `async fn` methods. On the host each
/// `async fn f(..) -> R` becomes `fn f(..) -> impl Future<Output = R> + Send`:
/// an implementation still writes `async fn`, and the compiler checks that
/// its future can move between the runtime's threads, which the sandbox
/// needs. In the plugin the method is a plain `fn`: the WIT function is the
/// same, and the plugin waits for the host's answer like for any import.
fn split_async(item: &syn::ItemTrait) -> (syn::ItemTrait, syn::ItemTrait) {
    let mut host_item = item.clone();
    let mut guest_item = item.clone();
    for trait_item in &mut host_item.items {
        if let syn::TraitItem::Fn(f) = trait_item
            && let Some(asyncness) = f.sig.asyncness.take()
        {
            let output = match &f.sig.output {
                syn::ReturnType::Default => quote!(()),
                syn::ReturnType::Type(_, ty) => quote!(#ty),
            };
            let span = asyncness.span;
            f.sig.output = syn::parse_quote_spanned! {span=>
                -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
            };
        }
    }
    for trait_item in &mut guest_item.items {
        if let syn::TraitItem::Fn(f) = trait_item {
            f.sig.asyncness = None;
        }
    }
    (host_item, guest_item)
}

/// What the plugin side binds to: the import's name, the WIT world that
/// imports it (one text), that world's id, the binding of the trait's
/// types, and the bindgen module path of the import.
struct Target {
    import_name: String,
    text: String,
    world_id: String,
    binding: Binding,
    module: Vec<String>,
    /// The WIT files read (published WIT only).
    files: Vec<std::path::PathBuf>,
}

/// The interface derived from the trait: `<package>/<trait-in-kebab-case>`.
fn derived_interface(
    args: &HostArgs,
    iface: &iface::Interface,
    types: &[TypeDef],
    item: &syn::ItemTrait,
) -> syn::Result<Target> {
    if let Some(interface) = &args.interface {
        return Err(syn::Error::new_spanned(
            interface,
            "`interface = ..` names an interface of published WIT: give the WIT with \
             `wit = \"..\"` too, or remove it (the interface is then the trait's name in \
             kebab case)",
        ));
    }
    let package = args
        .package
        .clone()
        .unwrap_or_else(|| PackageName::derived(&iface.wit));
    let import_name = package.item(&iface.wit);
    // A world that only imports the interface, for the plugin-side bindings.
    let imports_world = format!("{}-imports", iface.wit);
    let import = world::Import {
        package: package.clone(),
        iface: iface.clone(),
        types: types.to_vec(),
        published: None,
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
        types: derived_type_paths(&package, types),
        resources: Vec::new(),
    };
    let module = vec![
        bindgen_ident(&package.namespace),
        bindgen_ident(&package.name),
        bindgen_ident(&iface.wit),
    ];
    Ok(Target {
        import_name,
        text,
        world_id,
        binding,
        module,
        files: Vec::new(),
    })
}

/// A published interface (`wit = "..", interface = ".."`): the trait is
/// checked against it, function by function and type by type, and plugins
/// import it under its published name.
fn published_interface(
    args: &HostArgs,
    wit: &syn::LitStr,
    iface: &iface::Interface,
    types: &[TypeDef],
) -> syn::Result<Target> {
    if let Some(package) = &args.package {
        return Err(syn::Error::new_spanned(
            wit,
            format!(
                "with `wit = ..`, the package comes from the WIT; remove `package = \"{}\"`",
                package.id()
            ),
        ));
    }
    let mut published = published::load(wit)?;
    let span = args
        .interface
        .as_ref()
        .map_or_else(|| quote!(#wit), |i| quote!(#i));
    let wanted = args
        .interface
        .as_ref()
        .map_or_else(|| iface.wit.clone(), syn::LitStr::value);
    let id = published
        .find_interface(&wanted)
        .map_err(|e| syn::Error::new_spanned(&span, e))?;
    let resolve = &published.resolve;
    let def = &resolve.interfaces[id];
    let (Some(import_name), Some(package)) = (resolve.id_of(id), def.package) else {
        return Err(syn::Error::new_spanned(
            &span,
            "the interface belongs to no package; give the WIT a `package` line",
        ));
    };
    let pkg = &resolve.packages[package].name;
    let module = vec![
        bindgen_ident(&pkg.namespace),
        bindgen_ident(&pkg.name),
        bindgen_ident(def.name.as_deref().unwrap_or_default()),
    ];
    // Two worlds of our own next to the published packages: one exports the
    // interface, to check the trait against it; one imports it, for the
    // plugin side's bindings.
    let ours = format!(
        "package wasm-sandbox:host-interface;\n\
         world check {{ export {import_name}; }}\n\
         world imports {{ import {import_name}; }}\n"
    );
    let bug = |e: String| {
        syn::Error::new_spanned(
            wit,
            format!(
                "wasm-sandbox could not bind the published interface (a bug; please report it): {e}"
            ),
        )
    };
    let ours_pkg = published
        .resolve
        .push_str("host-interface.wit", &ours)
        .map_err(|e| bug(format!("{e:#}")))?;
    let check = published
        .resolve
        .select_world(&[ours_pkg], Some("check"))
        .map_err(|e| bug(format!("{e:#}")))?;
    let mut errors = Errors::default();
    let binding = bind::bind_host_interface(
        &published.resolve,
        check,
        iface,
        types,
        &mut errors,
        &format!("WIT interface `{import_name}`"),
    );
    errors.finish()?;
    let text = published.render(ours_pkg).map_err(bug)?;
    Ok(Target {
        import_name,
        text,
        world_id: "wasm-sandbox:host-interface/imports".to_string(),
        binding,
        module,
        files: published.files.clone(),
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
