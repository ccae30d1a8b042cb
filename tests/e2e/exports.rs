//! `list_exports` agrees with the WIT the plugins were built from.
//!
//! The expected signatures are rendered here from the WIT files with
//! `wit-parser`, independently of the host's own renderer.

use std::collections::BTreeMap;
use std::path::Path;

use wit_parser::{Resolve, Type, TypeDefKind, WorldItem, WorldKey};

use crate::{calculator, greeter};

/// `short name -> "fn: func(..) -> .."` for every function a world exports.
fn exported_from_wit(dir: &str, world: &str) -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wit")
        .join(dir);
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(&root).unwrap();
    let world = resolve.select_world(&[pkg], Some(world)).unwrap();
    let mut out = BTreeMap::new();
    for (key, item) in &resolve.worlds[world].exports {
        match item {
            WorldItem::Function(f) => {
                out.insert(f.name.clone(), render_fn(&resolve, f));
            }
            WorldItem::Interface { id, .. } => {
                let iface = &resolve.interfaces[*id];
                let short = match key {
                    WorldKey::Name(n) => n.clone(),
                    WorldKey::Interface(_) => iface.name.clone().unwrap(),
                };
                for (name, f) in &iface.functions {
                    out.insert(format!("{short}#{name}"), render_fn(&resolve, f));
                }
            }
            WorldItem::Type { .. } => {}
        }
    }
    out
}

fn render_fn(resolve: &Resolve, f: &wit_parser::Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, render(resolve, &p.ty)))
        .collect();
    let mut s = format!("{}: func({})", f.name, params.join(", "));
    if let Some(r) = &f.result {
        s.push_str(" -> ");
        s.push_str(&render(resolve, r));
    }
    s
}

fn render(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => {
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
                other => panic!("the example WIT uses no anonymous {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn calculator_exports_match_its_wit() {
    let sandbox = calculator().await;
    let from_wit = exported_from_wit("calculator", "calculator");
    let from_host: BTreeMap<String, String> = sandbox
        .list_exports()
        .iter()
        .map(|e| (e.short_name().to_string(), e.to_string()))
        .collect();
    assert_eq!(from_host, from_wit);
    assert_eq!(from_wit.len(), 9, "{from_wit:#?}");
}

#[tokio::test]
async fn greeter_exports_match_its_wit() {
    let sandbox = greeter().await;
    let from_wit = exported_from_wit("example-interfaces/greeter", "greeter");
    let from_host: BTreeMap<String, String> = sandbox
        .list_exports()
        .iter()
        .map(|e| (e.short_name().to_string(), e.to_string()))
        .collect();
    assert_eq!(from_host, from_wit);
}

#[tokio::test]
async fn export_metadata_describes_each_function() {
    let sandbox = calculator().await;
    let add = sandbox.export("math#add").unwrap();
    assert_eq!(add.name(), "example:calculator/math@0.1.0#add");
    assert_eq!(add.short_name(), "math#add");
    assert_eq!(add.interface(), Some("example:calculator/math@0.1.0"));
    assert_eq!(add.function(), "add");
    assert_eq!(add.signature(), "func(a: u32, b: u32) -> u32");
    let params: Vec<&str> = add.params().map(|(name, _)| name).collect();
    assert_eq!(params, ["a", "b"]);
    assert!(add.result().is_some());

    let clear = sandbox.export("clear").unwrap();
    assert_eq!(clear.interface(), None);
    assert!(clear.result().is_none());
    assert_eq!(clear.to_string(), "clear: func()");
}
