//! Plugin-side expansion (`wasm32` targets): the `export!` glue of plugin
//! traits and the callable handle of host interfaces.
//!
//! wit-bindgen generates the canonical-ABI code from the world's WIT; the
//! code here converts between wit-bindgen's types and the user's
//! `PluginType`s. The conversions never name a user type: they go through
//! `FromParts` (implemented by `#[derive(PluginType)]`), with every type
//! inferred from the trait method's signature. That is what lets the export
//! glue expand inside the plugin crate, where the interface crate's types are
//! not in scope.

use std::collections::HashMap;

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::bind::{Binding, Location, path_tokens};
use crate::iface::Interface;
use crate::model::{Passing, Payload, Ty, TypeDef, TypeKind, bindgen_ident, bindgen_type};

/// What the conversions need to know.
pub(crate) struct Conv<'a> {
    pub(crate) root: TokenStream,
    pub(crate) binding: &'a Binding,
    pub(crate) types: HashMap<String, &'a TypeDef>,
}

fn private() -> TokenStream {
    quote!(::wasm_sandbox_guest::__private)
}

fn sum(n: usize, k: usize) -> TokenStream {
    let p = private();
    let ty = format_ident!("Sum{}", n);
    let case = format_ident!("C{}", k);
    quote!(#p::#ty::#case)
}

impl Conv<'_> {
    fn binding_path(&self, name: &str) -> TokenStream {
        match self.binding.types.get(name) {
            Some(b) => b.tokens(&self.root),
            None => {
                let msg = format!("wasm-sandbox: no binding for `{name}`");
                quote!(::core::compile_error!(#msg))
            }
        }
    }

    /// The Rust type wit-bindgen uses for `ty`.
    pub(crate) fn binding_ty(&self, ty: &Ty) -> TokenStream {
        match ty {
            Ty::Bool => quote!(bool),
            Ty::U8 => quote!(u8),
            Ty::U16 => quote!(u16),
            Ty::U32 => quote!(u32),
            Ty::U64 => quote!(u64),
            Ty::S8 => quote!(i8),
            Ty::S16 => quote!(i16),
            Ty::S32 => quote!(i32),
            Ty::S64 => quote!(i64),
            Ty::F32 => quote!(f32),
            Ty::F64 => quote!(f64),
            Ty::Char => quote!(char),
            Ty::String => quote!(::std::string::String),
            Ty::List(t) => {
                let t = self.binding_ty(t);
                quote!(::std::vec::Vec<#t>)
            }
            Ty::Option(t) => {
                let t = self.binding_ty(t);
                quote!(::core::option::Option<#t>)
            }
            Ty::Result(ok, err) => {
                let ok = ok.as_ref().map_or(quote!(()), |t| self.binding_ty(t));
                let err = err.as_ref().map_or(quote!(()), |t| self.binding_ty(t));
                quote!(::core::result::Result<#ok, #err>)
            }
            Ty::Tuple(ts) => {
                let ts = ts.iter().map(|t| self.binding_ty(t));
                quote!((#(#ts,)*))
            }
            Ty::Named(n) => self.binding_path(n),
            Ty::Handle(h) if h.host_type.is_some() => {
                let t = path_tokens(&self.root, &self.resource_path(&h.rust));
                if h.owned { t } else { quote!(&#t) }
            }
            Ty::Handle(h) => {
                let path = self.resource_path(&h.rust);
                if h.owned {
                    path_tokens(&self.root, &path)
                } else {
                    let mut path = path;
                    if let Some(last) = path.last_mut() {
                        last.push_str("Borrow");
                    }
                    let t = path_tokens(&self.root, &path);
                    quote!(#t<'_>)
                }
            }
        }
    }

    /// The path (from the bindings' root) of the type wit-bindgen generates
    /// for the resource of associated type `rust`.
    fn resource_path(&self, rust: &str) -> Vec<String> {
        self.binding
            .resources
            .iter()
            .find(|r| r.rust == rust)
            .map(|r| r.path.clone())
            .unwrap_or_else(|| vec![format!("__wasm_sandbox_no_binding_for_{rust}")])
    }

    /// Converts `expr` (a wit-bindgen value of type `ty`) into the user's
    /// value; the target type is inferred.
    pub(crate) fn to_user(&self, expr: TokenStream, ty: &Ty) -> TokenStream {
        if ty.is_plain() {
            return expr;
        }
        let p = private();
        match ty {
            Ty::Handle(h) if h.host_type.is_some() => {
                let shim = host_object_shim(&h.rust);
                if h.owned {
                    quote!(<$plugin as $($trait)*>::#shim(#expr.take_handle(), true))
                } else {
                    quote!(&*<$plugin as $($trait)*>::#shim(#expr.handle(), false))
                }
            }
            Ty::Handle(h) => {
                let adapter = resource_adapter(&h.rust);
                if h.owned {
                    quote!(#expr.into_inner::<#adapter>().0)
                } else {
                    quote!(&#expr.get::<#adapter>().0)
                }
            }
            Ty::List(t) => {
                let inner = self.to_user(quote!(__x), t);
                quote!(::core::iter::Iterator::collect(::core::iter::Iterator::map(
                    ::core::iter::IntoIterator::into_iter(#expr),
                    |__x| #inner,
                )))
            }
            Ty::Option(t) => {
                let inner = self.to_user(quote!(__x), t);
                quote!(::core::option::Option::map(#expr, |__x| #inner))
            }
            Ty::Result(ok, err) => {
                let ok = ok
                    .as_ref()
                    .map_or(quote!(()), |t| self.to_user(quote!(__x), t));
                let err = err
                    .as_ref()
                    .map_or(quote!(()), |t| self.to_user(quote!(__x), t));
                quote!(match #expr {
                    ::core::result::Result::Ok(__x) => ::core::result::Result::Ok({ let _ = &__x; #ok }),
                    ::core::result::Result::Err(__x) => ::core::result::Result::Err({ let _ = &__x; #err }),
                })
            }
            Ty::Tuple(ts) => {
                let names: Vec<_> = (0..ts.len()).map(|i| format_ident!("__t{}", i)).collect();
                let convs = ts
                    .iter()
                    .zip(&names)
                    .map(|(t, n)| self.to_user(quote!(#n), t));
                quote!({ let (#(#names,)*) = #expr; (#(#convs,)*) })
            }
            Ty::Named(n) => {
                let Some(def) = self.types.get(n) else {
                    return quote!(::core::compile_error!("wasm-sandbox: unknown type"));
                };
                let path = self.binding_path(n);
                match &def.kind {
                    TypeKind::Record(fields) => {
                        let convs = fields.iter().map(|f| {
                            let name = format_ident!("{}", bindgen_ident(&f.wit));
                            self.to_user(quote!(__v.#name), &f.ty)
                        });
                        quote!({
                            let __v: #path = #expr;
                            #p::FromParts::from_parts((#(#convs,)*))
                        })
                    }
                    TypeKind::Enum(cases) => {
                        let arms = cases.iter().enumerate().map(|(i, c)| {
                            let case = format_ident!("{}", bindgen_type(&c.wit));
                            let i = i as u32;
                            quote!(#path::#case => #i)
                        });
                        quote!(#p::FromParts::from_parts(match #expr { #(#arms,)* }))
                    }
                    TypeKind::Variant(cases) => {
                        let n = cases.len();
                        let arms = cases.iter().enumerate().map(|(k, c)| {
                            let case = format_ident!("{}", bindgen_type(&c.wit));
                            let ctor = sum(n, k);
                            match &c.payload {
                                Payload::None => quote!(#path::#case => #ctor(())),
                                Payload::Single(t, _) => {
                                    let v = self.to_user(quote!(__x), t);
                                    quote!(#path::#case(__x) => #ctor((#v,)))
                                }
                                Payload::Tuple(ts) => {
                                    let names: Vec<_> =
                                        (0..ts.len()).map(|i| format_ident!("__t{}", i)).collect();
                                    let convs = ts
                                        .iter()
                                        .zip(&names)
                                        .map(|((t, _), nm)| self.to_user(quote!(#nm), t));
                                    quote!(#path::#case((#(#names,)*)) => #ctor((#(#convs,)*)))
                                }
                                Payload::Struct(fields) => {
                                    let convs = fields.iter().map(|f| {
                                        let name = format_ident!("{}", bindgen_ident(&f.wit));
                                        self.to_user(quote!(__x.#name), &f.ty)
                                    });
                                    quote!(#path::#case(__x) => #ctor((#(#convs,)*)))
                                }
                            }
                        });
                        quote!(#p::FromParts::from_parts(match #expr { #(#arms,)* }))
                    }
                }
            }
            _ => expr,
        }
    }

    /// Converts `expr` (a user value of type `ty`) into wit-bindgen's value.
    pub(crate) fn to_binding(&self, expr: TokenStream, ty: &Ty) -> TokenStream {
        if ty.is_plain() {
            return expr;
        }
        let p = private();
        match ty {
            Ty::Handle(h) => {
                let adapter = resource_adapter(&h.rust);
                let path = path_tokens(&self.root, &self.resource_path(&h.rust));
                quote!(#path::new(#adapter(#expr)))
            }
            Ty::List(t) => {
                let inner = self.to_binding(quote!(__x), t);
                let bty = self.binding_ty(t);
                quote!(::core::iter::Iterator::collect::<::std::vec::Vec<#bty>>(
                    ::core::iter::Iterator::map(::core::iter::IntoIterator::into_iter(#expr), |__x| #inner),
                ))
            }
            Ty::Option(t) => {
                let inner = self.to_binding(quote!(__x), t);
                quote!(::core::option::Option::map(#expr, |__x| #inner))
            }
            Ty::Result(ok, err) => {
                let ok = ok
                    .as_ref()
                    .map_or(quote!(__x), |t| self.to_binding(quote!(__x), t));
                let err = err
                    .as_ref()
                    .map_or(quote!(__x), |t| self.to_binding(quote!(__x), t));
                quote!(match #expr {
                    ::core::result::Result::Ok(__x) => ::core::result::Result::Ok(#ok),
                    ::core::result::Result::Err(__x) => ::core::result::Result::Err(#err),
                })
            }
            Ty::Tuple(ts) => {
                let names: Vec<_> = (0..ts.len()).map(|i| format_ident!("__t{}", i)).collect();
                let convs = ts
                    .iter()
                    .zip(&names)
                    .map(|(t, n)| self.to_binding(quote!(#n), t));
                quote!({ let (#(#names,)*) = #expr; (#(#convs,)*) })
            }
            Ty::Named(n) => {
                let Some(def) = self.types.get(n) else {
                    return quote!(::core::compile_error!("wasm-sandbox: unknown type"));
                };
                let path = self.binding_path(n);
                match &def.kind {
                    TypeKind::Record(fields) => {
                        let names: Vec<_> = (0..fields.len())
                            .map(|i| format_ident!("__f{}", i))
                            .collect();
                        let inits = fields.iter().zip(&names).map(|(f, nm)| {
                            let field = format_ident!("{}", bindgen_ident(&f.wit));
                            let v = self.to_binding(quote!(#nm), &f.ty);
                            quote!(#field: #v)
                        });
                        quote!({
                            let (#(#names,)*) = #p::FromParts::into_parts(#expr);
                            #path { #(#inits,)* }
                        })
                    }
                    TypeKind::Enum(cases) => {
                        let arms = cases.iter().enumerate().map(|(i, c)| {
                            let case = format_ident!("{}", bindgen_type(&c.wit));
                            let i = i as u32;
                            quote!(#i => #path::#case)
                        });
                        quote!(match #p::FromParts::into_parts(#expr) {
                            #(#arms,)*
                            _ => ::core::unreachable!(),
                        })
                    }
                    TypeKind::Variant(cases) => {
                        let n = cases.len();
                        let bound = self.binding.types.get(&def.ident.to_string()).cloned();
                        let arms = cases.iter().enumerate().map(|(k, c)| {
                            let case = format_ident!("{}", bindgen_type(&c.wit));
                            let pat = sum(n, k);
                            match &c.payload {
                                Payload::None => quote!(#pat(()) => #path::#case),
                                Payload::Single(t, _) => {
                                    let v = self.to_binding(quote!(__x), t);
                                    quote!(#pat((__x,)) => #path::#case(#v))
                                }
                                Payload::Tuple(ts) => {
                                    let names: Vec<_> = (0..ts.len()).map(|i| format_ident!("__t{}", i)).collect();
                                    let convs = ts.iter().zip(&names).map(|((t, _), nm)| self.to_binding(quote!(#nm), t));
                                    quote!(#pat((#(#names,)*)) => #path::#case((#(#convs,)*)))
                                }
                                Payload::Struct(fields) => {
                                    let record = bound
                                        .as_ref()
                                        .and_then(|b| b.case_records.get(&c.ident.to_string()))
                                        .map(|rp| path_tokens(&self.root, rp))
                                        .unwrap_or_else(|| {
                                            let msg = format!("wasm-sandbox: no binding for case `{}`", c.ident);
                                            quote!(::core::compile_error!(#msg))
                                        });
                                    let names: Vec<_> = (0..fields.len()).map(|i| format_ident!("__f{}", i)).collect();
                                    let inits = fields.iter().zip(&names).map(|(f, nm)| {
                                        let field = format_ident!("{}", bindgen_ident(&f.wit));
                                        let v = self.to_binding(quote!(#nm), &f.ty);
                                        quote!(#field: #v)
                                    });
                                    quote!(#pat((#(#names,)*)) => #path::#case(#record { #(#inits,)* }))
                                }
                            }
                        });
                        quote!(match #p::FromParts::into_parts(#expr) { #(#arms,)* })
                    }
                }
            }
            _ => expr,
        }
    }
}

/// The `macro_rules!` that `wasm_sandbox_guest::export!` expands to: it
/// generates the bindings in the plugin crate and the adapter from
/// wit-bindgen's `Guest` traits to the user's trait.
pub(crate) fn export_macro(
    iface: &Interface,
    conv: &Conv<'_>,
    wit_text: &str,
    world_id: &str,
) -> TokenStream {
    let macro_name = export_macro_name(&iface.ident);
    let p = private();
    // The pieces of one exported function: its parameter declarations (in
    // wit-bindgen's types), the user's arguments, its return type and the
    // conversion of the user's result.
    let pieces = |m: &crate::model::Method| {
        let params: Vec<_> = (0..m.params.len())
            .map(|i| format_ident!("__a{}", i))
            .collect();
        let decls: Vec<TokenStream> = m
            .params
            .iter()
            .zip(&params)
            .map(|(pm, n)| {
                let t = conv.binding_ty(&pm.ty);
                quote!(#n: #t)
            })
            .collect();
        let args: Vec<TokenStream> = m
            .params
            .iter()
            .zip(&params)
            .map(|(pm, n)| {
                let v = conv.to_user(quote!(#n), &pm.ty);
                match pm.passing {
                    Passing::Owned => v,
                    Passing::Str => quote!(&#v),
                    Passing::Slice => quote!(#p::slice_arg(&#v)),
                }
            })
            .collect();
        let (ret, body) = match &m.result {
            Some((ty, _)) => {
                let t = conv.binding_ty(ty);
                let out = conv.to_binding(quote!(__r), ty);
                (quote!(-> #t), quote!(#out))
            }
            None => (quote!(), quote!(__r)),
        };
        (decls, args, ret, body)
    };
    // Group methods by the Guest trait they implement.
    let mut groups: Vec<(Option<Vec<String>>, Vec<TokenStream>)> = Vec::new();
    let mut group = |module: Option<Vec<String>>, f: TokenStream| match groups
        .iter_mut()
        .find(|(g, _)| *g == module)
    {
        Some((_, fns)) => fns.push(f),
        None => groups.push((module, vec![f])),
    };
    for (m, b) in iface.methods.iter().zip(&conv.binding.methods) {
        let module = match &b.location {
            Location::World => None,
            Location::Interface { module, .. } => Some(module.clone()),
        };
        let fname = format_ident!("{}", bindgen_ident(&b.wit_name));
        let (decls, args, ret, body) = pieces(m);
        let ident = &m.ident;
        group(
            module,
            quote! {
                fn #fname(#(#decls),*) #ret {
                    __Instance::with(|__p| {
                        let __r = <$plugin as $($trait)*>::#ident(__p, #(#args),*);
                        #body
                    })
                }
            },
        );
    }
    // Each plugin object: a local type wrapping the plugin's type, which
    // implements wit-bindgen's `Guest<Resource>` trait through the hidden
    // functions of the plugin trait.
    let mut adapters = Vec::new();
    for (decl, bound) in iface.resources.iter().zip(&conv.binding.resources) {
        let Some(def) = &decl.def else {
            continue;
        };
        let assoc = &decl.ident;
        let adapter = resource_adapter(&assoc.to_string());
        let module = bound.path[..bound.path.len().saturating_sub(1)].to_vec();
        let type_name = bound.path.last().cloned().unwrap_or_default();
        let mut guest_trait = module.clone();
        guest_trait.push(format!("Guest{type_name}"));
        let guest_trait = path_tokens(&quote!(__bindings), &guest_trait);
        let type_ident = format_ident!("{}", type_name);
        group(Some(module), quote!(type #type_ident = #adapter;));
        let fns = def.functions().map(|(kind, m)| {
            let shim = resource_shim(&assoc.to_string(), &m.ident);
            let (decls, args, ret, body) = pieces(m);
            match kind {
                crate::iface::ResourceFn::Constructor => quote! {
                    fn new(#(#decls),*) -> Self {
                        #adapter(<$plugin as $($trait)*>::#shim(#(#args),*))
                    }
                },
                crate::iface::ResourceFn::Method => {
                    let fname = format_ident!("{}", bindgen_ident(&m.wit));
                    quote! {
                        fn #fname(&self, #(#decls),*) #ret {
                            let __r = <$plugin as $($trait)*>::#shim(&self.0, #(#args),*);
                            #body
                        }
                    }
                }
                crate::iface::ResourceFn::Static => {
                    let fname = format_ident!("{}", bindgen_ident(&m.wit));
                    quote! {
                        fn #fname(#(#decls),*) #ret {
                            let __r = <$plugin as $($trait)*>::#shim(#(#args),*);
                            #body
                        }
                    }
                }
            }
        });
        adapters.push(quote! {
            struct #adapter(<$plugin as $($trait)*>::#assoc);

            impl #guest_trait for #adapter {
                #(#fns)*
            }
        });
    }
    let impls = groups.into_iter().map(|(module, fns)| {
        let guest = match module {
            None => quote!(__bindings::Guest),
            Some(path) => {
                let mut full = path.clone();
                full.push("Guest".to_string());
                path_tokens(&quote!(__bindings), &full)
            }
        };
        quote! {
            impl #guest for __Adapter {
                #(#fns)*
            }
        }
    });
    let doc = format!(
        "Exports a plugin type as `{}`; used by `wasm_sandbox_guest::export!`.",
        iface.ident
    );
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[macro_export]
        macro_rules! #macro_name {
            ($plugin:ty, ($($trait:tt)*), $ctor:expr) => {
                #[allow(warnings, clippy::all, unsafe_code, missing_docs)]
                const _: () = {
                    mod __bindings {
                        #p::wit_bindgen::generate!({
                            inline: #wit_text,
                            world: #world_id,
                            runtime_path: "::wasm_sandbox_guest::__private::wit_bindgen::rt",
                            generate_all,
                        });
                    }

                    struct __Instance;

                    impl __Instance {
                        fn with<R>(f: impl ::core::ops::FnOnce(&$plugin) -> R) -> R {
                            ::std::thread_local! {
                                static INSTANCE: ::std::cell::OnceCell<$plugin> =
                                    const { ::std::cell::OnceCell::new() };
                            }
                            INSTANCE.with(|cell| f(cell.get_or_init(|| $ctor)))
                        }
                    }

                    struct __Adapter;

                    #(#impls)*

                    #(#adapters)*

                    __bindings::export!(__Adapter with_types_in __bindings);
                };
            };
        }
    }
}

/// The local type that implements wit-bindgen's `Guest<Resource>` trait for
/// the plugin's type of the resource `rust`.
pub(crate) fn resource_adapter(rust: &str) -> syn::Ident {
    format_ident!("__Resource{}", rust)
}

/// The hidden trait function through which the export glue reaches the
/// resource trait's function `function` of the resource `rust`.
pub(crate) fn resource_shim(rust: &str, function: &syn::Ident) -> syn::Ident {
    format_ident!(
        "__wasm_sandbox_{}_{}",
        rust.to_snake_case(),
        function.to_string().trim_start_matches("r#")
    )
}

/// The hidden function of a plugin trait that makes the plugin-side object
/// of a host object handle (`&dyn Page`), from a raw handle.
pub(crate) fn host_object_shim(rust: &str) -> syn::Ident {
    format_ident!("__wasm_sandbox_host_object_{}", rust.to_snake_case())
}

/// The name of a trait's export macro.
pub(crate) fn export_macro_name(trait_ident: &syn::Ident) -> syn::Ident {
    format_ident!(
        "__wasm_sandbox_export_{}",
        trait_ident.to_string().to_snake_case()
    )
}

/// The plugin-side handle of a host interface: `<Trait>Host`, which
/// implements the trait by calling the host.
pub(crate) fn host_handle(
    vis: &syn::Visibility,
    item: &syn::ItemTrait,
    iface: &Interface,
    conv: &Conv<'_>,
    wit_text: &str,
    world_id: &str,
    import_module: &[String],
) -> TokenStream {
    let trait_ident = &iface.ident;
    let handle = format_ident!("{}Host", trait_ident);
    let module = format_ident!("__wasm_sandbox_{}", trait_ident.to_string().to_snake_case());
    let p = private();
    let import_path = path_tokens(&quote!(#module::bindings), import_module);
    let trait_fns = item.items.iter().filter_map(|ti| match ti {
        syn::TraitItem::Fn(f) => Some(f),
        _ => None,
    });
    // The plugin-side type of each object: the import's resource, owned.
    let object_ident = |rust: &str| format_ident!("{}{}", trait_ident, rust);
    let object_path = |wit: &str| {
        let ty = format_ident!("{}", bindgen_type(wit));
        quote!(#import_path::#ty)
    };
    // A call of an imported function (or resource function `callee`), its
    // arguments converted; objects are passed as the import's resources.
    let call_import = |m: &crate::model::Method, callee: TokenStream, this: Option<TokenStream>| {
        let mut prep = Vec::new();
        let mut args: Vec<TokenStream> = this.into_iter().collect();
        for (i, pm) in m.params.iter().enumerate() {
            let name = format_ident!("__b{}", i);
            let id = &pm.ident;
            match pm.ty.handle() {
                Some(h) if h.owned => args.push(quote!(#id.__into_inner())),
                Some(_) => args.push(quote!(#id.__inner())),
                None => {
                    let value = match pm.passing {
                        Passing::Owned => quote!(#id),
                        Passing::Str => quote!(::std::string::ToString::to_string(#id)),
                        Passing::Slice => quote!(::std::vec::Vec::from(#id)),
                    };
                    let v = conv.to_binding(value, &pm.ty);
                    prep.push(quote!(let #name = #v;));
                    args.push(quote!(#p::ImportArg::import_arg(&#name)));
                }
            }
        }
        let result = match &m.result {
            Some((ty, _)) => match ty.handle() {
                Some(h) => {
                    let obj = object_ident(&h.rust);
                    quote!(#obj::__owned(__r))
                }
                None => conv.to_user(quote!(__r), ty),
            },
            None => quote!(__r),
        };
        quote! {
            #(#prep)*
            let __r = #callee(#(#args),*);
            #result
        }
    };
    let fns: Vec<TokenStream> = iface
        .methods
        .iter()
        .zip(trait_fns)
        .map(|(m, f)| {
            let sig = &f.sig;
            let fname = format_ident!("{}", bindgen_ident(&m.wit));
            let body = call_import(m, quote!(#import_path::#fname), None);
            quote! {
                #sig {
                    #body
                }
            }
        })
        .collect();
    let mut assoc_types = Vec::new();
    let mut objects = Vec::new();
    for decl in &iface.resources {
        let Some(def) = &decl.def else {
            continue;
        };
        let assoc = &decl.ident;
        let obj = object_ident(&assoc.to_string());
        let bound = &decl.bound;
        let path = object_path(&decl.wit);
        assoc_types.push(quote!(type #assoc = #obj;));
        let fns = def.functions().map(|(kind, m)| {
            let ident = &m.ident;
            let params = m.params.iter().map(|pm| {
                let id = &pm.ident;
                let ty = &pm.rust;
                quote!(#id: #ty)
            });
            let ret = match &m.result {
                Some((_, rust)) => quote!(-> #rust),
                None => quote!(),
            };
            let fname = format_ident!("{}", bindgen_ident(&m.wit));
            match kind {
                crate::iface::ResourceFn::Constructor => {
                    let body = call_import(m, quote!(#path::new), None);
                    quote! {
                        fn new(#(#params),*) -> Self {
                            let __r = { #body };
                            Self::__owned(__r)
                        }
                    }
                }
                crate::iface::ResourceFn::Method => {
                    let body = call_import(m, quote!(#path::#fname), Some(quote!(self.__inner())));
                    quote!(fn #ident(&self, #(#params),*) #ret { #body })
                }
                crate::iface::ResourceFn::Static => {
                    let body = call_import(m, quote!(#path::#fname), None);
                    quote!(fn #ident(#(#params),*) #ret { #body })
                }
            }
        });
        let doc = format!(
            " A `{}` object of the host, as the plugin holds it: its methods call the host. \
             Dropping it gives the object back to the host.",
            decl.wit
        );
        objects.push(quote! {
            #[cfg(target_family = "wasm")]
            #[doc = #doc]
            #[derive(Debug)]
            #vis struct #obj {
                inner: ::core::mem::ManuallyDrop<#path>,
                /// Whether dropping this gives the object back (it was
                /// given to the plugin, not lent for one call).
                owned: bool,
            }

            #[cfg(target_family = "wasm")]
            impl ::core::ops::Drop for #obj {
                fn drop(&mut self) {
                    if self.owned {
                        // SAFETY: dropped once, here; never used after.
                        unsafe { ::core::mem::ManuallyDrop::drop(&mut self.inner) }
                    }
                }
            }

            #[cfg(target_family = "wasm")]
            #[allow(unsafe_code)]
            impl #obj {
                fn __owned(inner: #path) -> Self {
                    Self {
                        inner: ::core::mem::ManuallyDrop::new(inner),
                        owned: true,
                    }
                }

                fn __inner(&self) -> &#path {
                    &self.inner
                }

                fn __into_inner(mut self) -> #path {
                    self.owned = false;
                    // SAFETY: `owned` is now false, so `drop` leaves it.
                    unsafe { ::core::mem::ManuallyDrop::take(&mut self.inner) }
                }

                /// The component-model handle (an index into the plugin's
                /// own handle table).
                #[doc(hidden)]
                pub fn __handle(&self) -> u32 {
                    self.inner.handle()
                }

                /// An object from a raw handle index: owned (dropping it
                /// gives the object back), or lent for the current call.
                ///
                /// # Safety
                ///
                /// The handle must be a handle of this resource type that the
                /// plugin holds; a wrong one traps the plugin.
                #[doc(hidden)]
                pub unsafe fn __from_raw(handle: u32, owned: bool) -> Self {
                    Self {
                        inner: ::core::mem::ManuallyDrop::new(unsafe { #path::from_handle(handle) }),
                        owned,
                    }
                }

                /// An owned object from a raw handle index.
                ///
                /// # Safety
                ///
                /// As [`__from_raw`](Self::__from_raw).
                #[doc(hidden)]
                pub unsafe fn __from_handle(handle: u32) -> Self {
                    unsafe { Self::__from_raw(handle, true) }
                }
            }

            #[cfg(target_family = "wasm")]
            #[allow(unsafe_code)]
            impl dyn #bound {
                /// The plugin-side object of a host object handle the
                /// plugin was just given; for the export glue.
                ///
                /// # Safety
                ///
                /// As `__from_raw` of the object type.
                #[doc(hidden)]
                pub unsafe fn __wasm_sandbox_import(
                    handle: u32,
                    owned: bool,
                ) -> ::std::boxed::Box<dyn #bound> {
                    ::std::boxed::Box::new(unsafe { #obj::__from_raw(handle, owned) })
                }
            }

            #[cfg(target_family = "wasm")]
            #[allow(clippy::all)]
            impl #bound for #obj {
                #(#fns)*
            }
        });
    }
    let doc = format!(
        " Calls the host's [`{trait_ident}`]: on the plugin side, this zero-sized handle \
         implements the trait by calling the host's implementation."
    );
    quote! {
        #[cfg(target_family = "wasm")]
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #handle;

        #[cfg(target_family = "wasm")]
        #[doc(hidden)]
        #[allow(warnings, clippy::all, unsafe_code, missing_docs)]
        mod #module {
            pub(super) mod bindings {
                ::wasm_sandbox_guest::__private::wit_bindgen::generate!({
                    inline: #wit_text,
                    world: #world_id,
                    runtime_path: "::wasm_sandbox_guest::__private::wit_bindgen::rt",
                    generate_all,
                });
            }
        }

        #[cfg(target_family = "wasm")]
        #[allow(clippy::all)]
        impl #trait_ident for #handle {
            #(#assoc_types)*
            #(#fns)*
        }

        #(#objects)*
    }
}
