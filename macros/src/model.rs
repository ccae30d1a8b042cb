//! The model the macros work on: Rust types classified into their WIT
//! counterparts, interface methods, and `PluginType` definitions.
//!
//! Every model item keeps the tokens it came from, so that errors can point
//! at the offending method, parameter or type.

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;

/// A value type as WIT sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    Bool,
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    F32,
    F64,
    Char,
    String,
    List(Box<Ty>),
    Option(Box<Ty>),
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    Tuple(Vec<Ty>),
    /// A `PluginType`, by its Rust name.
    Named(String),
    /// A plugin object: a resource of the trait (`Self::Counter`), given
    /// away (`owned`) or lent (`&Self::Counter`, a WIT `borrow`).
    Handle(Handle),
}

/// A resource handle in a signature.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Handle {
    /// The associated type's name (`Counter`).
    pub(crate) rust: String,
    /// The resource's WIT name (`counter`).
    pub(crate) wit: String,
    pub(crate) owned: bool,
    /// An object of an imported host interface (`&dyn Page`,
    /// `Box<dyn Page>`): `rust` is the `#[plugin_resource]` trait's name,
    /// `host_type` the written `dyn ..` type, and `wit` is set once the
    /// host interface is found.
    pub(crate) host_type: Option<Box<syn::Type>>,
}

impl Ty {
    /// Names of the `PluginType`s this type mentions, in order.
    pub(crate) fn named(&self, out: &mut Vec<String>) {
        match self {
            Ty::List(t) | Ty::Option(t) => t.named(out),
            Ty::Result(ok, err) => {
                if let Some(t) = ok {
                    t.named(out);
                }
                if let Some(t) = err {
                    t.named(out);
                }
            }
            Ty::Tuple(ts) => ts.iter().for_each(|t| t.named(out)),
            Ty::Named(n) => out.push(n.clone()),
            _ => {}
        }
    }

    /// The WIT spelling, with named types mapped by `wit_name`.
    pub(crate) fn wit(&self, wit_name: &dyn Fn(&str) -> String) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::U8 => "u8".into(),
            Ty::U16 => "u16".into(),
            Ty::U32 => "u32".into(),
            Ty::U64 => "u64".into(),
            Ty::S8 => "s8".into(),
            Ty::S16 => "s16".into(),
            Ty::S32 => "s32".into(),
            Ty::S64 => "s64".into(),
            Ty::F32 => "f32".into(),
            Ty::F64 => "f64".into(),
            Ty::Char => "char".into(),
            Ty::String => "string".into(),
            Ty::List(t) => format!("list<{}>", t.wit(wit_name)),
            Ty::Option(t) => format!("option<{}>", t.wit(wit_name)),
            Ty::Result(None, None) => "result".into(),
            Ty::Result(Some(ok), None) => format!("result<{}>", ok.wit(wit_name)),
            Ty::Result(ok, Some(err)) => format!(
                "result<{}, {}>",
                ok.as_ref().map_or("_".to_string(), |t| t.wit(wit_name)),
                err.wit(wit_name)
            ),
            Ty::Tuple(ts) => format!(
                "tuple<{}>",
                ts.iter()
                    .map(|t| t.wit(wit_name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ty::Named(n) => wit_name(n),
            Ty::Handle(h) if h.owned => wit_ident(&h.wit),
            Ty::Handle(h) => format!("borrow<{}>", wit_ident(&h.wit)),
        }
    }

    /// True when the type contains no `PluginType` and no handle: its Rust
    /// form is the same in the user's code and in generated bindings, so it
    /// needs no conversion.
    pub(crate) fn is_plain(&self) -> bool {
        let mut named = Vec::new();
        self.named(&mut named);
        named.is_empty() && !matches!(self, Ty::Handle(_))
    }

    /// The handle, when the type is one.
    pub(crate) fn handle(&self) -> Option<&Handle> {
        match self {
            Ty::Handle(h) => Some(h),
            _ => None,
        }
    }
}

/// How a parameter is passed on the Rust side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Passing {
    Owned,
    /// `&str`
    Str,
    /// `&[T]`
    Slice,
}

