//! Host-side expansion: typed proxies for plugin traits, and linker
//! registration for host interfaces. Everything here is behind
//! `#[cfg(not(target_family = "wasm"))]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::iface::Interface;
use crate::model::{Method, Param, Passing, Ty, doc_attrs};

/// Where a method is exported, as the host calls it: `filter` or `math#add`.
pub(crate) struct Bound<'a> {
    pub(crate) method: &'a Method,
    pub(crate) export_name: String,
    pub(crate) wit_signature: String,
}

/// The parameter types a proxy checks the export against when it is
/// loaded, borrowed ones with `'static` lifetimes (lifetimes do not change
/// a component-model type).
fn checked_param_types(m: &Method) -> TokenStream {
    let tys = m.params.iter().map(|p| {
        let rust = &p.rust;
        match p.passing {
            Passing::Str => quote!(&'static str),
            Passing::Slice => {
                let syn::Type::Reference(r) = rust else {
                    return quote!(#rust);
                };
                let elem = &r.elem;
                quote!(&'static #elem)
            }
            Passing::Owned => quote!(#rust),
        }
    });
    quote!((#(#tys,)*))
}

/// How a proxy method takes a parameter the trait declares owned, when the
/// proxy can lower a borrow of it instead: a `String` as any
/// `impl AsRef<str>`, a `Vec<T>` as any `impl AsRef<[T]>`, a record or
/// variant as any `impl Borrow<T>`. The caller keeps what it passes by
/// reference (no clone, and no drop inside the call); passing the owned
/// value still works.
enum Borrowed {
    Str,
    Slice(Box<syn::Type>),
    Named,
}

impl Borrowed {
    fn of(p: &Param) -> Option<Borrowed> {
        if p.passing != Passing::Owned {
            return None;
        }
        match &p.ty {
            Ty::String => Some(Borrowed::Str),
            Ty::List(_) => vec_element(&p.rust).map(|elem| Borrowed::Slice(Box::new(elem))),
            Ty::Named(_) => Some(Borrowed::Named),
            _ => None,
        }
    }
}

/// `T` of a parameter written `Vec<T>`.
fn vec_element(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(elem) if args.args.len() == 1 => Some(elem.clone()),
        _ => None,
    }
}

/// A proxy method's parameter list (`name: type`).
fn proxy_arg(p: &Param) -> TokenStream {
    let id = &p.ident;
    let ty = &p.rust;
    match Borrowed::of(p) {
        Some(Borrowed::Str) => quote!(#id: impl ::core::convert::AsRef<str>),
        Some(Borrowed::Slice(elem)) => quote!(#id: impl ::core::convert::AsRef<[#elem]>),
        Some(Borrowed::Named) => quote!(#id: impl ::core::borrow::Borrow<#ty>),
        None => quote!(#id: #ty),
    }
}

/// The type a proxy method lowers for a parameter.
fn proxy_param_type(p: &Param) -> TokenStream {
    let ty = &p.rust;
    match Borrowed::of(p) {
        Some(Borrowed::Str) => quote!(&str),
        Some(Borrowed::Slice(elem)) => quote!(&[#elem]),
        Some(Borrowed::Named) => quote!(&#ty),
        None => quote!(#ty),
    }
}

/// The value a proxy method lowers for a parameter.
fn proxy_param_value(p: &Param) -> TokenStream {
    let id = &p.ident;
    let ty = &p.rust;
    match Borrowed::of(p) {
        Some(Borrowed::Str) => quote!(::core::convert::AsRef::<str>::as_ref(&#id)),
        Some(Borrowed::Slice(elem)) => quote!(::core::convert::AsRef::<[#elem]>::as_ref(&#id)),
        Some(Borrowed::Named) => quote!(::core::borrow::Borrow::<#ty>::borrow(&#id)),
        None => quote!(#id),
    }
}

fn result_type(m: &Method) -> TokenStream {
    match &m.result {
        Some((_, rust)) => quote!(#rust),
        None => quote!(()),
    }
}

/// The typed proxy `<Trait>Plugin<H>` and its blocking twin.
pub(crate) fn proxy(
    vis: &syn::Visibility,
    iface: &Interface,
    bound: &[Bound<'_>],
    wit_text: &str,
    world_id: &str,
) -> TokenStream {
    let trait_ident = &iface.ident;
    let trait_name = trait_ident.to_string();
    let proxy = format_ident!("{}Plugin", trait_ident);
    let blocking = format_ident!("{}PluginBlocking", trait_ident);
    let n = bound.len();

    let checks = bound
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let params = checked_param_types(b.method);
            let result = result_type(b.method);
            let export = &b.export_name;
            let sig = &b.wit_signature;
            let var = format_ident!("__e{}", i);
            quote! {
                let #var = __check.func::<#params, #result>(#export, #sig);
            }
        })
        .collect::<Vec<_>>();
    let vars: Vec<_> = (0..n).map(|i| format_ident!("__e{}", i)).collect();

    let method_sig = |b: &Bound<'_>| {
        let m = b.method;
        let ident = &m.ident;
        let args = m.params.iter().map(proxy_arg);
        let result = result_type(m);
        (quote!(#ident(&self, #(#args),*)), result)
    };

    let async_methods = bound.iter().enumerate().map(|(i, b)| {
        let m = b.method;
        let (sig, result) = method_sig(b);
        let params = m.params.iter().map(proxy_param_type);
        let params = quote!((#(#params,)*));
        let names = m.params.iter().map(proxy_param_value);
        let mut docs = m.docs.clone();
        if !docs.is_empty() {
            docs.push(String::new());
        }
        docs.push(format!(
            "Calls the plugin's `{}` export: `{}`.",
            b.export_name, b.wit_signature
        ));
        docs.push(String::new());
        docs.push("# Errors".to_string());
        docs.push(String::new());
        docs.push(
            "A trap, a limit or a failed instance start, as for `WasmSandbox::call`.".to_string(),
        );
        let docs = doc_attrs(&docs);
        quote! {
            #docs
            pub async fn #sig -> ::wasm_sandbox::Result<#result> {
                ::wasm_sandbox::PluginHost::__call::<#params, #result>(
                    &self.host,
                    &self.exports[#i],
                    (#(#names,)*),
                )
                .await
            }
        }
    });

    let blocking_methods = bound.iter().enumerate().map(|(i, b)| {
        let m = b.method;
        let (sig, result) = method_sig(b);
        let params = m.params.iter().map(proxy_param_type);
        let params = quote!((#(#params,)*));
        let names = m.params.iter().map(proxy_param_value);
        let doc = format!(
            "Blocking form of [`{proxy}::{}`]: calls `{}`.\n\n# Errors\n\nAs the async form, and \
             `Error::BlockingInAsyncContext` inside an async runtime.",
            m.ident, b.export_name
        );
        quote! {
            #[doc = #doc]
            pub fn #sig -> ::wasm_sandbox::Result<#result> {
                self.sandbox.__call_export::<#params, #result>(&self.exports[#i], (#(#names,)*))
            }
        }
    });

    let proxy_doc = format!(
        " Typed access to a plugin that implements [`{trait_name}`], generated by \
         `#[sandbox_plugin]`.\n\n Create it with [`{proxy}::load`] from a `&WasmSandbox`, an \
         `Arc<WasmSandbox>` or an owned `WasmSandbox`; each method calls the plugin's export of \
         the same name and returns `wasm_sandbox::Result` of the trait method's result."
    );
    let blocking_doc = format!(
        " Blocking twin of [`{proxy}`], over a `BlockingSandbox`, for programs without an async \
         runtime."
    );
    let load_doc = format!(
        " Checks that the plugin exports every function of [`{trait_name}`] with the right \
         types, and wraps `host`.\n\n # Errors\n\n `Error::InterfaceMismatch`, naming each \
         missing or mistyped function with the signature the trait needs and the one the plugin \
         has."
    );

    quote! {
        #[cfg(not(target_family = "wasm"))]
        #[doc = #proxy_doc]
        #vis struct #proxy<H> {
            host: H,
            exports: [::wasm_sandbox::__private::ExportHandle; #n],
        }

        #[cfg(not(target_family = "wasm"))]
        impl<H> ::core::fmt::Debug for #proxy<H> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#proxy)).finish_non_exhaustive()
            }
        }

        #[cfg(not(target_family = "wasm"))]
        #[automatically_derived]
        impl<H: ::wasm_sandbox::PluginHost> #proxy<H> {
            /// The WIT world a plugin must implement, as text.
            pub const WIT: &'static str = #wit_text;
            /// The world's full name (`namespace:package/world@version`).
            pub const WORLD: &'static str = #world_id;

            #[doc = #load_doc]
            pub fn load(host: H) -> ::wasm_sandbox::Result<Self> {
                let exports = {
                    let __exports = ::wasm_sandbox::PluginHost::__exports(&host);
                    let mut __check = ::wasm_sandbox::__private::InterfaceCheck::new(
                        &__exports,
                        #trait_name,
                        #world_id,
                    );
                    #(#checks)*
                    __check.finish()?;
                    [#(#vars),*]
                };
                ::core::result::Result::Ok(Self { host, exports })
            }

            /// The sandbox (or other host) this proxy calls.
            pub fn host(&self) -> &H {
                &self.host
            }

            /// Gives back the sandbox (or other host).
            pub fn into_host(self) -> H {
                self.host
            }

            #(#async_methods)*
        }

        #[cfg(not(target_family = "wasm"))]
        #[doc = #blocking_doc]
        #vis struct #blocking<'a> {
            sandbox: &'a ::wasm_sandbox::BlockingSandbox,
            exports: [::wasm_sandbox::__private::ExportHandle; #n],
        }

        #[cfg(not(target_family = "wasm"))]
        impl ::core::fmt::Debug for #blocking<'_> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#blocking)).finish_non_exhaustive()
            }
        }

        #[cfg(not(target_family = "wasm"))]
        #[automatically_derived]
        impl<'a> #blocking<'a> {
            #[doc = #load_doc]
            pub fn load(sandbox: &'a ::wasm_sandbox::BlockingSandbox) -> ::wasm_sandbox::Result<Self> {
                let mut __check = ::wasm_sandbox::__private::InterfaceCheck::new(
                    sandbox.as_async().__exports(),
                    #trait_name,
                    #world_id,
                );
                #(#checks)*
                __check.finish()?;
                ::core::result::Result::Ok(Self { sandbox, exports: [#(#vars),*] })
            }

            #(#blocking_methods)*
        }
    }
}

/// `<Trait>Host::new(impl)` for a host interface.
pub(crate) fn host_interface(
    vis: &syn::Visibility,
    iface: &Interface,
    import_name: &str,
) -> TokenStream {
    let trait_ident = &iface.ident;
    let host = format_ident!("{}Host", trait_ident);
    let capability = import_name.split('@').next().unwrap_or(import_name);
    let funcs = iface.methods.iter().map(|m| {
        let ident = &m.ident;
        let wit = &m.wit;
        let tys: Vec<TokenStream> = m
            .params
            .iter()
            .map(|p| {
                let rust = &p.rust;
                match p.passing {
                    Passing::Owned => quote!(#rust),
                    Passing::Str => quote!(::std::string::String),
                    Passing::Slice => {
                        let syn::Type::Reference(r) = rust else {
                            return quote!(#rust);
                        };
                        let syn::Type::Slice(s) = &*r.elem else {
                            return quote!(#rust);
                        };
                        let elem = &s.elem;
                        quote!(::std::vec::Vec<#elem>)
                    }
                }
            })
            .collect();
        let names: Vec<_> = (0..m.params.len())
            .map(|i| format_ident!("__a{}", i))
            .collect();
        let args = m.params.iter().zip(&names).map(|(p, n)| match p.passing {
            Passing::Owned => quote!(#n),
            Passing::Str | Passing::Slice => quote!(&#n),
        });
        let (ret_ty, ret_val) = match &m.result {
            Some((_, rust)) => (quote!((#rust,)), quote!((__r,))),
            None => (quote!(()), quote!(())),
        };
        if m.asynchronous {
            let call = quote!(#trait_ident::#ident(&*__imp, #(#args),*).await);
            let answer = match &m.result {
                Some(_) => quote!((#call,)),
                None => call,
            };
            // The arguments move into the future, which lends them to the
            // implementation; the policy check and the audit event happen
            // before the future is made.
            return quote! {
                {
                    let __imp = ::std::sync::Arc::clone(&imp);
                    __inst.func_wrap_async(
                        #wit,
                        move |__cx: ::wasm_sandbox::__private::StoreContextMut<'_>,
                              (#(#names,)*): (#(#tys,)*)| {
                            let __imp = ::std::sync::Arc::clone(&__imp);
                            ::wasm_sandbox::__private::host_call_async(
                                __cx,
                                #import_name,
                                #wit,
                                move || async move { #answer },
                            )
                        },
                    )?;
                }
            };
        }
        quote! {
            {
                let __imp = ::std::sync::Arc::clone(&imp);
                __inst.func_wrap(
                    #wit,
                    move |mut __cx: ::wasm_sandbox::__private::StoreContextMut<'_>,
                          (#(#names,)*): (#(#tys,)*)|
                          -> ::wasm_sandbox::__private::wasmtime::Result<#ret_ty> {
                        let __r = ::wasm_sandbox::__private::host_call(
                            &mut __cx,
                            #import_name,
                            #wit,
                            || #trait_ident::#ident(&*__imp, #(#args),*),
                        )?;
                        ::core::result::Result::Ok(#ret_val)
                    },
                )?;
            }
        }
    });
    let async_names = iface
        .methods
        .iter()
        .filter(|m| m.asynchronous)
        .map(|m| m.wit.as_str());
    let doc = format!(
        " The host side of [`{trait_ident}`]: wraps your implementation so a sandbox can offer \
         it to plugins, which import it as `{import_name}`.\n\n Register it with \
         `SandboxBuilder::host_interface({host}::new(my_impl))`."
    );
    quote! {
        #[cfg(not(target_family = "wasm"))]
        #[doc = #doc]
        #vis struct #host {
            inner: ::wasm_sandbox::HostInterface,
        }

        #[cfg(not(target_family = "wasm"))]
        impl ::core::fmt::Debug for #host {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#host)).field("import", &#import_name).finish()
            }
        }

        #[cfg(not(target_family = "wasm"))]
        #[automatically_derived]
        impl #host {
            /// The name plugins import this interface under.
            pub const IMPORT: &'static str = #import_name;
            /// The name to grant, as `Capability::Custom(..)`, to let plugins call it.
            pub const CAPABILITY: &'static str = #capability;

            /// Wraps `imp`; every plugin call runs `imp`'s method on the host.
            pub fn new<T: #trait_ident + ::core::marker::Send + ::core::marker::Sync + 'static>(imp: T) -> Self {
                let imp = ::std::sync::Arc::new(imp);
                let inner = ::wasm_sandbox::HostInterface::__new(
                    #import_name,
                    &[#(#async_names),*],
                    move |__linker: &mut ::wasm_sandbox::__private::Linker| {
                        let mut __inst = __linker.instance(#import_name)?;
                        #(#funcs)*
                        ::core::result::Result::Ok(())
                    },
                );
                Self { inner }
            }
        }

        #[cfg(not(target_family = "wasm"))]
        impl ::core::convert::From<#host> for ::wasm_sandbox::HostInterface {
            fn from(h: #host) -> Self {
                h.inner
            }
        }
    }
}
