//! Binding a trait to a WIT world: which export each method is, and which
//! WIT type each `PluginType` is.
//!
//! The world is either the one derived from the trait (always binds) or a
//! hand-written one given with `#[sandbox_plugin(wit = "..")]`, which is where
//! every mismatch becomes a compile error pointing at the trait's tokens.

use std::collections::HashMap;

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use wit_parser::{
    Resolve, Type as WType, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem, WorldKey,
};

use crate::errors::Errors;
use crate::iface::{Interface, ResourceFn};
use crate::model::{Method, Payload, Ty, TypeDef, TypeKind, bindgen_ident, bindgen_type};

/// Where a method's export lives.
#[derive(Clone, Debug)]
pub(crate) enum Location {
    /// A function exported by the world itself.
    World,
    /// A function of an exported interface: the module path of its bindings
    /// (under `exports::`) and the name the host calls the interface by.
    Interface { module: Vec<String> },
}

/// A trait method bound to a WIT export.
#[derive(Clone, Debug)]
pub(crate) struct BoundMethod {
    pub(crate) location: Location,
    /// The WIT function name.
    pub(crate) wit_name: String,
    /// The name the host calls it by (`filter`, `math#add`, `ns:pkg/iface@v#add`).
    pub(crate) export_name: String,
    /// The WIT signature, as the WIT spells it.
    pub(crate) wit_signature: String,
}

/// A `PluginType` bound to a WIT type.
#[derive(Clone, Debug)]
pub(crate) struct BoundType {
    /// Module path of the generated binding type, relative to the bindings root.
    pub(crate) path: Vec<String>,
    /// For struct-like variant cases: the path of the payload record.
    pub(crate) case_records: HashMap<String, Vec<String>>,
}

/// A plugin object (resource) bound to a WIT resource.
#[derive(Clone, Debug)]
pub(crate) struct BoundResource {
    /// The associated type's name (`Counter`).
    pub(crate) rust: String,
    /// Module path of wit-bindgen's resource type (`..::Counter`), relative
    /// to the bindings root; its `Guest` trait is `Guest<Name>` next to it.
    pub(crate) path: Vec<String>,
    /// The resource's functions, in `ResourceDef::functions` order.
    pub(crate) functions: Vec<BoundMethod>,
}

/// The whole binding.
#[derive(Clone, Debug, Default)]
pub(crate) struct Binding {
    pub(crate) methods: Vec<BoundMethod>,
    pub(crate) types: HashMap<String, BoundType>,
    pub(crate) resources: Vec<BoundResource>,
}

impl BoundType {
    pub(crate) fn tokens(&self, root: &TokenStream) -> TokenStream {
        path_tokens(root, &self.path)
    }
}

