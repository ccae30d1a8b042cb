//! The functions a component exports, how callers name them, and their WIT
//! signatures.
//!
//! A world can export functions directly (`greet`) and through interfaces
//! (`example:calculator/math@0.1.0`, function `add`). A caller may name an
//! interface function in any of these forms:
//!
//! | form | example |
//! |---|---|
//! | full name | `example:calculator/math@0.1.0#add` |
//! | full name without version | `example:calculator/math#add` |
//! | interface and function | `math#add` |
//!
//! and a world-level function by its plain name (`greet`). An interface
//! function can also be called by its plain name (`add`) when no other
//! export has that name. When two exported interfaces share a short name,
//! only the longer forms work for them.

use std::any::TypeId;
use std::fmt::{self, Write as _};
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::{Component, ComponentExportIndex};

use crate::error::{Error, Outcome, Result};

/// One function exported by a plugin, with its WIT signature.
///
/// Returned by [`WasmSandbox::list_exports`](crate::Plugin::list_exports).
/// Its [`Display`](fmt::Display) form is the WIT declaration, for example
/// `add: func(a: u32, b: u32) -> u32`.
#[derive(Clone, Debug)]
pub struct ExportFunction {
    name: String,
    short_name: String,
    interface: Option<String>,
    function: String,
    params: Vec<(String, Type)>,
    result: Option<Type>,
    signature: String,
    func_ty: ComponentFunc,
    position: usize,
    /// Takes or returns a resource handle (`own<..>`/`borrow<..>`), at any
    /// depth.
    uses_objects: bool,
}

impl ExportFunction {
    /// Where it is in the sandbox's export list.
    pub(crate) fn position(&self) -> usize {
        self.position
    }

    /// The full name to call it by: `greet` for a world-level function,
    /// `example:calculator/math@0.1.0#add` for a function of an exported
    /// interface.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shortest unambiguous name: `greet`, or `math#add`.
    pub fn short_name(&self) -> &str {
        &self.short_name
    }

    /// The exported interface the function belongs to, if any
    /// (`example:calculator/math@0.1.0`).
    pub fn interface(&self) -> Option<&str> {
        self.interface.as_deref()
    }

    /// The function's own name (`add`).
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The parameters, in order, with their names and component-model types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = (&str, &Type)> {
        self.params.iter().map(|(name, ty)| (name.as_str(), ty))
    }

    /// The result type, or `None` for a function that returns nothing.
    pub fn result(&self) -> Option<&Type> {
        self.result.as_ref()
    }

    /// The signature in WIT syntax, for example `func(a: u32, b: u32) -> u32`.
    ///
    /// Records, variants, enums, flags and resources are shown by the name the
    /// plugin gave them.
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

impl ExportFunction {
    /// Whether the function takes or returns plugin objects (resource
    /// handles), which only typed handles can pass.
    pub fn uses_plugin_objects(&self) -> bool {
        self.uses_objects
    }

    #[cold]
    fn needs_handles(&self) -> Error {
        Error::PluginObjectsNeedHandles {
            function: self.name.clone(),
        }
    }
}

/// Whether `ty` holds a resource handle anywhere. Types nest at most
/// `MAX_TYPE_NESTING` deep (the loader refuses deeper ones); the depth
/// bound keeps this safe regardless.
fn holds_handle(ty: &Type, depth: usize) -> bool {
    if depth > 64 {
        return true;
    }
    let d = depth + 1;
    match ty {
        Type::Own(_) | Type::Borrow(_) => true,
        Type::List(l) => holds_handle(&l.ty(), d),
        Type::Option(o) => holds_handle(&o.ty(), d),
        Type::Result(r) => {
            r.ok().is_some_and(|t| holds_handle(&t, d))
                || r.err().is_some_and(|t| holds_handle(&t, d))
        }
        Type::Tuple(t) => t.types().any(|t| holds_handle(&t, d)),
        Type::Record(r) => r.fields().any(|f| holds_handle(&f.ty, d)),
        Type::Variant(v) => v.cases().any(|c| c.ty.is_some_and(|t| holds_handle(&t, d))),
        _ => false,
    }
}

impl fmt::Display for ExportFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.function, self.signature)
    }
}