/// One parameter of an interface method.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub(crate) ident: syn::Ident,
    pub(crate) wit: String,
    pub(crate) ty: Ty,
    pub(crate) rust: syn::Type,
    pub(crate) passing: Passing,
}

/// One method of a `#[sandbox_plugin]` or `#[host_interface]` trait.
#[derive(Clone, Debug)]
pub(crate) struct Method {
    pub(crate) ident: syn::Ident,
    pub(crate) wit: String,
    pub(crate) params: Vec<Param>,
    /// `None` for `()`.
    pub(crate) result: Option<(Ty, syn::Type)>,
    pub(crate) docs: Vec<String>,
    /// Declared `async fn` (host interfaces only): the host runs it as a
    /// future while the plugin waits.
    pub(crate) asynchronous: bool,
}

impl Method {
    /// `func(a: u32, b: string) -> string`
    pub(crate) fn wit_signature(&self, wit_name: &dyn Fn(&str) -> String) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", wit_ident(&p.wit), p.ty.wit(wit_name)))
            .collect();
        let mut s = format!("func({})", params.join(", "));
        if let Some((ty, _)) = &self.result {
            s.push_str(" -> ");
            s.push_str(&ty.wit(wit_name));
        }
        s
    }
}

/// A field of a record (or of a struct-like variant case).
#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub(crate) ident: syn::Ident,
    pub(crate) wit: String,
    pub(crate) ty: Ty,
    pub(crate) rust: syn::Type,
    pub(crate) docs: Vec<String>,
}

/// The payload of a variant case.
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    None,
    /// `Case(T)`
    Single(Ty, Box<syn::Type>),
    /// `Case(A, B, ..)`, a WIT `tuple`.
    Tuple(Vec<(Ty, syn::Type)>),
    /// `Case { a: A, .. }`, a WIT record named `<enum>-<case>`.
    Struct(Vec<Field>),
}

/// A case of an enum or variant.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) ident: syn::Ident,
    pub(crate) wit: String,
    pub(crate) payload: Payload,
    pub(crate) docs: Vec<String>,
}

/// What a `PluginType` is in WIT.
#[derive(Clone, Debug)]
pub(crate) enum TypeKind {
    Record(Vec<Field>),
    /// Only fieldless cases.
    Enum(Vec<Case>),
    Variant(Vec<Case>),
}

/// A type declared with `#[derive(PluginType)]`.
#[derive(Clone, Debug)]
pub(crate) struct TypeDef {
    pub(crate) ident: syn::Ident,
    pub(crate) wit: String,
    pub(crate) kind: TypeKind,
    pub(crate) docs: Vec<String>,
}

impl TypeDef {
    /// The WIT name of the record generated for a struct-like case.
    pub(crate) fn aux_record_name(&self, case: &Case) -> String {
        format!("{}-{}", self.wit, case.wit)
    }
}

/// Rust keywords, which wit-bindgen suffixes with `_`.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "union",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// WIT keywords, which must be written with a `%` prefix.
const WIT_KEYWORDS: &[&str] = &[
    "as",
    "async",
    "bool",
    "borrow",
    "char",
    "constructor",
    "enum",
    "error-context",
    "export",
    "f32",
    "f64",
    "flags",
    "float32",
    "float64",
    "from",
    "func",
    "future",
    "import",
    "include",
    "interface",
    "list",
    "map",
    "option",
    "own",
    "package",
    "record",
    "resource",
    "result",
    "s16",
    "s32",
    "s64",
    "s8",
    "static",
    "stream",
    "string",
    "tuple",
    "type",
    "u16",
    "u32",
    "u64",
    "u8",
    "use",
    "variant",
    "with",
    "world",
    "_",
];

