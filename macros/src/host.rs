//! Host-side expansion: typed proxies for plugin traits, and linker
//! registration for host interfaces. Everything here is behind
//! `#[cfg(not(target_family = "wasm"))]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use heck::ToSnakeCase;

use crate::iface::{Interface, ResourceDecl, ResourceFn};
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
        if p.ty.handle().is_some() {
            return resource_any();
        }
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
        Some((ty, _)) if ty.handle().is_some() => resource_any(),
        Some((_, rust)) => quote!(#rust),
        None => quote!(()),
    }
}

fn resource_any() -> TokenStream {
    quote!(::wasm_sandbox::__private::ResourceAny)
}

/// Whether a method takes or returns plugin objects.
fn uses_handles(m: &Method) -> bool {
    m.params.iter().any(|p| p.ty.handle().is_some())
        || m.result.as_ref().is_some_and(|(t, _)| t.handle().is_some())
}

/// The trait of a host object parameter (`Page` of `&dyn Page`).
pub(crate) fn host_trait_path(h: &crate::model::Handle) -> TokenStream {
    let Some(ty) = &h.host_type else {
        return quote!(::core::any::Any);
    };
    let syn::Type::TraitObject(obj) = &**ty else {
        return quote!(#ty);
    };
    obj.bounds
        .iter()
        .find_map(|b| match b {
            syn::TypeParamBound::Trait(tb)
                if tb
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident != "Send" && s.ident != "Sync") =>
            {
                let path = &tb.path;
                Some(quote!(#path))
            }
            _ => None,
        })
        .unwrap_or_else(|| quote!(::core::any::Any))
}

/// The generated handle type of the resource `rust`: `CounterHandle`.
pub(crate) fn handle_ident(rust: &str) -> syn::Ident {
    format_ident!("{}Handle", rust)
}

/// A proxy (or handle) method that takes or returns plugin objects: the
/// call runs on the instance of the objects it is given, and objects it
/// returns are wrapped with the instance they came from.
///
/// `receiver` is the object a handle method is called on (`self.raw`);
/// `proxy` the expression of the proxy.
fn pinned_call(
    m: &Method,
    index: usize,
    export: &str,
    receiver: Option<TokenStream>,
    proxy: &TokenStream,
) -> (Vec<TokenStream>, TokenStream, TokenStream) {
    let mut args = Vec::new();
    let mut pins = Vec::new();
    // Each parameter's value: computed before the call, or (host objects)
    // put into the instance's table by the build closure.
    let mut pre = Vec::new();
    let mut values = Vec::new();
    let mut moved = Vec::new();
    let mut types = Vec::new();
    let mut given = Vec::new();
    if let Some(recv) = &receiver {
        pins.push(quote!(&#recv));
        pre.push(quote!(let __v_self = #recv.__lend();));
        values.push(quote!(__v_self));
        types.push(resource_any());
    }
    for (i, p) in m.params.iter().enumerate() {
        let id = &p.ident;
        let v = format_ident!("__v{}", i);
        match p.ty.handle() {
            Some(h) if h.host_type.is_some() => {
                let path = host_trait_path(h);
                args.push(
                    quote!(#id: impl #path + ::core::marker::Send + ::core::marker::Sync + 'static),
                );
                let put = if h.owned { quote!(give) } else { quote!(lend) };
                let param = i + usize::from(receiver.is_some());
                moved.push(quote!(let #v = __lent.#put(__cx, #id, #param)?;));
                values.push(quote!(#v));
                types.push(resource_any());
            }
            Some(h) => {
                let handle = handle_ident(&h.rust);
                if h.owned {
                    args.push(quote!(#id: #handle<'_, H>));
                    // Lowered from a copy; the handle lets go of the object
                    // only once the call has taken it.
                    given.push(quote!(#id.raw.__given();));
                } else {
                    args.push(quote!(#id: &#handle<'_, H>));
                }
                pins.push(quote!(&#id.raw));
                pre.push(quote!(let #v = #id.raw.__lend();));
                values.push(quote!(#v));
                types.push(resource_any());
            }
            None => {
                args.push(proxy_arg(p));
                let value = proxy_param_value(p);
                pre.push(quote!(let #v = #value;));
                values.push(quote!(#v));
                types.push(proxy_param_type(p));
            }
        }
    }
    let result_ty = result_type(m);
    let makes = m.result.as_ref().is_some_and(|(t, _)| t.handle().is_some());
    let (ret, wrap) = match &m.result {
        Some((ty, _)) if ty.handle().is_some() => {
            let h = ty.handle().expect("checked");
            let handle = handle_ident(&h.rust);
            let wit = &h.wit;
            (
                quote!(#handle<'_, H>),
                quote!(#handle {
                    proxy: #proxy,
                    raw: ::wasm_sandbox::PluginResource::__new(__r, __origin, #wit),
                }),
            )
        }
        Some((_, rust)) => (quote!(#rust), quote!(__r)),
        None => (quote!(()), quote!(__r)),
    };
    let call = if moved.is_empty() {
        quote! {
            ::wasm_sandbox::PluginHost::__call_pinned::<(#(#types,)*), #result_ty>(
                &#proxy.host,
                __pin,
                &#proxy.exports[#index],
                (#(#values,)*),
                #makes,
            )
        }
    } else {
        quote! {
            ::wasm_sandbox::PluginHost::__call_building::<(#(#types,)*), #result_ty, _>(
                &#proxy.host,
                __pin,
                &#proxy.exports[#index],
                move |__cx: &mut ::wasm_sandbox::__private::StoreContextMut<'_>,
                      __lent: &mut ::wasm_sandbox::__private::Lent| {
                    #(#moved)*
                    ::core::result::Result::Ok((#(#values,)*))
                },
                #makes,
            )
        }
    };
    let body = quote! {
        let __pin = ::wasm_sandbox::__private::Pin::__of_all(&[#(#pins),*], #export)?;
        #(#pre)*
        let (__r, __origin) = #call.await?;
        let _ = &__origin;
        #(#given)*
        ::core::result::Result::Ok(#wrap)
    };
    (args, ret, body)
}

/// The typed proxy `<Trait>Plugin<H>` and its blocking twin.
pub(crate) fn proxy(
    vis: &syn::Visibility,
    iface: &Interface,
    bound: &[Bound<'_>],
    resources: &[(&ResourceDecl, Vec<(ResourceFn, Bound<'_>)>)],
    wit_text: &str,
    world_id: &str,
) -> TokenStream {
    let trait_ident = &iface.ident;
    let trait_name = trait_ident.to_string();
    let proxy = format_ident!("{}Plugin", trait_ident);
    let blocking = format_ident!("{}PluginBlocking", trait_ident);
    // Every export the proxy calls: the trait's methods, then each
    // resource's functions.
    let all: Vec<(Option<ResourceFn>, &Bound<'_>)> = bound
        .iter()
        .map(|b| (None, b))
        .chain(
            resources
                .iter()
                .flat_map(|(_, fns)| fns.iter().map(|(k, b)| (Some(*k), b))),
        )
        .collect();
    let n = all.len();

    let checks = all
        .iter()
        .enumerate()
        .map(|(i, (kind, b))| {
            let params = checked_param_types(b.method);
            // A method's receiver is the object, lent; a constructor
            // returns the object.
            let params = match kind {
                Some(ResourceFn::Method) => {
                    let any = resource_any();
                    let syn_params: syn::TypeTuple = syn::parse2(params).expect("a tuple type");
                    let rest = syn_params.elems.iter();
                    quote!((#any, #(#rest,)*))
                }
                _ => params,
            };
            let result = match kind {
                Some(ResourceFn::Constructor) => resource_any(),
                _ => result_type(b.method),
            };
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
        if uses_handles(m) {
            let (args, ret, body) = pinned_call(m, i, &b.export_name, None, &quote!(self));
            let ident = &m.ident;
            let mut docs = m.docs.clone();
            if !docs.is_empty() {
                docs.push(String::new());
            }
            docs.push(format!(
                "Calls the plugin's `{}` export: `{}`. Runs on the instance that made the \
                 objects it is given.",
                b.export_name, b.wit_signature
            ));
            docs.push(String::new());
            docs.push("# Errors".to_string());
            docs.push(String::new());
            docs.push(
                "As `WasmSandbox::call`; `Error::ResourceExpired` when an object's instance is \
                 gone; `Error::ResourcesFromDifferentInstances` when the objects come from \
                 different instances."
                    .to_string(),
            );
            let docs = doc_attrs(&docs);
            return quote! {
                #docs
                pub async fn #ident(&self, #(#args),*) -> ::wasm_sandbox::Result<#ret> {
                    #body
                }
            };
        }
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

    let blocking_methods = bound.iter().enumerate().filter(|(_, b)| !uses_handles(b.method)).map(|(i, b)| {
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

    // Constructors and static functions are the proxy's; methods are the
    // handle's.
    let mut index = bound.len();
    let mut resource_functions = Vec::new();
    let mut handles = Vec::new();
    for (decl, fns) in resources {
        let rust = decl.ident.to_string();
        let handle = handle_ident(&rust);
        let wit = &decl.wit;
        let mut handle_methods = Vec::new();
        for (kind, b) in fns {
            let m = b.method;
            let i = index;
            index += 1;
            let mut docs = m.docs.clone();
            if !docs.is_empty() {
                docs.push(String::new());
            }
            docs.push(format!(
                "Calls the plugin's `{}`: `{}`.",
                b.export_name, b.wit_signature
            ));
            docs.push(String::new());
            docs.push("# Errors".to_string());
            docs.push(String::new());
            docs.push(
                "As `WasmSandbox::call`, and `Error::ResourceExpired` when the object's instance \
                 is gone."
                    .to_string(),
            );
            let docs = doc_attrs(&docs);
            match kind {
                ResourceFn::Constructor => {
                    let name = format_ident!("new_{}", rust.to_snake_case());
                    let mut ctor = m.clone();
                    ctor.result = Some((
                        crate::model::Ty::Handle(crate::model::Handle {
                            rust: rust.clone(),
                            wit: wit.clone(),
                            owned: true,
                            host_type: None,
                        }),
                        syn::parse_quote!(Self),
                    ));
                    let (args, ret, body) =
                        pinned_call(&ctor, i, &b.export_name, None, &quote!(self));
                    resource_functions.push(quote! {
                        #docs
                        pub async fn #name(&self, #(#args),*) -> ::wasm_sandbox::Result<#ret> {
                            #body
                        }
                    });
                }
                ResourceFn::Static => {
                    let name = format_ident!(
                        "{}_{}",
                        rust.to_snake_case(),
                        m.ident.to_string().trim_start_matches("r#")
                    );
                    let (args, ret, body) = pinned_call(m, i, &b.export_name, None, &quote!(self));
                    resource_functions.push(quote! {
                        #docs
                        pub async fn #name(&self, #(#args),*) -> ::wasm_sandbox::Result<#ret> {
                            #body
                        }
                    });
                }
                ResourceFn::Method => {
                    let ident = &m.ident;
                    let (args, ret, body) = pinned_call(
                        m,
                        i,
                        &b.export_name,
                        Some(quote!(self.raw)),
                        &quote!(self.proxy),
                    );
                    handle_methods.push(quote! {
                        #docs
                        pub async fn #ident(&self, #(#args),*) -> ::wasm_sandbox::Result<#ret> {
                            #body
                        }
                    });
                }
            }
        }
        let mut doc = vec![format!(
            "A `{wit}` object the plugin made, generated by `#[sandbox_plugin]` from \
             `type {rust}` of [`{trait_name}`]."
        )];
        if !decl.docs.is_empty() {
            doc.push(String::new());
            doc.extend(decl.docs.iter().cloned());
        }
        doc.push(String::new());
        doc.push(
            "Its methods call the plugin, on the instance that made the object. Dropping the \
             handle releases the object before that instance's next call; `close().await` \
             releases it at once. Once that instance is gone (a trap, a limit, a reset or a \
             reload), every use is `Error::ResourceExpired`."
                .to_string(),
        );
        let doc = doc_attrs(&doc);
        handles.push(quote! {
            #[cfg(not(target_family = "wasm"))]
            #doc
            #vis struct #handle<'p, H> {
                proxy: &'p #proxy<H>,
                raw: ::wasm_sandbox::PluginResource,
            }

            #[cfg(not(target_family = "wasm"))]
            impl<H> ::core::fmt::Debug for #handle<'_, H> {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(::core::stringify!(#handle)).field("raw", &self.raw).finish_non_exhaustive()
                }
            }

            #[cfg(not(target_family = "wasm"))]
            #[automatically_derived]
            impl<'p, H: ::wasm_sandbox::PluginHost> #handle<'p, H> {
                /// The untyped handle underneath.
                pub fn raw(&self) -> &::wasm_sandbox::PluginResource {
                    &self.raw
                }

                /// Whether the instance that made the object still exists.
                pub fn is_alive(&self) -> bool {
                    self.raw.is_alive()
                }

                /// Releases the object now: the plugin's destructor runs on the
                /// instance that made it, under the call deadline.
                ///
                /// # Errors
                ///
                /// `Error::ResourceExpired` when that instance is gone (the
                /// object went with it); a trap or limit of the destructor.
                pub async fn close(self) -> ::wasm_sandbox::Result<()> {
                    ::wasm_sandbox::PluginHost::__release(&self.proxy.host, self.raw).await
                }

                #(#handle_methods)*
            }
        });
    }

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

            #(#resource_functions)*
        }

        #(#handles)*

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

/// The host-side registration of a host interface's objects (resources the
/// host implements) and of its functions that take or return them. Objects
/// live in the instance's resource table; a plugin holds handles the
/// component model checks (it cannot name an entry it was not given), and
/// the table goes with the instance.
fn host_object_functions(iface: &Interface, import_name: &str) -> TokenStream {
    let trait_ident = &iface.ident;
    let p = quote!(::wasm_sandbox::__private);
    let w = quote!(::wasm_sandbox::__private::wasmtime::component);
    let mut out = Vec::new();
    // The WASM-facing type of a parameter or result.
    let wasm_ty = |ty: &crate::model::Ty, rust: &syn::Type, passing: Passing| -> TokenStream {
        if let Some(h) = ty.handle() {
            let assoc = format_ident!("{}", h.rust);
            return quote!(#w::Resource<<T as #trait_ident>::#assoc>);
        }
        match passing {
            Passing::Owned => quote!(#rust),
            Passing::Str => quote!(::std::string::String),
            Passing::Slice => {
                let syn::Type::Reference(r) = rust else {
                    return quote!(#rust);
                };
                let syn::Type::Slice(sl) = &*r.elem else {
                    return quote!(#rust);
                };
                let elem = &sl.elem;
                quote!(::std::vec::Vec<#elem>)
            }
        }
    };
    // One function: `receiver` is the object of a method; `call` the
    // implementation, given the arguments.
    let func = |wit_name: String,
                m: &Method,
                receiver: Option<&syn::Ident>,
                call: &dyn Fn(Option<TokenStream>, Vec<TokenStream>) -> TokenStream,
                result_object: Option<&syn::Ident>| {
        let mut tys = Vec::new();
        let mut names = Vec::new();
        let mut prep = Vec::new();
        let mut args = Vec::new();
        if let Some(assoc) = receiver {
            tys.push(quote!(#w::Resource<<T as #trait_ident>::#assoc>));
            names.push(format_ident!("__this"));
        }
        for (i, pm) in m.params.iter().enumerate() {
            let n = format_ident!("__a{}", i);
            tys.push(wasm_ty(&pm.ty, &pm.rust, pm.passing));
            names.push(n.clone());
            match pm.ty.handle() {
                Some(h) if h.owned => {
                    // Given by the plugin: out of the table, to the host.
                    prep.insert(0, quote!(let #n = __table.delete(#n)?;));
                    args.push(quote!(#n));
                }
                Some(_) => {
                    let b = format_ident!("__b{}", i);
                    prep.push(quote!(let #b = __table.get(&#n)?;));
                    args.push(quote!(#b));
                }
                None => match pm.passing {
                    Passing::Owned => args.push(quote!(#n)),
                    Passing::Str | Passing::Slice => args.push(quote!(&#n)),
                },
            }
        }
        let this = receiver.map(|_| {
            prep.push(quote!(let __this = __table.get(&__this)?;));
            quote!(__this)
        });
        let (ret_ty, ret_val) = match (&m.result, result_object) {
            (_, Some(assoc)) => (
                quote!((#w::Resource<<T as #trait_ident>::#assoc>,)),
                quote!((__cx.data_mut().__table().push(__r)?,)),
            ),
            (Some((_, rust)), None) => (quote!((#rust,)), quote!((__r,))),
            (None, None) => (quote!(()), quote!(())),
        };
        let call = call(this, args);
        quote! {
            {
                let __imp = ::std::sync::Arc::clone(&imp);
                __inst.func_wrap(
                    #wit_name,
                    move |mut __cx: #p::StoreContextMut<'_>,
                          (#(#names,)*): (#(#tys,)*)|
                          -> #p::wasmtime::Result<#ret_ty> {
                        // The policy check and the audit event, first.
                        #p::host_call(&mut __cx, #import_name, #wit_name, || ())?;
                        let __r = {
                            let __table = __cx.data_mut().__table();
                            #(#prep)*
                            #p::host_catch(#import_name, #wit_name, || #call)?
                        };
                        let _ = &__imp;
                        ::core::result::Result::Ok(#ret_val)
                    },
                )?;
            }
        }
    };
    for decl in &iface.resources {
        let Some(def) = &decl.def else {
            continue;
        };
        let assoc = &decl.ident;
        let bound = &decl.bound;
        let wit = &decl.wit;
        out.push(quote! {
            __inst.resource(
                #wit,
                #w::ResourceType::host::<<T as #trait_ident>::#assoc>(),
                |mut __cx: #p::StoreContextMut<'_>, __rep: u32| {
                    // The plugin dropped its handle: the object goes.
                    __cx.data_mut()
                        .__table()
                        .delete(#w::Resource::<<T as #trait_ident>::#assoc>::new_own(__rep))?;
                    ::core::result::Result::Ok(())
                },
            )?;
        });
        for (kind, m) in def.functions() {
            let ident = &m.ident;
            let wit_name = kind.wit_name(wit, &m.wit);
            let f = match kind {
                ResourceFn::Constructor => func(
                    wit_name,
                    m,
                    None,
                    &|_, args: Vec<TokenStream>| quote!(<<T as #trait_ident>::#assoc as #bound>::#ident(#(#args),*)),
                    Some(assoc),
                ),
                ResourceFn::Method => func(
                    wit_name,
                    m,
                    Some(assoc),
                    &|this: Option<TokenStream>, args: Vec<TokenStream>| quote!(<<T as #trait_ident>::#assoc as #bound>::#ident(#this, #(#args),*)),
                    None,
                ),
                ResourceFn::Static => func(
                    wit_name,
                    m,
                    None,
                    &|_, args: Vec<TokenStream>| quote!(<<T as #trait_ident>::#assoc as #bound>::#ident(#(#args),*)),
                    None,
                ),
            };
            out.push(f);
        }
    }
    for m in iface.methods.iter().filter(|m| uses_handles(m)) {
        let ident = &m.ident;
        let result_object = m
            .result
            .as_ref()
            .and_then(|(t, _)| t.handle())
            .map(|h| format_ident!("{}", h.rust));
        let f = func(
            m.wit.clone(),
            m,
            None,
            &|_, args: Vec<TokenStream>| quote!(#trait_ident::#ident(&*__imp, #(#args),*)),
            result_object.as_ref(),
        );
        out.push(f);
    }
    quote!(#(#out)*)
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
    let object_funcs = host_object_functions(iface, import_name);
    let funcs = iface.methods.iter().filter(|m| !uses_handles(m)).map(|m| {
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
    let where_objects = if iface.resources.is_empty() {
        quote!()
    } else {
        let bounds = iface.resources.iter().map(|r| {
            let assoc = &r.ident;
            quote!(<T as #trait_ident>::#assoc: ::core::marker::Send + ::core::marker::Sync + 'static)
        });
        quote!(where #(#bounds),*)
    };
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
            pub fn new<T: #trait_ident + ::core::marker::Send + ::core::marker::Sync + 'static>(imp: T) -> Self
            #where_objects
            {
                let imp = ::std::sync::Arc::new(imp);
                let inner = ::wasm_sandbox::HostInterface::__new(
                    #import_name,
                    &[#(#async_names),*],
                    move |__linker: &mut ::wasm_sandbox::__private::Linker| {
                        let mut __inst = __linker.instance(#import_name)?;
                        #object_funcs
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
