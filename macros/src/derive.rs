//! `#[derive(PluginType)]`.
//!
//! On the host, the type gets wasmtime's `ComponentType`, `Lift` and `Lower`
//! by delegation to a private *mirror* type that wasmtime's own derives
//! handle: a generic struct (or enum) with the same fields in the same order,
//! named as in WIT. Lowering builds the mirror out of references to `self`'s
//! fields (wasmtime lowers `&T` exactly like `T`), lifting builds an owned
//! mirror and moves its fields out, so no value is copied twice. Because the
//! mirror's `Lower` type depends only on the fields' `Lower` types, the owned
//! and borrowed mirrors share one layout and no unsafe casts are needed.
//!
//! On `wasm32`, the type gets `FromParts`, which the plugin-side glue uses to
//! convert to and from wit-bindgen's generated types.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Payload, TypeDef, TypeKind};

pub(crate) fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let def = crate::typedef::parse(input)?;
    let host = host(&def);
    let guest = guest(&def);
    let wit_name = &def.wit;
    let ident = &def.ident;
    Ok(quote! {
        #host
        #guest

        #[automatically_derived]
        impl #ident {
            #[doc(hidden)]
            pub const __WASM_SANDBOX_WIT_NAME: &'static str = #wit_name;
        }
    })
}