/// The name wit-bindgen gives a WIT identifier in Rust: snake case, with `_`
/// appended to keywords.
pub(crate) fn bindgen_ident(wit: &str) -> String {
    let snake = wit.to_snake_case();
    if RUST_KEYWORDS.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// The name wit-bindgen gives a WIT type or case in Rust.
pub(crate) fn bindgen_type(wit: &str) -> String {
    wit.to_upper_camel_case()
}

/// Writes a WIT identifier, escaping keywords with `%`.
pub(crate) fn wit_ident(name: &str) -> String {
    if WIT_KEYWORDS.contains(&name) {
        format!("%{name}")
    } else {
        name.to_string()
    }
}

/// Converts a Rust identifier into its WIT (kebab-case) name, or explains
/// why the result would not be a valid WIT identifier.
pub(crate) fn to_wit_name(ident: &syn::Ident) -> syn::Result<String> {
    let raw = ident.to_string();
    let raw = raw.strip_prefix("r#").unwrap_or(&raw);
    let kebab = raw.to_kebab_case();
    let valid = !kebab.is_empty()
        && kebab.split('-').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if valid {
        Ok(kebab)
    } else {
        Err(syn::Error::new(
            ident.span(),
            format!(
                "`{raw}` becomes `{kebab}` in WIT, which is not a valid WIT identifier: \
                 every `_`-separated word must start with a letter; rename it"
            ),
        ))
    }
}

/// The `///` doc comments of an item, one entry per line.
pub(crate) fn docs(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let value = s.value();
            if value.trim().is_empty() {
                out.push(String::new());
            }
            for line in value.lines() {
                out.push(line.strip_prefix(' ').unwrap_or(line).to_string());
            }
        }
    }
    out
}

/// Where a type appears, which decides whether references are allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Position {
    /// A method parameter: `&str` and `&[T]` are accepted at the top level.
    Param,
    /// A method result.
    Result,
    /// A field of a `PluginType`.
    Field,
    /// Inside another type.
    Nested,
}

const SUPPORTED: &str = "supported types are bool, u8..u64, i8..i64, f32, f64, char, String \
                         (&str as an argument), Vec<T> (&[T] as an argument), Option<T>, \
                         Result<T, E>, tuples, and types with #[derive(PluginType)]";

/// Classifies a Rust type written in an interface.
pub(crate) fn classify(ty: &syn::Type, pos: Position) -> syn::Result<(Ty, Passing)> {
    match ty {
        syn::Type::Paren(p) => classify(&p.elem, pos),
        syn::Type::Group(g) => classify(&g.elem, pos),
        syn::Type::Reference(r) => {
            if r.mutability.is_some() {
                return Err(syn::Error::new_spanned(
                    ty,
                    "`&mut` references cannot cross the plugin boundary: values are copied \
                     between host and plugin; take the value (or a `&` borrow of a string or slice)",
                ));
            }
            if pos != Position::Param {
                return Err(syn::Error::new_spanned(
                    ty,
                    match pos {
                        Position::Result => {
                            "a plugin method cannot return a reference: the value is copied out \
                             of the plugin; return an owned type (`String`, `Vec<T>`)"
                        }
                        _ => {
                            "references are only allowed as method arguments (`&str`, `&[T]`); \
                             use an owned type (`String`, `Vec<T>`) here"
                        }
                    },
                ));
            }
            if let Some(assoc) = self_assoc(&r.elem) {
                return Ok((Ty::Handle(handle(&assoc, false)?), Passing::Owned));
            }
            if let Some(name) = dyn_trait(&r.elem) {
                return Ok((
                    Ty::Handle(host_handle(name, &r.elem, false)?),
                    Passing::Owned,
                ));
            }
            match &*r.elem {
                syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => {
                    Ok((Ty::String, Passing::Str))
                }
                syn::Type::Slice(s) => {
                    let (inner, _) = classify(&s.elem, Position::Nested)?;
                    Ok((Ty::List(Box::new(inner)), Passing::Slice))
                }
                _ => Err(syn::Error::new_spanned(
                    ty,
                    "only `&str` and `&[T]` may be borrowed; pass other types by value",
                )),
            }
        }
        syn::Type::Tuple(t) => {
            if t.elems.is_empty() {
                return Err(syn::Error::new_spanned(
                    ty,
                    "`()` is only allowed as a method's result or inside `Result<(), E>`",
                ));
            }
            let mut tys = Vec::new();
            for elem in &t.elems {
                tys.push(classify(elem, Position::Nested)?.0);
            }
            Ok((Ty::Tuple(tys), Passing::Owned))
        }
        syn::Type::Ptr(_) => Err(syn::Error::new_spanned(
            ty,
            format!(
                "raw pointers cannot cross the plugin boundary (the plugin's memory is not the host's); {SUPPORTED}"
            ),
        )),
        syn::Type::Slice(_) | syn::Type::Array(_) => Err(syn::Error::new_spanned(
            ty,
            format!("arrays and bare slices are not supported; use `Vec<T>`; {SUPPORTED}"),
        )),
        syn::Type::Path(_) if self_assoc(ty).is_some() => {
            let assoc = self_assoc(ty).expect("checked");
            if matches!(pos, Position::Param | Position::Result) {
                Ok((Ty::Handle(handle(&assoc, true)?), Passing::Owned))
            } else {
                Err(syn::Error::new_spanned(
                    ty,
                    format!(
                        "a plugin object (`Self::{assoc}`) can be a parameter or the whole \
                         result of a method, not part of another type"
                    ),
                ))
            }
        }
        syn::Type::Path(p) if p.qself.is_none() => classify_path(ty, &p.path),
        _ => Err(syn::Error::new_spanned(
            ty,
            format!("this type cannot cross the plugin boundary; {SUPPORTED}"),
        )),
    }
}