/// The exports of one component, resolved once when the sandbox is built.
#[doc(hidden)]
#[derive(Debug)]
pub struct Exports {
    functions: Vec<ExportFunction>,
    indices: Vec<ComponentExportIndex>,
    by_name: FxHashMap<String, Lookup>,
    component_ty: wasmtime::component::types::Component,
    /// Per function: the Rust parameter and result types that passed the
    /// type check, so that later calls with the same types skip it.
    checked: Vec<OnceLock<(TypeId, TypeId)>>,
}

#[derive(Debug)]
enum Lookup {
    One(usize),
    Ambiguous(Vec<usize>),
}

impl Exports {
    pub(crate) fn new(component: &Component) -> Exports {
        let engine = component.engine();
        let ty = component.component_type();
        let mut exports = Exports {
            functions: Vec::new(),
            indices: Vec::new(),
            by_name: FxHashMap::default(),
            component_ty: ty.clone(),
            checked: Vec::new(),
        };
        let root_types: Vec<(Type, String)> = ty
            .exports(engine)
            .filter_map(|(name, ext)| named_type(name, ext.ty))
            .collect();
        for (name, ext) in ty.exports(engine) {
            match ext.ty {
                ComponentItem::ComponentFunc(func) => {
                    let Some(index) = component.get_export_index(None, name) else {
                        continue;
                    };
                    exports.push(None, name, &func, &root_types, index);
                }
                ComponentItem::ComponentInstance(instance) => {
                    let Some(instance_index) = component.get_export_index(None, name) else {
                        continue;
                    };
                    let types: Vec<(Type, String)> = instance
                        .exports(engine)
                        .filter_map(|(n, e)| named_type(n, e.ty))
                        .collect();
                    for (fname, e) in instance.exports(engine) {
                        if let ComponentItem::ComponentFunc(func) = e.ty {
                            let Some(index) =
                                component.get_export_index(Some(&instance_index), fname)
                            else {
                                continue;
                            };
                            exports.push(Some(name), fname, &func, &types, index);
                        }
                    }
                }
                _ => {}
            }
        }
        exports.add_plain_names();
        exports.refresh_short_names();
        exports.checked = exports.functions.iter().map(|_| OnceLock::new()).collect();
        exports
    }

    fn push(
        &mut self,
        interface: Option<&str>,
        function: &str,
        func: &ComponentFunc,
        names: &[(Type, String)],
        index: ComponentExportIndex,
    ) {
        let params: Vec<(String, Type)> = func
            .params()
            .map(|(name, ty)| (name.to_string(), ty))
            .collect();
        let result = func.results().next();
        let signature = render_signature(&params, result.as_ref(), names);
        let uses_objects = params
            .iter()
            .map(|(_, t)| t)
            .chain(result.as_ref())
            .any(|t| holds_handle(t, 0));
        let (name, aliases) = match interface {
            None => (function.to_string(), vec![function.to_string()]),
            Some(iface) => {
                let unversioned = iface.split('@').next().unwrap_or(iface);
                let short = unversioned.rsplit('/').next().unwrap_or(unversioned);
                let mut aliases = vec![
                    format!("{iface}#{function}"),
                    format!("{unversioned}#{function}"),
                    format!("{short}#{function}"),
                ];
                aliases.dedup();
                (format!("{iface}#{function}"), aliases)
            }
        };
        let idx = self.functions.len();
        for alias in &aliases {
            match self.by_name.get_mut(alias) {
                None => {
                    self.by_name.insert(alias.clone(), Lookup::One(idx));
                }
                Some(Lookup::One(other)) if *other != idx => {
                    let other = *other;
                    self.by_name
                        .insert(alias.clone(), Lookup::Ambiguous(vec![other, idx]));
                }
                Some(Lookup::Ambiguous(list)) => list.push(idx),
                Some(Lookup::One(_)) => {}
            }
        }
        self.functions.push(ExportFunction {
            name,
            short_name: String::new(),
            interface: interface.map(str::to_string),
            function: function.to_string(),
            params,
            result,
            signature,
            func_ty: func.clone(),
            position: idx,
            uses_objects,
        });
        self.indices.push(index);
    }