/// `root::a::b::C`
pub(crate) fn path_tokens(root: &TokenStream, path: &[String]) -> TokenStream {
    let segs = path.iter().map(|s| format_ident!("{}", s));
    quote!(#root #(:: #segs)*)
}

/// Parses WIT text (or a file or directory) and selects a world.
pub(crate) fn load_text(text: &str, world: &str) -> Result<(Resolve, WorldId), String> {
    let mut resolve = Resolve::default();
    let pkg = resolve
        .push_str("world.wit", text)
        .map_err(|e| format!("{e:#}"))?;
    let id = resolve
        .select_world(&[pkg], Some(world))
        .map_err(|e| format!("{e:#}"))?;
    Ok((resolve, id))
}

/// Renders a WIT type for messages.
pub(crate) fn render(resolve: &Resolve, ty: &WType) -> String {
    match ty {
        WType::Bool => "bool".into(),
        WType::U8 => "u8".into(),
        WType::U16 => "u16".into(),
        WType::U32 => "u32".into(),
        WType::U64 => "u64".into(),
        WType::S8 => "s8".into(),
        WType::S16 => "s16".into(),
        WType::S32 => "s32".into(),
        WType::S64 => "s64".into(),
        WType::F32 => "f32".into(),
        WType::F64 => "f64".into(),
        WType::Char => "char".into(),
        WType::String => "string".into(),
        WType::ErrorContext => "error-context".into(),
        WType::Id(id) => {
            let def = &resolve.types[*id];
            if let Some(name) = &def.name {
                return name.clone();
            }
            match &def.kind {
                TypeDefKind::List(t) => format!("list<{}>", render(resolve, t)),
                TypeDefKind::Option(t) => format!("option<{}>", render(resolve, t)),
                TypeDefKind::Tuple(t) => format!(
                    "tuple<{}>",
                    t.types
                        .iter()
                        .map(|t| render(resolve, t))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                TypeDefKind::Result(r) => match (&r.ok, &r.err) {
                    (None, None) => "result".into(),
                    (Some(ok), None) => format!("result<{}>", render(resolve, ok)),
                    (ok, Some(err)) => format!(
                        "result<{}, {}>",
                        ok.as_ref().map_or("_".into(), |t| render(resolve, t)),
                        render(resolve, err)
                    ),
                },
                TypeDefKind::Type(t) => render(resolve, t),
                TypeDefKind::Map(k, v) => {
                    format!("map<{}, {}>", render(resolve, k), render(resolve, v))
                }
                TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", render(resolve, t)),
                TypeDefKind::Future(t) => match t {
                    Some(t) => format!("future<{}>", render(resolve, t)),
                    None => "future".into(),
                },
                TypeDefKind::Stream(t) => match t {
                    Some(t) => format!("stream<{}>", render(resolve, t)),
                    None => "stream".into(),
                },
                TypeDefKind::Handle(wit_parser::Handle::Own(r)) => resolve.types[*r]
                    .name
                    .clone()
                    .unwrap_or_else(|| "resource".into()),
                TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) => format!(
                    "borrow<{}>",
                    resolve.types[*r].name.as_deref().unwrap_or("resource")
                ),
                _ => "type".into(),
            }
        }
    }
}

fn render_func(resolve: &Resolve, f: &wit_parser::Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, render(resolve, &p.ty)))
        .collect();
    let mut s = format!("func({})", params.join(", "));
    if let Some(r) = &f.result {
        s.push_str(" -> ");
        s.push_str(&render(resolve, r));
    }
    s
}

/// The Rust signature a user would write for a WIT function, for hints.
fn rust_hint(resolve: &Resolve, f: &wit_parser::Function) -> String {
    fn rty(resolve: &Resolve, ty: &WType) -> String {
        match ty {
            WType::Bool => "bool".into(),
            WType::U8 => "u8".into(),
            WType::U16 => "u16".into(),
            WType::U32 => "u32".into(),
            WType::U64 => "u64".into(),
            WType::S8 => "i8".into(),
            WType::S16 => "i16".into(),
            WType::S32 => "i32".into(),
            WType::S64 => "i64".into(),
            WType::F32 => "f32".into(),
            WType::F64 => "f64".into(),
            WType::Char => "char".into(),
            WType::String => "String".into(),
            WType::ErrorContext => "?".into(),
            WType::Id(id) => {
                let def = &resolve.types[*id];
                if let Some(name) = &def.name {
                    return bindgen_type(name);
                }
                match &def.kind {
                    TypeDefKind::List(t) => format!("Vec<{}>", rty(resolve, t)),
                    TypeDefKind::Option(t) => format!("Option<{}>", rty(resolve, t)),
                    TypeDefKind::Tuple(t) => format!(
                        "({})",
                        t.types
                            .iter()
                            .map(|t| rty(resolve, t))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    TypeDefKind::Result(r) => format!(
                        "Result<{}, {}>",
                        r.ok.as_ref().map_or("()".into(), |t| rty(resolve, t)),
                        r.err.as_ref().map_or("()".into(), |t| rty(resolve, t))
                    ),
                    TypeDefKind::Type(t) => rty(resolve, t),
                    _ => "?".into(),
                }
            }
        }
    }
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name.to_snake_case(), rty(resolve, &p.ty)))
        .collect();
    let mut s = format!("fn {}(&self", f.name.to_snake_case());
    for p in params {
        s.push_str(", ");
        s.push_str(&p);
    }
    s.push(')');
    if let Some(r) = &f.result {
        s.push_str(" -> ");
        s.push_str(&rty(resolve, r));
    }
    s.push(';');
    s
}

/// Whether `f` is a plain function, not a resource's.
fn is_freestanding(f: &wit_parser::Function) -> bool {
    matches!(f.kind, wit_parser::FunctionKind::Freestanding)
}