/// `X` of a type written `Self::X`.
pub(crate) fn self_assoc(ty: &syn::Type) -> Option<syn::Ident> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    if p.qself.is_some() || p.path.leading_colon.is_some() || p.path.segments.len() != 2 {
        return None;
    }
    let first = &p.path.segments[0];
    let second = &p.path.segments[1];
    (first.ident == "Self" && first.arguments.is_empty() && second.arguments.is_empty())
        .then(|| second.ident.clone())
}

fn handle(assoc: &syn::Ident, owned: bool) -> syn::Result<Handle> {
    Ok(Handle {
        rust: assoc.to_string(),
        wit: to_wit_name(assoc)?,
        owned,
        host_type: None,
    })
}

/// `Page` of `dyn Page` (a trait object of one trait, no other bounds
/// but `Send`, `Sync` or lifetimes).
fn dyn_trait(ty: &syn::Type) -> Option<syn::Ident> {
    let syn::Type::TraitObject(t) = ty else {
        return None;
    };
    let mut found = None;
    for b in &t.bounds {
        if let syn::TypeParamBound::Trait(tb) = b {
            let last = tb.path.segments.last()?;
            if last.ident == "Send" || last.ident == "Sync" {
                continue;
            }
            if found.is_some() {
                return None;
            }
            found = Some(last.ident.clone());
        }
    }
    found
}

/// A host object handle: `&dyn Page` (lent) or `Box<dyn Page>` (given).
fn host_handle(name: syn::Ident, dyn_ty: &syn::Type, owned: bool) -> syn::Result<Handle> {
    Ok(Handle {
        wit: to_wit_name(&name)?,
        rust: name.to_string(),
        owned,
        host_type: Some(Box::new(dyn_ty.clone())),
    })
}