    /// Each interface function's plain name (`add` for `math#add`) as one
    /// more alias, when no world-level function has it: the one function
    /// when only one interface exports that name, else an ambiguity whose
    /// error lists them all.
    fn add_plain_names(&mut self) {
        for (idx, func) in self.functions.iter().enumerate() {
            if func.interface.is_none() {
                continue;
            }
            match self.by_name.get_mut(&func.function) {
                None => {
                    self.by_name.insert(func.function.clone(), Lookup::One(idx));
                }
                // A world-level function of that name keeps it.
                Some(Lookup::One(other)) if self.functions[*other].interface.is_none() => {}
                Some(Lookup::One(other)) => {
                    let other = *other;
                    self.by_name
                        .insert(func.function.clone(), Lookup::Ambiguous(vec![other, idx]));
                }
                Some(Lookup::Ambiguous(list)) => list.push(idx),
            }
        }
    }

    /// The short name of each function is the shortest alias that is not
    /// ambiguous, among the names that say which interface it is in (the
    /// plain name of an interface function is not shown as its name).
    fn refresh_short_names(&mut self) {
        for (idx, func) in self.functions.iter_mut().enumerate() {
            let mut best: Option<&String> = None;
            for (alias, lookup) in &self.by_name {
                if func.interface.is_some() && *alias == func.function {
                    continue;
                }
                if matches!(lookup, Lookup::One(i) if *i == idx)
                    && best.is_none_or(|b| alias.len() < b.len())
                {
                    best = Some(alias);
                }
            }
            func.short_name = best.cloned().unwrap_or_else(|| func.name.clone());
        }
    }

    pub(crate) fn list(&self) -> &[ExportFunction] {
        &self.functions
    }