/// The resource a resource function belongs to.
fn resource_of(f: &wit_parser::Function) -> Option<TypeId> {
    match f.kind {
        wit_parser::FunctionKind::Constructor(id)
        | wit_parser::FunctionKind::Method(id)
        | wit_parser::FunctionKind::Static(id) => Some(id),
        _ => None,
    }
}

struct Export<'a> {
    location: Location,
    export_name: String,
    func: &'a wit_parser::Function,
    used: bool,
}

fn ns_path(resolve: &Resolve, pkg: wit_parser::PackageId) -> Vec<String> {
    let name = &resolve.packages[pkg].name;
    vec![bindgen_ident(&name.namespace), bindgen_ident(&name.name)]
}

/// Binds `iface` (with its resolved `types`) to `world`. In `strict` mode
/// (a hand-written world) every difference is an error at the trait's tokens;
/// for a derived world a failure is a bug in this crate.
pub(crate) fn bind(
    resolve: &Resolve,
    world: WorldId,
    iface: &Interface,
    types: &[TypeDef],
    errors: &mut Errors,
) -> Binding {
    let w = &resolve.worlds[world];
    bind_as(
        resolve,
        world,
        iface,
        types,
        errors,
        &format!("WIT world `{}`", w.name),
        false,
    )
}

/// Binds a `#[host_interface]` trait to the published WIT interface that
/// `world` (made for the purpose) exports. The plugin imports that
/// interface, so the types' binding paths are those of an import;
/// messages name the interface (`what`).
pub(crate) fn bind_host_interface(
    resolve: &Resolve,
    world: WorldId,
    iface: &Interface,
    types: &[TypeDef],
    errors: &mut Errors,
    what: &str,
) -> Binding {
    bind_as(resolve, world, iface, types, errors, what, true)
}