fn generic_args(seg: &syn::PathSegment) -> Vec<&syn::Type> {
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn classify_path(ty: &syn::Type, path: &syn::Path) -> syn::Result<(Ty, Passing)> {
    let seg = path.segments.last().expect("a path has a segment");
    let name = seg.ident.to_string();
    let args = generic_args(seg);
    let no_args = |t: Ty| -> syn::Result<(Ty, Passing)> {
        if seg.arguments.is_empty() {
            Ok((t, Passing::Owned))
        } else {
            Err(syn::Error::new_spanned(
                ty,
                format!("`{name}` takes no generic arguments"),
            ))
        }
    };
    let one_arg = |what: &str| -> syn::Result<&syn::Type> {
        match args.as_slice() {
            [t] => Ok(*t),
            _ => Err(syn::Error::new_spanned(
                ty,
                format!("`{what}` takes exactly one type argument"),
            )),
        }
    };
    match name.as_str() {
        "bool" => no_args(Ty::Bool),
        "u8" => no_args(Ty::U8),
        "u16" => no_args(Ty::U16),
        "u32" => no_args(Ty::U32),
        "u64" => no_args(Ty::U64),
        "i8" => no_args(Ty::S8),
        "i16" => no_args(Ty::S16),
        "i32" => no_args(Ty::S32),
        "i64" => no_args(Ty::S64),
        "f32" => no_args(Ty::F32),
        "f64" => no_args(Ty::F64),
        "char" => no_args(Ty::Char),
        "String" => no_args(Ty::String),
        "usize" | "isize" => Err(syn::Error::new_spanned(
            ty,
            format!(
                "`{name}` has no WIT counterpart (its size differs between host and plugin); \
                 use `u32`/`u64` (or `i32`/`i64`)"
            ),
        )),
        "u128" | "i128" => Err(syn::Error::new_spanned(
            ty,
            format!("`{name}` has no WIT counterpart; use two `u64`s or a `String`"),
        )),
        "str" => Err(syn::Error::new_spanned(
            ty,
            "`str` is unsized; use `String`, or `&str` as an argument",
        )),
        "Vec" => {
            let inner = classify(one_arg("Vec")?, Position::Nested)?.0;
            Ok((Ty::List(Box::new(inner)), Passing::Owned))
        }
        "Option" => {
            let inner = classify(one_arg("Option")?, Position::Nested)?.0;
            Ok((Ty::Option(Box::new(inner)), Passing::Owned))
        }
        "Result" => {
            let [ok, err] = args.as_slice() else {
                return Err(syn::Error::new_spanned(
                    ty,
                    "write `Result<T, E>` with both types; type aliases of `Result` are not followed",
                ));
            };
            let side = |t: &syn::Type| -> syn::Result<Option<Box<Ty>>> {
                if matches!(t, syn::Type::Tuple(tt) if tt.elems.is_empty()) {
                    Ok(None)
                } else {
                    Ok(Some(Box::new(classify(t, Position::Nested)?.0)))
                }
            };
            Ok((Ty::Result(side(ok)?, side(err)?), Passing::Owned))
        }
        "HashMap" | "BTreeMap" | "IndexMap" => Err(syn::Error::new_spanned(
            ty,
            format!(
                "`{name}` is not supported: WIT has no map type here; use `Vec<(K, V)>` \
                 (a list of pairs) instead"
            ),
        )),
        "HashSet" | "BTreeSet" => Err(syn::Error::new_spanned(
            ty,
            format!("`{name}` is not supported; use `Vec<T>` instead"),
        )),
        "Box" if matches!(args.as_slice(), [t] if dyn_trait(t).is_some()) => {
            let [t] = args.as_slice() else {
                unreachable!("matched above")
            };
            let name = dyn_trait(t).expect("matched above");
            Ok((Ty::Handle(host_handle(name, t, true)?), Passing::Owned))
        }
        "Box" | "Rc" | "Arc" | "Cell" | "RefCell" | "Mutex" | "Cow" | "PhantomData" => {
            Err(syn::Error::new_spanned(
                ty,
                format!(
                    "`{name}` cannot cross the plugin boundary: values are copied between host \
                     and plugin; use the inner type by value"
                ),
            ))
        }
        _ => {
            if !seg.arguments.is_empty() {
                return Err(syn::Error::new_spanned(
                    ty,
                    format!(
                        "`{name}<..>` is not supported: generic types cannot be plugin types; {SUPPORTED}"
                    ),
                ));
            }
            Ok((Ty::Named(name), Passing::Owned))
        }
    }
}

/// A span for errors about a whole type.
pub(crate) fn span_of(t: &impl ToTokens) -> Span {
    t.span()
}

/// `#[doc = "..."]` attributes for generated items.
pub(crate) fn doc_attrs(lines: &[String]) -> TokenStream {
    let mut out = TokenStream::new();
    for line in lines {
        let line = format!(" {line}");
        out.extend(quote!(#[doc = #line]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn ty(t: syn::Type, pos: Position) -> syn::Result<(Ty, Passing)> {
        classify(&t, pos)
    }

    #[test]
    fn rust_types_map_to_wit() {
        let names = |n: &str| n.to_lowercase();
        let cases: Vec<(syn::Type, &str)> = vec![
            (parse_quote!(bool), "bool"),
            (parse_quote!(i8), "s8"),
            (parse_quote!(u64), "u64"),
            (parse_quote!(f32), "f32"),
            (parse_quote!(char), "char"),
            (parse_quote!(String), "string"),
            (parse_quote!(Vec<u8>), "list<u8>"),
            (parse_quote!(Option<Vec<String>>), "option<list<string>>"),
            (parse_quote!(Result<u32, String>), "result<u32, string>"),
            (parse_quote!(Result<(), Fault>), "result<_, fault>"),
            (parse_quote!(Result<u32, ()>), "result<u32>"),
            (parse_quote!((u8, String)), "tuple<u8, string>"),
            (parse_quote!(std::vec::Vec<Document>), "list<document>"),
        ];
        for (t, want) in cases {
            let (got, passing) = ty(t, Position::Result).unwrap();
            assert_eq!(got.wit(&names), want);
            assert_eq!(passing, Passing::Owned);
        }
    }

    #[test]
    fn borrowed_arguments_only_as_parameters() {
        assert_eq!(
            ty(parse_quote!(&str), Position::Param).unwrap(),
            (Ty::String, Passing::Str)
        );
        assert_eq!(
            ty(parse_quote!(&[u32]), Position::Param).unwrap(),
            (Ty::List(Box::new(Ty::U32)), Passing::Slice)
        );
        let err = ty(parse_quote!(&str), Position::Result).unwrap_err();
        assert!(err.to_string().contains("cannot return a reference"));
        let err = ty(parse_quote!(&str), Position::Field).unwrap_err();
        assert!(err.to_string().contains("only allowed as method arguments"));
        let err = ty(parse_quote!(&mut String), Position::Param).unwrap_err();
        assert!(err.to_string().contains("&mut"));
    }

    #[test]
    fn unsupported_types_explain_themselves() {
        for (t, needle) in [
            (parse_quote!(HashMap<String, u32>), "Vec<(K, V)>"),
            (parse_quote!(usize), "u32"),
            (parse_quote!(*const u8), "raw pointers"),
            (parse_quote!(Box<u32>), "inner type by value"),
            (parse_quote!([u8; 4]), "Vec<T>"),
            (parse_quote!(Wrapper<u8>), "generic types"),
        ] {
            let t: syn::Type = t;
            let err = ty(t, Position::Param).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn names_become_kebab_case_or_an_error() {
        let id: syn::Ident = parse_quote!(filter_text);
        assert_eq!(to_wit_name(&id).unwrap(), "filter-text");
        let id: syn::Ident = parse_quote!(HttpRequest);
        assert_eq!(to_wit_name(&id).unwrap(), "http-request");
        let id: syn::Ident = parse_quote!(get_v2);
        assert_eq!(to_wit_name(&id).unwrap(), "get-v2");
        let id: syn::Ident = parse_quote!(item_2);
        assert!(to_wit_name(&id).is_err());
        assert_eq!(wit_ident("type"), "%type");
        assert_eq!(wit_ident("name"), "name");
        assert_eq!(bindgen_ident("type"), "type_");
        assert_eq!(bindgen_type("filter-error-too-long"), "FilterErrorTooLong");
    }
}