    /// Where the function called `name` is in [`Exports::list`].
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        match self.by_name.get(name) {
            Some(Lookup::One(idx)) => Some(*idx),
            _ => None,
        }
    }

    /// Checks, without an instance, that `P` and `R` fit `export`'s
    /// signature (`R = ()` for a function without a result).
    pub(crate) fn typecheck<P, R>(&self, export: &ExportFunction) -> wasmtime::Result<()>
    where
        P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
        R: wasmtime::component::ComponentType + wasmtime::component::Lift + 'static,
    {
        let cx = self.component_ty.instance_type();
        if export.result.is_none() {
            if std::any::TypeId::of::<R>() != std::any::TypeId::of::<()>() {
                wasmtime::bail!("the function returns nothing; use `()` as the result type");
            }
            export.func_ty.typecheck::<P, ()>(&cx)
        } else {
            export.func_ty.typecheck::<P, (R,)>(&cx)
        }
    }

    /// Whether `P` and `R` fit the function at `position`: the answer is
    /// remembered for the first pair of types that fits, so the usual case
    /// (one function, always called with the same types) checks once.
    ///
    /// A `true` answer is what makes `TypedFunc::new_unchecked` sound for
    /// `(P, (R,))`, or `(P, ())` for a function without a result.
    #[inline]
    pub(crate) fn types_fit<P, R>(&self, position: usize) -> wasmtime::Result<()>
    where
        P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
        R: wasmtime::component::ComponentType + wasmtime::component::Lift + 'static,
    {
        let key = type_key::<P, R>();
        let cell = &self.checked[position];
        if cell.get() == Some(&key) {
            return Ok(());
        }
        self.typecheck::<P, R>(&self.functions[position])?;
        let _ = cell.set(key);
        Ok(())
    }

    /// The function at `position` and its export index.
    #[inline]
    pub(crate) fn at(&self, position: usize) -> (&ExportFunction, ComponentExportIndex) {
        (&self.functions[position], self.indices[position])
    }

    /// How many functions there are.
    pub(crate) fn len(&self) -> usize {
        self.functions.len()
    }

    /// The position of the function called `name`: the call path's lookup,
    /// which moves no more than a `usize` when the name is found.
    #[inline]
    pub(crate) fn position_of(&self, name: &str) -> Outcome<usize> {
        match self.by_name.get(name) {
            Some(Lookup::One(idx)) if !self.functions[*idx].uses_objects => Ok(*idx),
            Some(Lookup::One(idx)) => Err(Box::new(self.functions[*idx].needs_handles())),
            _ => Err(Box::new(self.not_found(name))),
        }
    }

    /// [`resolve`](Self::resolve) for a call by name: a function that takes
    /// or returns plugin objects is refused, since a raw handle carries no
    /// instance and could name another instance's object.
    pub(crate) fn resolve_by_name(
        &self,
        name: &str,
    ) -> Result<(&ExportFunction, ComponentExportIndex)> {
        let (f, index) = self.resolve(name)?;
        if f.uses_objects {
            return Err(f.needs_handles());
        }
        Ok((f, index))
    }

    /// Why there is no single function called `name`.
    #[cold]
    #[inline(never)]
    fn not_found(&self, name: &str) -> Error {
        let suggestions = match self.by_name.get(name) {
            Some(Lookup::Ambiguous(list)) => list
                .iter()
                .map(|i| self.functions[*i].name.clone())
                .collect(),
            _ => self.suggest(name),
        };
        Error::ExportNotFound {
            name: name.to_string(),
            suggestions,
            available: self.functions.len(),
        }
    }

    /// Finds the function called `name`, or explains why there is none.
    pub(crate) fn resolve(&self, name: &str) -> Result<(&ExportFunction, ComponentExportIndex)> {
        let idx = match self.by_name.get(name) {
            Some(Lookup::One(idx)) => *idx,
            _ => return Err(self.not_found(name)),
        };
        Ok((&self.functions[idx], self.indices[idx]))
    }

    /// Names close to `name`, nearest first.
    fn suggest(&self, name: &str) -> Vec<String> {
        suggest_among(
            name,
            self.functions
                .iter()
                .map(|f| (f.short_name.as_str(), f.name.as_str(), f.function.as_str())),
        )
    }
}

/// Names longer than this (in characters) are not compared by edit
/// distance: no one mistypes a name that long, and the comparison costs the
/// product of the two lengths.
const MAX_SUGGEST_NAME_CHARS: usize = 128;

/// At most this many exports are compared with a missing name, so that the
/// work for one error is bounded whatever the plugin exports.
const MAX_SUGGEST_CANDIDATES: usize = 1000;

