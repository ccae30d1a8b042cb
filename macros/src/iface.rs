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
    /// A resource a plugin trait declares: an object the plugin makes.
    Resource,
}

impl Role {
    fn attr(self) -> &'static str {
        match self {
            Role::Plugin => "#[sandbox_plugin]",
            Role::Host => "#[host_interface]",
            Role::Resource => "#[plugin_resource]",
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
    /// The plugin objects the trait declares (`type Counter: Counter;`).
    pub(crate) resources: Vec<ResourceDecl>,
}

/// A resource a plugin trait declares as an associated type:
/// `type Counter: Counter;`, where the bound is a `#[plugin_resource]`
/// trait of the same crate.
#[derive(Clone, Debug)]
pub(crate) struct ResourceDecl {
    /// The associated type (`Counter`); the handle type is `CounterHandle`.
    pub(crate) ident: syn::Ident,
    /// The `#[plugin_resource]` trait, as written.
    pub(crate) bound: syn::Path,
    /// The WIT resource name (`counter`).
    pub(crate) wit: String,
    pub(crate) docs: Vec<String>,
    /// The resource trait, once found.
    pub(crate) def: Option<ResourceDef>,
}

/// A `#[plugin_resource]` trait: what the plugin's objects can do.
#[derive(Clone, Debug)]
pub(crate) struct ResourceDef {
    pub(crate) ident: syn::Ident,
    /// `fn new(..) -> Self`.
    pub(crate) constructor: Option<Method>,
    /// `fn m(&self, ..)`.
    pub(crate) methods: Vec<Method>,
    /// Functions without `self`.
    pub(crate) statics: Vec<Method>,
    pub(crate) docs: Vec<String>,
}

impl ResourceDef {
    /// Every function of the resource, with its kind, in WIT order.
    pub(crate) fn functions(&self) -> impl Iterator<Item = (ResourceFn, &Method)> {
        self.constructor
            .iter()
            .map(|m| (ResourceFn::Constructor, m))
            .chain(self.methods.iter().map(|m| (ResourceFn::Method, m)))
            .chain(self.statics.iter().map(|m| (ResourceFn::Static, m)))
    }
}

/// What kind of function of a resource.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ResourceFn {
    Constructor,
    Method,
    Static,
}

impl ResourceFn {
    /// The WIT function name: `[constructor]counter`, `[method]counter.add`.
    pub(crate) fn wit_name(self, resource: &str, function: &str) -> String {
        match self {
            ResourceFn::Constructor => format!("[constructor]{resource}"),
            ResourceFn::Method => format!("[method]{resource}.{function}"),
            ResourceFn::Static => format!("[static]{resource}.{function}"),
        }
    }
}