fn bind_as(
    resolve: &Resolve,
    world: WorldId,
    iface: &Interface,
    types: &[TypeDef],
    errors: &mut Errors,
    what: &str,
    imported: bool,
) -> Binding {
    let w = &resolve.worlds[world];
    let verb = if imported { "has" } else { "exports" };
    let mut exports: Vec<Export<'_>> = Vec::new();
    for (key, item) in &w.exports {
        match item {
            WorldItem::Function(f) => exports.push(Export {
                location: Location::World,
                export_name: f.name.clone(),
                func: f,
                used: false,
            }),
            WorldItem::Interface { id, .. } => {
                let iface_def = &resolve.interfaces[*id];
                let (module, host_name) = match key {
                    WorldKey::Name(n) => (vec!["exports".to_string(), bindgen_ident(n)], n.clone()),
                    WorldKey::Interface(_) => {
                        let mut module = vec!["exports".to_string()];
                        if let Some(pkg) = iface_def.package {
                            module.extend(ns_path(resolve, pkg));
                        }
                        module.push(bindgen_ident(iface_def.name.as_deref().unwrap_or("iface")));
                        (module, resolve.name_world_key(key))
                    }
                };
                for f in iface_def.functions.values() {
                    exports.push(Export {
                        location: Location::Interface {
                            module: module.clone(),
                        },
                        export_name: format!("{host_name}#{}", f.name),
                        func: f,
                        used: false,
                    });
                }
            }
            WorldItem::Type { .. } => {}
        }
    }
    let exported_ifaces: Vec<wit_parser::InterfaceId> = w
        .exports
        .values()
        .filter(|_| !imported)
        .filter_map(|item| match item {
            WorldItem::Interface { id, .. } => Some(*id),
            _ => None,
        })
        .collect();

    let by_rust: HashMap<String, &TypeDef> =
        types.iter().map(|t| (t.ident.to_string(), t)).collect();
    let mut binder = TypeBinder {
        resolve,
        by_rust,
        exported_ifaces,
        bound: HashMap::new(),
        resources: HashMap::new(),
    };

    let mut binding = Binding::default();
    for m in &iface.methods {
        let candidates: Vec<usize> = exports
            .iter()
            .enumerate()
            .filter(|(_, e)| e.func.name == m.wit && is_freestanding(e.func))
            .map(|(i, _)| i)
            .collect();
        let idx = match candidates.as_slice() {
            [i] => *i,
            [] => {
                let names: Vec<String> = exports.iter().map(|e| e.export_name.clone()).collect();
                errors.push(syn::Error::new_spanned(
                    &m.ident,
                    format!(
                        "the {what} {verb} no function `{}` (it {verb}: {}); \
                         remove the method, or add it to the WIT",
                        m.wit,
                        if names.is_empty() {
                            "nothing".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                ));
                continue;
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|i| exports[*i].export_name.clone())
                    .collect();
                errors.push(syn::Error::new_spanned(
                    &m.ident,
                    format!(
                        "the {what} {verb} more than one function `{}` ({}); \
                         a trait method must match exactly one",
                        m.wit,
                        names.join(", ")
                    ),
                ));
                continue;
            }
        };
        exports[idx].used = true;
        let e = &exports[idx];
        check_method(&mut binder, m, e.func, errors);
        binding.methods.push(BoundMethod {
            location: e.location.clone(),
            wit_name: e.func.name.clone(),
            export_name: e.export_name.clone(),
            wit_signature: render_func(resolve, e.func),
        });
    }
    for decl in &iface.resources {
        let Some(def) = &decl.def else {
            continue;
        };
        let mut functions = Vec::new();
        let mut path = None;
        for (kind, m) in def.functions() {
            let wit_name = kind.wit_name(&decl.wit, &m.wit);
            let Some(e) = exports
                .iter_mut()
                .find(|e| e.func.name == wit_name && !is_freestanding(e.func))
            else {
                errors.push(syn::Error::new_spanned(
                    &decl.bound,
                    format!(
                        "the {what} {verb} no `{wit_name}` for `{}::{}`; remove it, or add it to \
                         the resource `{}` in the WIT",
                        def.ident, m.ident, decl.wit
                    ),
                ));
                continue;
            };
            e.used = true;
            if let Some(rid) = resource_of(e.func) {
                path = Some(binder.type_path(binder.dealias(rid)));
            }
            let mut f = e.func.clone();
            match kind {
                // The receiver is the object itself.
                ResourceFn::Method => {
                    if !f.params.is_empty() {
                        f.params.remove(0);
                    }
                }
                // The result is the object itself.
                ResourceFn::Constructor => f.result = None,
                ResourceFn::Static => {}
            }
            check_method(&mut binder, m, &f, errors);
            functions.push(BoundMethod {
                location: e.location.clone(),
                wit_name: e.func.name.clone(),
                export_name: e.export_name.clone(),
                wit_signature: render_func(resolve, e.func),
            });
        }
        let path = path.or_else(|| binder.resources.get(&decl.ident.to_string()).cloned());
        match path {
            Some(path) => binding.resources.push(BoundResource {
                rust: decl.ident.to_string(),
                path,
                functions,
            }),
            None => errors.push(syn::Error::new_spanned(
                &decl.ident,
                format!(
                    "the {what} does not use the resource `{}`: no function takes or returns it",
                    decl.wit
                ),
            )),
        }
    }
    // Host objects the trait's functions take: their resources are the
    // imported interface's.
    let mut host_objects: Vec<(&String, &Vec<String>)> = binder
        .resources
        .iter()
        .filter(|(rust, _)| !iface.resources.iter().any(|r| r.ident == rust.as_str()))
        .collect();
    host_objects.sort();
    for (rust, path) in host_objects {
        binding.resources.push(BoundResource {
            rust: rust.clone(),
            path: path.clone(),
            functions: Vec::new(),
        });
    }
    for e in exports.iter().filter(|e| !e.used) {
        errors.push(syn::Error::new_spanned(
            &iface.ident,
            format!(
                "the {what} {verb} `{}: {}`, which the trait does not declare; \
                 add `{}`",
                e.export_name,
                render_func(resolve, e.func),
                rust_hint(resolve, e.func)
            ),
        ));
    }
    binding.types = binder.bound;
    binding
}

struct TypeBinder<'a> {
    resolve: &'a Resolve,
    by_rust: HashMap<String, &'a TypeDef>,
    exported_ifaces: Vec<wit_parser::InterfaceId>,
    bound: HashMap<String, BoundType>,
    /// Resource paths found while checking handles, by associated type.
    resources: HashMap<String, Vec<String>>,
}