/// The short names of `candidates` (short name, full name, function name)
/// close to `name`, nearest first, at most three.
///
/// The work is bounded by construction: at most
/// [`MAX_SUGGEST_CANDIDATES`] candidates, each compared by edit distance
/// only when both names are at most [`MAX_SUGGEST_NAME_CHARS`] long and
/// their lengths differ by no more than the accepted distance.
fn suggest_among<'a>(
    name: &str,
    candidates: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> Vec<String> {
    let wanted = name.rsplit('#').next().unwrap_or(name);
    let limit = (wanted.chars().count() / 3).max(2);
    let distance = |a: &str, b: &str| -> Option<usize> {
        let (la, lb) = (a.chars().count(), b.chars().count());
        if la > MAX_SUGGEST_NAME_CHARS || lb > MAX_SUGGEST_NAME_CHARS || la.abs_diff(lb) > limit {
            return None;
        }
        Some(edit_distance(a, b))
    };
    let mut scored: Vec<(usize, &str)> = Vec::new();
    for (short_name, full_name, function) in candidates.take(MAX_SUGGEST_CANDIDATES) {
        let exact_function = function == wanted;
        let nearest = [
            distance(name, short_name),
            distance(name, full_name),
            distance(wanted, function).map(|d| d + 1),
        ]
        .into_iter()
        .flatten()
        .min();
        if exact_function {
            scored.push((0, short_name));
        } else if let Some(d) = nearest.filter(|d| *d <= limit) {
            scored.push((d, short_name));
        }
    }
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// A type that a component or interface exports under a name.
fn named_type(name: &str, item: ComponentItem) -> Option<(Type, String)> {
    match item {
        ComponentItem::Type(t) => Some((t, name.to_string())),
        ComponentItem::Resource(r) => Some((Type::Own(r), name.to_string())),
        _ => None,
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn render_signature(
    params: &[(String, Type)],
    result: Option<&Type>,
    names: &[(Type, String)],
) -> String {
    let mut out = String::from("func(");
    for (i, (name, ty)) in params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push_str(": ");
        render_type(ty, names, &mut out);
    }
    out.push(')');
    if let Some(ty) = result {
        out.push_str(" -> ");
        render_type(ty, names, &mut out);
    }
    out
}

/// Writes `ty` in WIT syntax. Nominal types (records, variants, enums, flags,
/// resources) are written by name when the component exports one; otherwise
/// their structure is spelled out.
pub(crate) fn render_type(ty: &Type, names: &[(Type, String)], out: &mut String) {
    let nominal = matches!(
        ty,
        Type::Record(_)
            | Type::Variant(_)
            | Type::Enum(_)
            | Type::Flags(_)
            | Type::Own(_)
            | Type::Borrow(_)
    );
    if nominal {
        if let Type::Borrow(_) = ty {
            if let Some((_, name)) = names
                .iter()
                .find(|(t, _)| matches!(t, Type::Own(_)) && own_matches(t, ty))
            {
                let _ = write!(out, "borrow<{name}>");
                return;
            }
        } else if let Some((_, name)) = names.iter().find(|(t, _)| t == ty) {
            out.push_str(name);
            return;
        }
    }
    match ty {
        Type::Bool => out.push_str("bool"),
        Type::S8 => out.push_str("s8"),
        Type::U8 => out.push_str("u8"),
        Type::S16 => out.push_str("s16"),
        Type::U16 => out.push_str("u16"),
        Type::S32 => out.push_str("s32"),
        Type::U32 => out.push_str("u32"),
        Type::S64 => out.push_str("s64"),
        Type::U64 => out.push_str("u64"),
        Type::Float32 => out.push_str("f32"),
        Type::Float64 => out.push_str("f64"),
        Type::Char => out.push_str("char"),
        Type::String => out.push_str("string"),
        Type::ErrorContext => out.push_str("error-context"),
        Type::List(list) => {
            out.push_str("list<");
            render_type(&list.ty(), names, out);
            out.push('>');
        }
        Type::FixedLengthList(list) => {
            out.push_str("list<");
            render_type(&list.ty(), names, out);
            let _ = write!(out, ", {}>", list.len());
        }
        Type::Map(map) => {
            out.push_str("map<");
            render_type(&map.key(), names, out);
            out.push_str(", ");
            render_type(&map.value(), names, out);
            out.push('>');
        }
        Type::Option(opt) => {
            out.push_str("option<");
            render_type(&opt.ty(), names, out);
            out.push('>');
        }
        Type::Result(res) => {
            out.push_str("result");
            match (res.ok(), res.err()) {
                (None, None) => {}
                (Some(ok), None) => {
                    out.push('<');
                    render_type(&ok, names, out);
                    out.push('>');
                }
                (ok, Some(err)) => {
                    out.push('<');
                    match ok {
                        Some(ok) => render_type(&ok, names, out),
                        None => out.push('_'),
                    }
                    out.push_str(", ");
                    render_type(&err, names, out);
                    out.push('>');
                }
            }
        }
        Type::Tuple(tuple) => {
            out.push_str("tuple<");
            for (i, t) in tuple.types().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_type(&t, names, out);
            }
            out.push('>');
        }
        Type::Record(record) => {
            out.push_str("record { ");
            for (i, field) in record.fields().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", field.name);
                render_type(&field.ty, names, out);
            }
            out.push_str(" }");
        }
        Type::Variant(variant) => {
            out.push_str("variant { ");
            for (i, case) in variant.cases().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(case.name);
                if let Some(ty) = &case.ty {
                    out.push('(');
                    render_type(ty, names, out);
                    out.push(')');
                }
            }
            out.push_str(" }");
        }
        Type::Enum(e) => {
            let _ = write!(
                out,
                "enum {{ {} }}",
                e.names().collect::<Vec<_>>().join(", ")
            );
        }
        Type::Flags(flags) => {
            let _ = write!(
                out,
                "flags {{ {} }}",
                flags.names().collect::<Vec<_>>().join(", ")
            );
        }
        Type::Own(_) => out.push_str("own<resource>"),
        Type::Borrow(_) => out.push_str("borrow<resource>"),
        Type::Future(fut) => match fut.ty() {
            Some(t) => {
                out.push_str("future<");
                render_type(&t, names, out);
                out.push('>');
            }
            None => out.push_str("future"),
        },
        Type::Stream(stream) => match stream.ty() {
            Some(t) => {
                out.push_str("stream<");
                render_type(&t, names, out);
                out.push('>');
            }
            None => out.push_str("stream"),
        },
    }
}