/// Parses and checks a `#[plugin_resource]` trait.
pub(crate) fn parse_resource(item: &syn::ItemTrait) -> syn::Result<ResourceDef> {
    let attr = Role::Resource.attr();
    let mut errors = Errors::default();
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            format!("a {attr} trait cannot be generic; remove the type parameters"),
        ));
    }
    if !item.supertraits.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.supertraits,
            format!("a {attr} trait cannot have supertraits: declare every function in it"),
        ));
    }
    let mut def = ResourceDef {
        ident: item.ident.clone(),
        constructor: None,
        methods: Vec::new(),
        statics: Vec::new(),
        docs: docs(&item.attrs),
    };
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    for trait_item in &item.items {
        let syn::TraitItem::Fn(f) = trait_item else {
            errors.push(syn::Error::new_spanned(
                trait_item,
                format!("only functions are allowed in a {attr} trait"),
            ));
            continue;
        };
        let receiver = matches!(f.sig.inputs.first(), Some(syn::FnArg::Receiver(_)));
        let returns_self = matches!(&f.sig.output, syn::ReturnType::Type(_, t)
            if matches!(&**t, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self")));
        if returns_self && (receiver || f.sig.ident != "new") {
            errors.push(syn::Error::new_spanned(
                &f.sig.output,
                "only the constructor returns `Self`: declare it as `fn new(..) -> Self` \
                 (without `self`); other functions return plain values",
            ));
            continue;
        }
        let kind = if returns_self {
            ResourceFn::Constructor
        } else if receiver {
            ResourceFn::Method
        } else {
            ResourceFn::Static
        };
        let mut m = match method(f, Role::Resource, kind) {
            Ok(m) => m,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for ty in m
            .params
            .iter()
            .map(|p| &p.ty)
            .chain(m.result.as_ref().map(|(t, _)| t))
        {
            if ty.handle().is_some() {
                errors.push(syn::Error::new_spanned(
                    &m.ident,
                    "the functions of a plugin object take and return values, not other \
                     objects; pass objects through the plugin trait's methods",
                ));
            }
        }
        if kind == ResourceFn::Constructor {
            m.result = None;
        }
        if kind == ResourceFn::Method
            && ["close", "raw", "is_alive"].contains(&m.ident.to_string().as_str())
        {
            errors.push(syn::Error::new_spanned(
                &m.ident,
                format!(
                    "`{}` is a method of every generated handle (`close` releases the object, \
                     `raw` and `is_alive` inspect it); rename this function",
                    m.ident
                ),
            ));
        }
        if let Some(prev) = seen.insert(m.wit.clone(), m.ident.clone()) {
            errors.push(syn::Error::new_spanned(
                &m.ident,
                format!(
                    "`{}` and `{prev}` both become the WIT function `{}`; rename one of them",
                    m.ident, m.wit
                ),
            ));
        }
        match kind {
            ResourceFn::Constructor => def.constructor = Some(m),
            ResourceFn::Method => def.methods.push(m),
            ResourceFn::Static => def.statics.push(m),
        }
    }
    errors.finish()?;
    Ok(def)
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
    let mut resources: Vec<ResourceDecl> = Vec::new();
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    for trait_item in &item.items {
        match trait_item {
            syn::TraitItem::Fn(f) => match method(f, role, ResourceFn::Method) {
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
            syn::TraitItem::Type(t) if matches!(role, Role::Plugin | Role::Host) => {
                match resource_decl(t, role) {
                    Ok(r) => resources.push(r),
                    Err(e) => errors.push(e),
                }
            }
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
    for m in &methods {
        for (ty, span) in m
            .params
            .iter()
            .map(|p| (&p.ty, &p.ident))
            .chain(m.result.as_ref().map(|(t, _)| (t, &m.ident)))
        {
            if let Some(h) = ty.handle()
                && h.host_type.is_some()
            {
                let is_result = m.result.as_ref().is_some_and(|(t, _)| std::ptr::eq(t, ty));
                if role != Role::Plugin || is_result {
                    errors.push(syn::Error::new_spanned(
                        span,
                        format!(
                            "a host object (`dyn {}`) can only be a parameter of a \
                             #[sandbox_plugin] method (`&dyn {}` lent, `Box<dyn {}>` given); {}",
                            h.rust,
                            h.rust,
                            h.rust,
                            if role == Role::Host {
                                "in a host interface, use its associated type (`Self::X`)"
                            } else {
                                "a plugin cannot hand a host object back as a result"
                            }
                        ),
                    ));
                }
                continue;
            }
            if let Some(h) = ty.handle()
                && !resources.iter().any(|r| r.ident == h.rust)
            {
                errors.push(syn::Error::new_spanned(
                    span,
                    format!(
                        "`Self::{}` is not a plugin object of this trait: declare it as \
                         `type {}: MyResourceTrait;`, where `MyResourceTrait` is a \
                         #[plugin_resource] trait",
                        h.rust, h.rust
                    ),
                ));
            }
        }
    }
    errors.finish()?;
    Ok(Interface {
        ident: item.ident.clone(),
        wit,
        methods,
        docs: docs(&item.attrs),
        resources,
    })
}

/// `type Counter: Counter;` in a plugin trait.
fn resource_decl(t: &syn::TraitItemType, role: Role) -> syn::Result<ResourceDecl> {
    let usage = format!(
        "declare an object as `type {}: MyResourceTrait;`, where `MyResourceTrait` is a \
         #[plugin_resource] trait",
        t.ident
    );
    if !t.generics.params.is_empty() || t.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(&t.generics, usage));
    }
    if let Some((_, default)) = &t.default {
        return Err(syn::Error::new_spanned(
            default,
            format!("a plugin object has no default type: the plugin chooses it; {usage}"),
        ));
    }
    let bounds: Vec<&syn::TraitBound> = t
        .bounds
        .iter()
        .filter_map(|b| match b {
            syn::TypeParamBound::Trait(tb) => Some(tb),
            _ => None,
        })
        .collect();
    let [bound] = bounds.as_slice() else {
        return Err(syn::Error::new_spanned(
            t,
            format!(
                "an associated type of a {} trait is an object (a WIT resource) and needs \
                 exactly one bound: {usage}; for plain values, use a concrete type in the \
                 signatures instead",
                role.attr()
            ),
        ));
    };
    Ok(ResourceDecl {
        ident: t.ident.clone(),
        bound: bound.path.clone(),
        wit: to_wit_name(&t.ident)?,
        docs: docs(&t.attrs),
        def: None,
    })
}

fn method(f: &syn::TraitItemFn, role: Role, kind: ResourceFn) -> syn::Result<Method> {
    let attr = role.attr();
    let sig = &f.sig;
    let mut errors = Errors::default();
    if let (Some(a), Role::Resource) = (&sig.asyncness, role) {
        errors.push(syn::Error::new_spanned(
            a,
            "`async fn` is not supported in a #[plugin_resource] trait: the host side is \
             already async (the generated handle's methods are `async`); declare a plain `fn`",
        ));
    }
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

    let mut inputs = sig.inputs.iter().peekable();
    let needs_receiver = role != Role::Resource || kind == ResourceFn::Method;
    let has_receiver = matches!(inputs.peek(), Some(syn::FnArg::Receiver(_)));
    match if needs_receiver || has_receiver {
        inputs.next()
    } else {
        None
    } {
        Some(syn::FnArg::Receiver(r)) => {
            let shared_ref =
                r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none();
            if !shared_ref {
                let keeper = if role == Role::Resource {
                    "the object"
                } else {
                    "the instance"
                };
                let msg = if r.mutability.is_some() && r.reference.is_some() {
                    format!(
                        "methods of a {attr} trait take `&self`, not `&mut self`: {keeper} \
                         keeps its state between calls, so use interior mutability \
                         (`Cell`, `RefCell`) for state that changes"
                    )
                } else {
                    format!("methods of a {attr} trait take `&self`")
                };
                errors.push(syn::Error::new_spanned(r, msg));
            }
        }
        _ if !needs_receiver => {}
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
        _ if kind == ResourceFn::Constructor && role == Role::Resource => None,
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