impl TypeBinder<'_> {
    fn type_path(&self, id: TypeId) -> Vec<String> {
        let def = &self.resolve.types[id];
        let name = bindgen_type(def.name.as_deref().unwrap_or("anon"));
        let mut path = Vec::new();
        match def.owner {
            TypeOwner::Interface(iid) => {
                let iface = &self.resolve.interfaces[iid];
                if self.exported_ifaces.contains(&iid) {
                    path.push("exports".to_string());
                }
                if let Some(pkg) = iface.package {
                    path.extend(ns_path(self.resolve, pkg));
                }
                path.push(bindgen_ident(iface.name.as_deref().unwrap_or("iface")));
            }
            TypeOwner::World(_) | TypeOwner::None => {}
        }
        path.push(name);
        path
    }

    /// Follows `type a = b` aliases.
    fn dealias(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(WType::Id(next)) = &self.resolve.types[id].kind {
            id = *next;
        }
        id
    }

    /// The trait's type in WIT syntax, for messages.
    fn ours(&self, ty: &Ty) -> String {
        ty.wit(&|n: &str| {
            self.by_rust
                .get(n)
                .map_or_else(|| n.to_string(), |t| t.wit.clone())
        })
    }

    /// Checks `ty` against `wty`. `Err(None)` is a plain mismatch, which the
    /// outermost caller words with both whole types; `Err(Some(..))` is a
    /// sentence about something deeper (a field, a case).
    fn check(&mut self, ty: &Ty, wty: &WType) -> Result<(), Option<String>> {
        match (ty, wty) {
            (Ty::Bool, WType::Bool) => Ok(()),
            (Ty::U8, WType::U8)
            | (Ty::U16, WType::U16)
            | (Ty::U32, WType::U32)
            | (Ty::U64, WType::U64) => Ok(()),
            (Ty::S8, WType::S8)
            | (Ty::S16, WType::S16)
            | (Ty::S32, WType::S32)
            | (Ty::S64, WType::S64) => Ok(()),
            (Ty::F32, WType::F32)
            | (Ty::F64, WType::F64)
            | (Ty::Char, WType::Char)
            | (Ty::String, WType::String) => Ok(()),
            (_, WType::Id(id)) => {
                let id = self.dealias(*id);
                let def = &self.resolve.types[id];
                match (&def.kind, ty) {
                    (TypeDefKind::Type(inner), _) => self.check(ty, &inner.clone()),
                    (TypeDefKind::List(inner), Ty::List(t)) => self.check(t, &inner.clone()),
                    (TypeDefKind::Option(inner), Ty::Option(t)) => self.check(t, &inner.clone()),
                    (TypeDefKind::Result(r), Ty::Result(ok, err)) => {
                        let r = r.clone();
                        match (&r.ok, ok) {
                            (None, None) => {}
                            (Some(w), Some(t)) => self.check(t, w)?,
                            _ => return Err(None),
                        }
                        match (&r.err, err) {
                            (None, None) => {}
                            (Some(w), Some(t)) => self.check(t, w)?,
                            _ => return Err(None),
                        }
                        Ok(())
                    }
                    (TypeDefKind::Tuple(wt), Ty::Tuple(ts)) => {
                        if wt.types.len() != ts.len() {
                            return Err(None);
                        }
                        let wt = wt.types.clone();
                        for (t, w) in ts.iter().zip(&wt) {
                            self.check(t, w)?;
                        }
                        Ok(())
                    }
                    (
                        TypeDefKind::Record(_) | TypeDefKind::Variant(_) | TypeDefKind::Enum(_),
                        Ty::Named(n),
                    ) => {
                        let n = n.clone();
                        self.check_named(&n, id).map_err(Some)
                    }
                    (TypeDefKind::Flags(_), _) => Err(Some(format!(
                        "the WIT type `{}` is a `flags`, which #[sandbox_plugin] traits cannot express",
                        render(self.resolve, wty)
                    ))),
                    (TypeDefKind::Handle(handle), Ty::Handle(h)) => {
                        let (rid, owned) = match handle {
                            wit_parser::Handle::Own(r) => (*r, true),
                            wit_parser::Handle::Borrow(r) => (*r, false),
                        };
                        if owned != h.owned {
                            return Err(Some(format!(
                                "the WIT has `{}`, the trait has `{}`: {}",
                                render(self.resolve, wty),
                                self.ours(ty),
                                if owned {
                                    format!(
                                        "the object is given away here; take `Self::{}` by value",
                                        h.rust
                                    )
                                } else {
                                    format!("the object is lent here; take `&Self::{}`", h.rust)
                                }
                            )));
                        }
                        let rid = self.dealias(rid);
                        let name = self.resolve.types[rid].name.clone().unwrap_or_default();
                        if name != h.wit {
                            return Err(Some(format!(
                                "the WIT has the resource `{name}` here, but `Self::{}` is the \
                                 resource `{}`",
                                h.rust, h.wit
                            )));
                        }
                        let path = self.type_path(rid);
                        self.resources.insert(h.rust.clone(), path);
                        Ok(())
                    }
                    (TypeDefKind::Resource | TypeDefKind::Handle(_), _) => Err(Some(format!(
                        "the WIT type `{}` is a resource: declare it in the trait as \
                         `type Name: MyResourceTrait;` (a #[plugin_resource] trait) and use \
                         `Self::Name` (given away) or `&Self::Name` (lent)",
                        render(self.resolve, wty)
                    ))),
                    _ => Err(None),
                }
            }
            _ => Err(None),
        }
    }

    /// Checks and words the outcome at the level of a whole parameter,
    /// result or field.
    fn check_words(&mut self, ty: &Ty, wty: &WType, who: &str) -> Result<(), String> {
        match self.check(ty, wty) {
            Ok(()) => Ok(()),
            Err(Some(detail)) => Err(detail),
            Err(None) => Err(format!(
                "the WIT has `{}`, {who} `{}`",
                render(self.resolve, wty),
                self.ours(ty)
            )),
        }
    }

    fn check_named(&mut self, rust: &str, id: TypeId) -> Result<(), String> {
        let def = &self.resolve.types[id];
        let wit_name = def.name.clone().unwrap_or_default();
        let Some(td) = self.by_rust.get(rust).copied() else {
            return Err(format!("`{rust}` is not a PluginType of this crate"));
        };
        if td.wit != wit_name {
            return Err(format!(
                "the WIT has `{wit_name}` here, but `{rust}` is `{}` in WIT; rename the Rust type",
                td.wit
            ));
        }
        if self.bound.contains_key(rust) {
            return Ok(());
        }
        let path = self.type_path(id);
        // Insert first: recursion is rejected elsewhere, and this stops loops.
        self.bound.insert(
            rust.to_string(),
            BoundType {
                path,
                case_records: HashMap::new(),
            },
        );
        let kind = def.kind.clone();
        let mut case_records = HashMap::new();
        match (&td.kind, &kind) {
            (TypeKind::Record(fields), TypeDefKind::Record(wr)) => {
                if fields.len() != wr.fields.len() {
                    return Err(format!(
                        "record `{wit_name}` has {} fields in the WIT, `{rust}` has {}",
                        wr.fields.len(),
                        fields.len()
                    ));
                }
                for (f, wf) in fields.iter().zip(&wr.fields) {
                    if f.wit != wf.name {
                        return Err(format!(
                            "record `{wit_name}`: the WIT has field `{}` where `{rust}` has `{}`",
                            wf.name, f.ident
                        ));
                    }
                    self.check_words(&f.ty, &wf.ty, "the Rust field has")
                        .map_err(|e| format!("field `{rust}::{}`: {e}", f.ident))?;
                }
            }
            (TypeKind::Enum(cases), TypeDefKind::Enum(we)) => {
                let want: Vec<&str> = we.cases.iter().map(|c| c.name.as_str()).collect();
                let have: Vec<&str> = cases.iter().map(|c| c.wit.as_str()).collect();
                if want != have {
                    return Err(format!(
                        "enum `{wit_name}` has cases [{}] in the WIT, `{rust}` has [{}]",
                        want.join(", "),
                        have.join(", ")
                    ));
                }
            }
            (TypeKind::Variant(cases), TypeDefKind::Variant(wv)) => {
                let want: Vec<&str> = wv.cases.iter().map(|c| c.name.as_str()).collect();
                let have: Vec<&str> = cases.iter().map(|c| c.wit.as_str()).collect();
                if want != have {
                    return Err(format!(
                        "variant `{wit_name}` has cases [{}] in the WIT, `{rust}` has [{}]",
                        want.join(", "),
                        have.join(", ")
                    ));
                }
                for (c, wc) in cases.iter().zip(&wv.cases) {
                    let ctx = |e: String| format!("case `{rust}::{}`: {e}", c.ident);
                    match (&c.payload, &wc.ty) {
                        (Payload::None, None) => {}
                        (Payload::Single(t, _), Some(w)) => {
                            self.check_words(t, w, "the Rust case has").map_err(ctx)?
                        }
                        (Payload::Tuple(ts), Some(w)) => {
                            let tuple = Ty::Tuple(ts.iter().map(|(t, _)| t.clone()).collect());
                            self.check_words(&tuple, w, "the Rust case has")
                                .map_err(ctx)?;
                        }
                        (Payload::Struct(fields), Some(WType::Id(pid))) => {
                            let pid = self.dealias(*pid);
                            let TypeDefKind::Record(wr) = self.resolve.types[pid].kind.clone()
                            else {
                                return Err(ctx("the WIT payload is not a record".into()));
                            };
                            if fields.len() != wr.fields.len() {
                                return Err(ctx(format!(
                                    "the WIT payload has {} fields, the Rust case has {}",
                                    wr.fields.len(),
                                    fields.len()
                                )));
                            }
                            for (f, wf) in fields.iter().zip(&wr.fields) {
                                if f.wit != wf.name {
                                    return Err(ctx(format!(
                                        "the WIT payload has field `{}` where the Rust case has `{}`",
                                        wf.name, f.ident
                                    )));
                                }
                                self.check_words(&f.ty, &wf.ty, "the Rust field has")
                                    .map_err(|e| ctx(format!("field `{}`: {e}", f.ident)))?;
                            }
                            case_records.insert(c.ident.to_string(), self.type_path(pid));
                        }
                        _ => {
                            return Err(ctx(format!(
                                "the payload does not match the WIT's `{}`",
                                wc.ty
                                    .as_ref()
                                    .map_or("(none)".to_string(), |t| render(self.resolve, t))
                            )));
                        }
                    }
                }
            }
            (_, _) => {
                let what = match &kind {
                    TypeDefKind::Record(_) => "a record",
                    TypeDefKind::Variant(_) => "a variant",
                    TypeDefKind::Enum(_) => "an enum",
                    _ => "another kind of type",
                };
                let ours = match &td.kind {
                    TypeKind::Record(_) => "a struct (record)",
                    TypeKind::Enum(_) => "a fieldless enum (WIT enum)",
                    TypeKind::Variant(_) => "an enum with data (WIT variant)",
                };
                return Err(format!(
                    "`{wit_name}` is {what} in the WIT, but `{rust}` is {ours}"
                ));
            }
        }
        if let Some(b) = self.bound.get_mut(rust) {
            b.case_records = case_records;
        }
        Ok(())
    }
}