fn own_matches(own: &Type, borrow: &Type) -> bool {
    match (own, borrow) {
        (Type::Own(a), Type::Borrow(b)) => a == b,
        _ => false,
    }
}

/// The key under which a typed call's `(P, R)` is remembered as checked.
/// Lifetimes do not change a type's component-model type, so an id that
/// ignores them is the right key.
#[inline(always)]
pub(crate) fn type_key<P, R>() -> (std::any::TypeId, std::any::TypeId) {
    (typeid::of::<P>(), typeid::of::<R>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_for_a_huge_name_among_many_exports_are_bounded() {
        let names: Vec<(String, String, String)> = (0..5000)
            .map(|i| {
                let function = format!("function-number-{i}");
                (
                    format!("plugin#{function}"),
                    format!("example:big/plugin@0.1.0#{function}"),
                    function,
                )
            })
            .collect();
        let candidates = || {
            names
                .iter()
                .map(|(s, n, f)| (s.as_str(), n.as_str(), f.as_str()))
        };
        // A 100 KB misspelling: no candidate is compared with it at all.
        let huge = format!("plugin#{}", "function-numbr-1".repeat(6400));
        assert!(huge.len() > 100_000);
        assert!(suggest_among(&huge, candidates()).is_empty());
        // An ordinary typo is still found, even this far down the list.
        let found = suggest_among("plugin#function-numbr-17", candidates());
        assert_eq!(
            found.first().map(String::as_str),
            Some("plugin#function-number-17")
        );
        assert!(found.len() <= 3, "{found:?}");
        // Beyond the candidate bound nothing is compared.
        let found = suggest_among("plugin#function-numbr-4999", candidates());
        assert!(
            !found.contains(&"plugin#function-number-4999".to_string()),
            "{found:?}"
        );
        // An exact function name under another interface comes first.
        let found = suggest_among("other#function-number-3", candidates());
        assert_eq!(
            found.first().map(String::as_str),
            Some("plugin#function-number-3")
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("greet", "greet"), 0);
        assert_eq!(edit_distance("gret", "greet"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
