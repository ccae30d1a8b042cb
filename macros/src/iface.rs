//! Reading a `#[sandbox_plugin]` or `#[host_interface]` trait into a model,
//! with every misuse reported at its own token.

use std::collections::HashMap;

use crate::errors::Errors;
use crate::model::{Method, Param, Position, classify, docs, to_wit_name};

/// Which attribute a trait carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Role {
    /// Exported by the plugin, called by the host.
    Plugin,
    /// Provided by the host, called by the plugin.
    Host,
}

impl Role {
    fn attr(self) -> &'static str {
        match self {
            Role::Plugin => "#[sandbox_plugin]",
            Role::Host => "#[host_interface]",
        }
    }
}

/// A trait that is a plugin interface.
#[derive(Clone, Debug)]
pub(crate) struct Interface {
    pub(crate) ident: syn::Ident,
    pub(crate) wit: String,
    pub(crate) methods: Vec<Method>,
    pub(crate) docs: Vec<String>,
}

/// Parses and checks the trait.
pub(crate) fn parse(item: &syn::ItemTrait, role: Role) -> syn::Result<Interface> {
    let attr = role.attr();
    let mut errors = Errors::default();
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            format!(
                "a {attr} trait cannot be generic: its WIT world has one concrete signature per \
                 function; remove the type parameters"
            ),
        ));
    }
    if let Some(unsafety) = &item.unsafety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            format!("a {attr} trait cannot be `unsafe`"),
        ));
    }
    if let Some(auto) = &item.auto_token {
        errors.push(syn::Error::new_spanned(
            auto,
            format!("a {attr} trait cannot be `auto`"),
        ));
    }
    if !item.supertraits.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.supertraits,
            format!(
                "a {attr} trait cannot have supertraits: a WIT world has no inheritance; \
                 declare every function in this trait"
            ),
        ));
    }
    let wit = match to_wit_name(&item.ident) {
        Ok(w) => w,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };

    let mut methods = Vec::new();
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    for trait_item in &item.items {
        match trait_item {
            syn::TraitItem::Fn(f) => match method(f, role) {
                Ok(m) => {
                    if let Some(prev) = seen.insert(m.wit.clone(), m.ident.clone()) {
                        errors.push(syn::Error::new_spanned(
                            &m.ident,
                            format!(
                                "`{}` and `{prev}` both become the WIT function `{}`; \
                                 rename one of them",
                                m.ident, m.wit
                            ),
                        ));
                    }
                    methods.push(m);
                }
                Err(e) => errors.push(e),
            },
            syn::TraitItem::Type(t) => errors.push(syn::Error::new_spanned(
                t,
                format!(
                    "associated types are not supported in a {attr} trait: every type in a WIT \
                     world is concrete; use a concrete type in the signatures instead"
                ),
            )),
            syn::TraitItem::Const(c) => errors.push(syn::Error::new_spanned(
                c,
                format!(
                    "associated constants are not supported in a {attr} trait: WIT worlds \
                     export functions only; make it a method that returns the value"
                ),
            )),
            other => errors.push(syn::Error::new_spanned(
                other,
                format!("only methods are allowed in a {attr} trait"),
            )),
        }
    }
    if methods.is_empty() && errors.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.ident,
            format!("a {attr} trait needs at least one method"),
        ));
    }
    errors.finish()?;
    Ok(Interface {
        ident: item.ident.clone(),
        wit,
        methods,
        docs: docs(&item.attrs),
    })
}

fn method(f: &syn::TraitItemFn, role: Role) -> syn::Result<Method> {
    let attr = role.attr();
    let sig = &f.sig;
    let mut errors = Errors::default();
    if let (Some(a), Role::Plugin) = (&sig.asyncness, role) {
        errors.push(syn::Error::new_spanned(
            a,
            "`async fn` is not supported in a #[sandbox_plugin] trait: the plugin runs one call \
             at a time, and the host side is already async (the generated proxy's methods are \
             `async`); declare a plain `fn`",
        ));
    }
    if let Some(u) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            u,
            format!("methods of a {attr} trait cannot be `unsafe`"),
        ));
    }
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            c,
            format!("methods of a {attr} trait cannot be `const`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("methods of a {attr} trait cannot have an ABI"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "methods of a {attr} trait cannot be generic: each WIT function has one signature"
            ),
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            v,
            "variadic methods are not supported",
        ));
    }
    if let Some(body) = &f.default {
        errors.push(syn::Error::new_spanned(
            body,
            format!(
                "methods of a {attr} trait cannot have a default body: the implementation lives \
                 on the other side of the sandbox; remove the body and end the declaration with `;`"
            ),
        ));
    }
    let wit = match to_wit_name(&sig.ident) {
        Ok(w) => w,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };

    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(syn::FnArg::Receiver(r)) => {
            let shared_ref =
                r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none();
            if !shared_ref {
                let msg = if r.mutability.is_some() && r.reference.is_some() {
                    format!(
                        "methods of a {attr} trait take `&self`, not `&mut self`: the instance \
                         keeps its state between calls, so use interior mutability \
                         (`Cell`, `RefCell`) for state that changes"
                    )
                } else {
                    format!("methods of a {attr} trait take `&self`")
                };
                errors.push(syn::Error::new_spanned(r, msg));
            }
        }
        _ => errors.push(syn::Error::new_spanned(
            &sig.ident,
            format!(
                "`{}` has no `self` receiver: methods of a {attr} trait take `&self` \
                 (add `&self` as the first parameter)",
                sig.ident
            ),
        )),
    }

    let mut params = Vec::new();
    let mut names: HashMap<String, syn::Ident> = HashMap::new();
    for input in inputs {
        let syn::FnArg::Typed(pt) = input else {
            continue;
        };
        let ident = match &*pt.pat {
            syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            other => {
                errors.push(syn::Error::new_spanned(
                    other,
                    "parameters must be plain names (`name: Type`); their names become the \
                     WIT parameter names",
                ));
                continue;
            }
        };
        let pwit = match to_wit_name(&ident) {
            Ok(w) => w,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(prev) = names.insert(pwit.clone(), ident.clone()) {
            errors.push(syn::Error::new_spanned(
                &ident,
                format!("`{ident}` and `{prev}` both become `{pwit}` in WIT; rename one"),
            ));
        }
        match classify(&pt.ty, Position::Param) {
            Ok((ty, passing)) => params.push(Param {
                ident,
                wit: pwit,
                ty,
                rust: (*pt.ty).clone(),
                passing,
            }),
            Err(e) => errors.push(e),
        }
    }

    let result = match &sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => {
            if matches!(&**ty, syn::Type::Tuple(t) if t.elems.is_empty()) {
                None
            } else {
                match classify(ty, Position::Result) {
                    Ok((t, _)) => Some((t, (**ty).clone())),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            }
        }
    };
    errors.finish()?;
    Ok(Method {
        ident: sig.ident.clone(),
        wit,
        params,
        result,
        docs: docs(&f.attrs),
        asynchronous: sig.asyncness.is_some(),
    })
}