fn check_method(
    binder: &mut TypeBinder<'_>,
    m: &Method,
    f: &wit_parser::Function,
    errors: &mut Errors,
) {
    if m.params.len() != f.params.len() {
        errors.push(syn::Error::new_spanned(
            &m.ident,
            format!(
                "`{}` takes {} argument(s), but the WIT function `{}` takes {}: `{}`",
                m.ident,
                m.params.len(),
                f.name,
                f.params.len(),
                render_func(binder.resolve, f)
            ),
        ));
        return;
    }
    for (p, wp) in m.params.iter().zip(&f.params) {
        if let Err(e) = binder.check_words(&p.ty, &wp.ty, "the trait has") {
            errors.push(syn::Error::new_spanned(
                &p.rust,
                format!(
                    "parameter `{}` of `{}` does not match the WIT: {e}",
                    p.ident, m.ident
                ),
            ));
        }
    }
    match (&m.result, &f.result) {
        (None, None) => {}
        (Some((ty, rust)), Some(w)) => {
            if let Err(e) = binder.check_words(ty, w, "the trait has") {
                errors.push(syn::Error::new_spanned(
                    rust,
                    format!("the result of `{}` does not match the WIT: {e}", m.ident),
                ));
            }
        }
        (Some((_, rust)), None) => errors.push(syn::Error::new_spanned(
            rust,
            format!(
                "the WIT function `{}` returns nothing; remove the return type",
                f.name
            ),
        )),
        (None, Some(w)) => errors.push(syn::Error::new_spanned(
            &m.ident,
            format!(
                "the WIT function `{}` returns `{}`; add `-> ...` to `{}`",
                f.name,
                render(binder.resolve, w),
                m.ident
            ),
        )),
    }
}