fn host(def: &TypeDef) -> TokenStream {
    let ident = &def.ident;
    // The generated code reaches wasmtime only through the host crate's
    // re-export, `::wasm_sandbox::__private::wasmtime` (the same crate as
    // `wasm_sandbox::wasmtime`): the user's crate needs no wasmtime
    // dependency of its own, and the types always come from the wasmtime
    // version `wasm-sandbox` was built with. Every path below starts from
    // `wt`, and `wt_attr` makes wasmtime's derives on the mirror use it too.
    let wt = quote!(::wasm_sandbox::__private::wasmtime);
    // `wasmtime::component::__internal` is NOT a stable API: wasmtime marks it
    // `#[doc(hidden)]`, "used by `#[derive(ComponentType, Lift, Lower)]`, but
    // not part of Wasmtime's API stability guarantees". We use it because the
    // hand-written `ComponentType`/`Lift`/`Lower` impls below must spell out
    // the traits' method signatures and associated const, whose types live
    // only there; wasmtime's own derive names them through this same path.
    // The items our code names directly:
    //   - `CanonicalAbiInfo`: the type of `ComponentType::ABI`;
    //   - `InterfaceType`: the component type passed to `typecheck`, and the
    //     `ty` of every lower/lift method;
    //   - `InstanceType`: the type information passed to `typecheck`;
    //   - `LowerContext`: the context of `Lower::linear_lower_to_flat` and
    //     `Lower::linear_lower_to_memory`;
    //   - `LiftContext`: the context of `Lift::linear_lift_from_flat` and
    //     `Lift::linear_lift_from_memory`.
    // (wasmtime's derives on the mirror use more `__internal` items, such as
    // `typecheck_record` or `lower_payload`, but that macro ships with the
    // same wasmtime release, so it always matches.)
    // The risk: any wasmtime release may rename or re-shape these items or
    // the trait methods. The workspace pins wasmtime to 48.x
    // (`wasmtime = "48.0.8"` in `[workspace.dependencies]`); an upgrade must
    // re-check this derive. Every build of `example-plugins/interfaces`
    // type-checks the generated impls, and the end-to-end tests pass
    // PluginTypes across the boundary with them, so a mismatch fails there.
    let internal = quote!(#wt::component::__internal);
    let mirror = format_ident!("PluginTypeMirror");
    let derives = quote! {
        #[derive(#wt::component::ComponentType, #wt::component::Lift, #wt::component::Lower)]
    };
    let wt_attr = quote!(#[component(wasmtime_crate = ::wasm_sandbox::__private::wasmtime)]);

    // (mirror definition, owned mirror type, borrowed mirror value from &self, user value from owned mirror `m`)
    let (defs, owned_ty, borrowed, from_owned) = match &def.kind {
        TypeKind::Record(fields) => {
            let generics: Vec<_> = (0..fields.len()).map(|i| format_ident!("T{}", i)).collect();
            let decls = fields.iter().zip(&generics).map(|(f, g)| {
                let name = &f.wit;
                let id = &f.ident;
                quote!(#[component(name = #name)] #id: #g)
            });
            let tys = fields.iter().map(|f| &f.rust);
            let refs = fields.iter().map(|f| {
                let id = &f.ident;
                quote!(#id: &self.#id)
            });
            let moves = fields.iter().map(|f| {
                let id = &f.ident;
                quote!(#id: m.#id)
            });
            (
                quote! {
                    #derives
                    #[component(record)]
                    #wt_attr
                    pub struct #mirror<#(#generics),*> { #(#decls),* }
                },
                quote!(#mirror<#(#tys),*>),
                quote!(#mirror { #(#refs),* }),
                quote!(#ident { #(#moves),* }),
            )
        }
        TypeKind::Enum(cases) => {
            let repr = match cases.len() {
                0..=256 => quote!(u8),
                257..=65536 => quote!(u16),
                _ => quote!(u32),
            };
            // Mirror cases are named `C0`, `C1`, .. so that a user case
            // called, say, `Lower` cannot clash with `Self::Lower`.
            let decls = cases.iter().enumerate().map(|(k, c)| {
                let name = &c.wit;
                let mid = format_ident!("C{}", k);
                quote!(#[component(name = #name)] #mid)
            });
            let to = cases.iter().enumerate().map(|(k, c)| {
                let id = &c.ident;
                let mid = format_ident!("C{}", k);
                quote!(#ident::#id => #mirror::#mid)
            });
            let from = cases.iter().enumerate().map(|(k, c)| {
                let id = &c.ident;
                let mid = format_ident!("C{}", k);
                quote!(#mirror::#mid => #ident::#id)
            });
            (
                quote! {
                    #derives
                    #[component(enum)]
                    #wt_attr
                    #[repr(#repr)]
                    #[derive(Clone, Copy)]
                    pub enum #mirror { #(#decls),* }
                },
                quote!(#mirror),
                quote!(match self { #(#to),* }),
                quote!(match m { #(#from),* }),
            )
        }
        TypeKind::Variant(cases) => {
            let mut generics = Vec::new();
            let mut decls = Vec::new();
            let mut owned_args = Vec::new();
            let mut ref_args = Vec::new();
            let mut aux = Vec::new();
            let mut to = Vec::new();
            let mut from = Vec::new();
            for (k, c) in cases.iter().enumerate() {
                let name = &c.wit;
                let id = &c.ident;
                let mid = format_ident!("C{}", k);
                let g = format_ident!("T{}", k);
                match &c.payload {
                    Payload::None => {
                        decls.push(quote!(#[component(name = #name)] #mid));
                        to.push(quote!(#ident::#id => #mirror::#mid));
                        from.push(quote!(#mirror::#mid => #ident::#id));
                    }
                    Payload::Single(_, rust) => {
                        generics.push(g.clone());
                        decls.push(quote!(#[component(name = #name)] #mid(#g)));
                        owned_args.push(quote!(#rust));
                        ref_args.push(quote!(&'_ #rust));
                        to.push(quote!(#ident::#id(x) => #mirror::#mid(x)));
                        from.push(quote!(#mirror::#mid(x) => #ident::#id(x)));
                    }
                    Payload::Tuple(tys) => {
                        generics.push(g.clone());
                        decls.push(quote!(#[component(name = #name)] #mid(#g)));
                        let owned = tys.iter().map(|(_, r)| r);
                        let refd = tys.iter().map(|(_, r)| quote!(&'_ #r));
                        owned_args.push(quote!((#(#owned,)*)));
                        ref_args.push(quote!((#(#refd,)*)));
                        let names: Vec<_> =
                            (0..tys.len()).map(|i| format_ident!("x{}", i)).collect();
                        to.push(quote!(#ident::#id(#(#names),*) => #mirror::#mid((#(#names,)*))));
                        from.push(quote!(#mirror::#mid((#(#names,)*)) => #ident::#id(#(#names),*)));
                    }
                    Payload::Struct(fields) => {
                        generics.push(g.clone());
                        decls.push(quote!(#[component(name = #name)] #mid(#g)));
                        let aux_name = format_ident!("PluginTypeCase{}", k);
                        let aux_generics: Vec<_> =
                            (0..fields.len()).map(|i| format_ident!("A{}", i)).collect();
                        let aux_decls = fields.iter().zip(&aux_generics).map(|(f, ag)| {
                            let fname = &f.wit;
                            let fid = &f.ident;
                            quote!(#[component(name = #fname)] #fid: #ag)
                        });
                        aux.push(quote! {
                            #derives
                            #[component(record)]
                            #wt_attr
                            pub struct #aux_name<#(#aux_generics),*> { #(#aux_decls),* }
                        });
                        let owned = fields.iter().map(|f| &f.rust);
                        let refd = fields.iter().map(|f| {
                            let r = &f.rust;
                            quote!(&'_ #r)
                        });
                        owned_args.push(quote!(#aux_name<#(#owned),*>));
                        ref_args.push(quote!(#aux_name<#(#refd),*>));
                        let fids: Vec<_> = fields.iter().map(|f| &f.ident).collect();
                        to.push(quote!(#ident::#id { #(#fids),* } => #mirror::#mid(#aux_name { #(#fids),* })));
                        from.push(quote!(#mirror::#mid(#aux_name { #(#fids),* }) => #ident::#id { #(#fids),* }));
                    }
                }
            }
            (
                quote! {
                    #derives
                    #[component(variant)]
                    #wt_attr
                    pub enum #mirror<#(#generics),*> { #(#decls),* }
                    #(#aux)*
                },
                quote!(#mirror<#(#owned_args),*>),
                {
                    quote!({
                        let m: #mirror<#(#ref_args),*> = match self { #(#to),* };
                        m
                    })
                },
                quote!(match m { #(#from),* }),
            )
        }
    };

    // Both name `__internal::{LowerContext, InterfaceType}`: see the comment
    // on `internal` above.
    let flat_sig = quote!(fn linear_lower_to_flat<U>(&self, cx: &mut #internal::LowerContext<'_, U>, ty: #internal::InterfaceType, dst: &mut ::core::mem::MaybeUninit<<Self as #wt::component::ComponentType>::Lower>) -> #wt::Result<()>);
    let mem_sig = quote!(fn linear_lower_to_memory<U>(&self, cx: &mut #internal::LowerContext<'_, U>, ty: #internal::InterfaceType, offset: usize) -> #wt::Result<()>);

    quote! {
        #[cfg(not(target_family = "wasm"))]
        #[allow(unsafe_code, non_camel_case_types, clippy::all)]
        const _: () = {
            #defs

            // SAFETY: every item delegates to the mirror, whose impls come
            // from wasmtime's derive; `Self::Lower` is the mirror's `Lower`.
            // Names `__internal::{CanonicalAbiInfo, InterfaceType,
            // InstanceType}`, which are not a stable wasmtime API: see the
            // comment on `internal` above.
            #[automatically_derived]
            unsafe impl #wt::component::ComponentType for #ident {
                type Lower = <#owned_ty as #wt::component::ComponentType>::Lower;
                const ABI: #internal::CanonicalAbiInfo = <#owned_ty as #wt::component::ComponentType>::ABI;
                const MAY_REQUIRE_REALLOC: bool =
                    <#owned_ty as #wt::component::ComponentType>::MAY_REQUIRE_REALLOC;

                #[inline]
                fn typecheck(ty: &#internal::InterfaceType, types: &#internal::InstanceType<'_>) -> #wt::Result<()> {
                    <#owned_ty as #wt::component::ComponentType>::typecheck(ty, types)
                }
            }

            // SAFETY: lowering delegates to the mirror built from references
            // to `self`'s fields; its `Lower` type is `Self::Lower`.
            // Names `__internal::{LowerContext, InterfaceType}` (in
            // `flat_sig`/`mem_sig`), which are not a stable wasmtime API: see
            // the comment on `internal` above.
            #[automatically_derived]
            unsafe impl #wt::component::Lower for #ident {
                #[inline]
                #flat_sig {
                    let m = #borrowed;
                    #wt::component::Lower::linear_lower_to_flat(&m, cx, ty, dst)
                }

                #[inline]
                #mem_sig {
                    let m = #borrowed;
                    #wt::component::Lower::linear_lower_to_memory(&m, cx, ty, offset)
                }
            }

            // SAFETY: lifting delegates to the owned mirror and moves its
            // fields into `Self`.
            // Names `__internal::{LiftContext, InterfaceType}`, which are not
            // a stable wasmtime API: see the comment on `internal` above.
            #[automatically_derived]
            unsafe impl #wt::component::Lift for #ident {
                #[inline]
                fn linear_lift_from_flat(cx: &mut #internal::LiftContext<'_>, ty: #internal::InterfaceType, src: &<Self as #wt::component::ComponentType>::Lower) -> #wt::Result<Self> {
                    let m = <#owned_ty as #wt::component::Lift>::linear_lift_from_flat(cx, ty, src)?;
                    ::core::result::Result::Ok(#from_owned)
                }

                #[inline]
                fn linear_lift_from_memory(cx: &mut #internal::LiftContext<'_>, ty: #internal::InterfaceType, bytes: &[u8]) -> #wt::Result<Self> {
                    let m = <#owned_ty as #wt::component::Lift>::linear_lift_from_memory(cx, ty, bytes)?;
                    ::core::result::Result::Ok(#from_owned)
                }
            }

            #[automatically_derived]
            impl ::wasm_sandbox::PluginType for #ident {}
        };
    }
}

fn guest(def: &TypeDef) -> TokenStream {
    let ident = &def.ident;
    let p = quote!(::wasm_sandbox_guest::__private);
    let body = match &def.kind {
        TypeKind::Record(fields) => {
            let tys = fields.iter().map(|f| &f.rust);
            let ids: Vec<_> = fields.iter().map(|f| &f.ident).collect();
            quote! {
                type Parts = (#(#tys,)*);
                #[inline]
                fn from_parts(parts: Self::Parts) -> Self {
                    let (#(#ids,)*) = parts;
                    Self { #(#ids),* }
                }
                #[inline]
                fn into_parts(self) -> Self::Parts {
                    (#(self.#ids,)*)
                }
            }
        }
        TypeKind::Enum(cases) => {
            let from = cases.iter().enumerate().map(|(i, c)| {
                let id = &c.ident;
                let i = i as u32;
                quote!(#i => Self::#id)
            });
            let into = cases.iter().enumerate().map(|(i, c)| {
                let id = &c.ident;
                let i = i as u32;
                quote!(Self::#id => #i)
            });
            quote! {
                type Parts = u32;
                #[inline]
                fn from_parts(parts: u32) -> Self {
                    match parts {
                        #(#from,)*
                        _ => ::core::unreachable!("the bindings only produce valid cases"),
                    }
                }
                #[inline]
                fn into_parts(self) -> u32 {
                    match self { #(#into),* }
                }
            }
        }
        TypeKind::Variant(cases) => {
            let n = cases.len();
            let sum = format_ident!("Sum{}", n);
            let mut parts = Vec::new();
            let mut from = Vec::new();
            let mut into = Vec::new();
            for (k, c) in cases.iter().enumerate() {
                let id = &c.ident;
                let case = format_ident!("C{}", k);
                match &c.payload {
                    Payload::None => {
                        parts.push(quote!(()));
                        from.push(quote!(#p::#sum::#case(()) => Self::#id));
                        into.push(quote!(Self::#id => #p::#sum::#case(())));
                    }
                    Payload::Single(_, rust) => {
                        parts.push(quote!((#rust,)));
                        from.push(quote!(#p::#sum::#case((x,)) => Self::#id(x)));
                        into.push(quote!(Self::#id(x) => #p::#sum::#case((x,))));
                    }
                    Payload::Tuple(tys) => {
                        let rs = tys.iter().map(|(_, r)| r);
                        parts.push(quote!((#(#rs,)*)));
                        let names: Vec<_> =
                            (0..tys.len()).map(|i| format_ident!("x{}", i)).collect();
                        from.push(quote!(#p::#sum::#case((#(#names,)*)) => Self::#id(#(#names),*)));
                        into.push(quote!(Self::#id(#(#names),*) => #p::#sum::#case((#(#names,)*))));
                    }
                    Payload::Struct(fields) => {
                        let rs = fields.iter().map(|f| &f.rust);
                        parts.push(quote!((#(#rs,)*)));
                        let ids: Vec<_> = fields.iter().map(|f| &f.ident).collect();
                        from.push(quote!(#p::#sum::#case((#(#ids,)*)) => Self::#id { #(#ids),* }));
                        into.push(quote!(Self::#id { #(#ids),* } => #p::#sum::#case((#(#ids,)*))));
                    }
                }
            }
            quote! {
                type Parts = #p::#sum<#(#parts),*>;
                #[inline]
                fn from_parts(parts: Self::Parts) -> Self {
                    match parts { #(#from),* }
                }
                #[inline]
                fn into_parts(self) -> Self::Parts {
                    match self { #(#into),* }
                }
            }
        }
    };
    quote! {
        #[cfg(target_family = "wasm")]
        #[automatically_derived]
        impl #p::FromParts for #ident {
            #body
        }
    }
}
