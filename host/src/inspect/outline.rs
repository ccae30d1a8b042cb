//! [`ComponentOutline`]: a component's imports and exports read from the
//! binary alone, without compiling it.
//!
//! [`ComponentInfo`](crate::ComponentInfo) asks wasmtime, which knows a
//! component's types only once it has compiled it, so it fails on a
//! component wasmtime will not compile (a WebAssembly feature it has off, a
//! component-model feature it does not support yet) and takes the compile
//! time. An outline reads the WIT a component carries in its type sections
//! instead: it works on any valid component, in milliseconds. The input is
//! checked as for loading first (size, nesting depth, type nesting), so a
//! hostile file cannot make the reading recurse without bound.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wit_parser::{Resolve, Type, TypeDefKind, WorldItem, WorldKey};

use crate::builder::loader::{self, Source};
use crate::error::{Error, Result};
use crate::guard::host::unversioned;
use crate::inspect::{ComponentImport, common_package};
use crate::policy::{Compiled, SecurityPolicy};

/// A plugin's imports and exports, read from the component's binary without
/// compiling it: what `wasm-sandbox inspect` shows.
///
/// Unlike [`ComponentInfo`](crate::ComponentInfo), which compiles the
/// component to learn its types from wasmtime, an outline works on any
/// valid component, including one wasmtime would refuse to compile, and
/// describes each type in WIT (as text).
///
/// ```no_run
/// use wasm_sandbox::ComponentOutline;
///
/// # fn run() -> wasm_sandbox::Result<()> {
/// let outline = ComponentOutline::from_file("plugins/greeter.wasm")?;
/// for export in &outline.exports {
///     println!("{}: {}", export.name, export.signature);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ComponentOutline {
    /// The WIT package the exported interfaces belong to, when they all
    /// belong to one (as [`ComponentInfo::package`](crate::ComponentInfo::package)).
    pub package: Option<String>,
    /// Everything the component imports, with the capability each needs.
    pub imports: Vec<ComponentImport>,
    /// Every function the component exports.
    pub exports: Vec<ExportOutline>,
    /// The interfaces it exports, by full name.
    pub exported_interfaces: Vec<String>,
    /// What it uses of the component model's async ABI (empty for most
    /// plugins); a sandbox gives such a plugin wasmtime's concurrency
    /// support.
    pub async_abi: Vec<String>,
}

/// One exported function, in WIT terms.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportOutline {
    /// The name to call it by: `greet`, or `example:calculator/math@0.1.0#add`.
    pub name: String,
    /// The shortest unambiguous name: `greet`, or `math#add`.
    pub short_name: String,
    /// The exported interface it belongs to, if any.
    pub interface: Option<String>,
    /// The function's own name (`add`, `[method]tally.add`).
    pub function: String,
    /// The parameters: name and WIT type.
    pub params: Vec<(String, String)>,
    /// The result's WIT type, if any.
    pub result: Option<String>,
    /// The WIT signature: `func(a: u32, b: u32) -> u32`.
    pub signature: String,
}

impl std::fmt::Display for ExportOutline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.function, self.signature)
    }
}

impl ComponentOutline {
    /// Whether the component is a command: a program with a `main`, which
    /// exports `wasi:cli/run@0.2.x` (run it with
    /// [`Plugin::command`](crate::Plugin::command)). Its `package` is then
    /// WASI's, not the program's.
    pub fn is_command(&self) -> bool {
        self.exports.iter().any(|e| {
            e.function == "run"
                && e.interface
                    .as_deref()
                    .is_some_and(|i| i.starts_with("wasi:cli/run@0.2"))
        })
    }

    /// Reads the component at `path` (binary or text format).
    ///
    /// # Errors
    ///
    /// As when loading a plugin: [`Error::Io`], [`Error::NotARegularFile`],
    /// [`Error::InputTooLarge`], [`Error::InvalidBinary`] (also for a WIT
    /// package encoded as WebAssembly, which is not a plugin),
    /// [`Error::NotAComponent`], [`Error::ComponentTooComplex`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<ComponentOutline> {
        ComponentOutline::read(&Source::Path(PathBuf::from(path.as_ref())))
    }

    /// Reads the component in `bytes` (binary or text format).
    ///
    /// # Errors
    ///
    /// As [`from_file`](Self::from_file), except for reading a file.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<ComponentOutline> {
        ComponentOutline::read(&Source::Bytes(Arc::from(bytes.into())))
    }

    fn read(source: &Source) -> Result<ComponentOutline> {
        let origin = source.origin();
        let binary = loader::checked_binary(source, &crate::read::InputLimits::default())?;
        let invalid = |reason: String| Error::InvalidBinary {
            origin: origin.clone(),
            reason,
        };
        let (resolve, world) = match wit_parser::decoding::decode(&binary) {
            Ok(wit_parser::decoding::DecodedWasm::Component(resolve, world)) => (resolve, world),
            Ok(wit_parser::decoding::DecodedWasm::WitPackage(..)) => {
                return Err(invalid(
                    "it is a WIT package encoded as WebAssembly (what `wasm-tools component wit \
                     --wasm` makes), which describes interfaces but contains no code; inspect \
                     the plugin built from it"
                        .to_string(),
                ));
            }
            Err(e) => return Err(invalid(format!("{e:#}"))),
        };
        Ok(outline(
            &resolve,
            world,
            crate::builder::async_abi::uses(&binary),
        ))
    }
}

fn outline(
    resolve: &Resolve,
    world: wit_parser::WorldId,
    async_abi: Vec<String>,
) -> ComponentOutline {
    let w = &resolve.worlds[world];
    let nothing_granted = Compiled::new(&SecurityPolicy::strict()).ok();
    let imports = w
        .imports
        .iter()
        .map(|(key, item)| {
            let name = resolve.name_world_key(key);
            let (functions, types_only) = match item {
                WorldItem::Interface { id, .. } => {
                    let iface = &resolve.interfaces[*id];
                    let functions: Vec<String> = iface.functions.keys().cloned().collect();
                    // A resource type is provided by the host, like a
                    // function: only plain type definitions are "types only".
                    let resources = iface
                        .types
                        .values()
                        .any(|t| matches!(resolve.types[*t].kind, TypeDefKind::Resource));
                    let types_only = functions.is_empty() && !resources;
                    (functions, types_only)
                }
                WorldItem::Function(f) => (vec![f.name.clone()], false),
                WorldItem::Type { .. } => (Vec::new(), true),
            };
            let capability = match (&nothing_granted, types_only) {
                (Some(nothing), false) => nothing.needed_capability(&name).map(|c| {
                    if c == "Capability::Custom(..)" {
                        format!("Capability::Custom(\"{}\")", unversioned(&name))
                    } else {
                        c.to_string()
                    }
                }),
                _ => None,
            };
            ComponentImport {
                name,
                functions,
                types_only,
                capability,
            }
        })
        // A world's own type definitions are not imports a host provides.
        .filter(|i| !(i.types_only && i.functions.is_empty() && !i.name.contains(':')))
        .collect();
    let mut exports = Vec::new();
    let mut exported_interfaces = Vec::new();
    for (key, item) in &w.exports {
        match item {
            WorldItem::Function(f) => exports.push(export(resolve, None, f)),
            WorldItem::Interface { id, .. } => {
                let name = match key {
                    WorldKey::Name(n) => n.clone(),
                    WorldKey::Interface(_) => resolve.name_world_key(key),
                };
                exported_interfaces.push(name.clone());
                for f in resolve.interfaces[*id].functions.values() {
                    exports.push(export(resolve, Some(&name), f));
                }
            }
            WorldItem::Type { .. } => {}
        }
    }
    short_names(&mut exports);
    ComponentOutline {
        package: common_package(&exported_interfaces),
        imports,
        exports,
        exported_interfaces,
        async_abi,
    }
}

fn export(resolve: &Resolve, interface: Option<&str>, f: &wit_parser::Function) -> ExportOutline {
    let params: Vec<(String, String)> = f
        .params
        .iter()
        .map(|p| (p.name.clone(), render(resolve, &p.ty, 0)))
        .collect();
    let result = f.result.as_ref().map(|t| render(resolve, t, 0));
    let mut signature = format!(
        "func({})",
        params
            .iter()
            .map(|(n, t)| format!("{n}: {t}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(r) = &result {
        signature.push_str(" -> ");
        signature.push_str(r);
    }
    let name = match interface {
        Some(i) => format!("{i}#{}", f.name),
        None => f.name.clone(),
    };
    ExportOutline {
        short_name: name.clone(),
        name,
        interface: interface.map(str::to_string),
        function: f.name.clone(),
        params,
        result,
        signature,
    }
}

/// `math#add` where the interface's short name is unambiguous among the
/// exports, else the full name.
fn short_names(exports: &mut [ExportOutline]) {
    let short_of = |e: &ExportOutline| -> String {
        match &e.interface {
            None => e.function.clone(),
            Some(i) => {
                let unversioned = i.split('@').next().unwrap_or(i);
                let short = unversioned.rsplit('/').next().unwrap_or(unversioned);
                format!("{short}#{}", e.function)
            }
        }
    };
    let shorts: Vec<String> = exports.iter().map(short_of).collect();
    for (i, e) in exports.iter_mut().enumerate() {
        if shorts.iter().filter(|s| **s == shorts[i]).count() == 1 {
            e.short_name = shorts[i].clone();
        }
    }
}

/// The WIT spelling of `ty`: named types by name, the rest spelled out.
/// Depth-bounded (the loader refuses deeper type nesting before this runs).
fn render(resolve: &Resolve, ty: &Type, depth: usize) -> String {
    if depth > 64 {
        return "..".to_string();
    }
    let d = depth + 1;
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
            let named = |r: wit_parser::TypeId| {
                resolve.types[r]
                    .name
                    .clone()
                    .unwrap_or_else(|| "resource".to_string())
            };
            match &def.kind {
                TypeDefKind::Handle(wit_parser::Handle::Own(r)) => named(*r),
                TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) => {
                    format!("borrow<{}>", named(*r))
                }
                _ if def.name.is_some() => def.name.clone().unwrap_or_default(),
                TypeDefKind::Type(t) => render(resolve, t, d),
                TypeDefKind::List(t) => format!("list<{}>", render(resolve, t, d)),
                TypeDefKind::FixedLengthList(t, n) => {
                    format!("list<{}, {n}>", render(resolve, t, d))
                }
                TypeDefKind::Option(t) => format!("option<{}>", render(resolve, t, d)),
                TypeDefKind::Result(r) => match (&r.ok, &r.err) {
                    (None, None) => "result".into(),
                    (Some(ok), None) => format!("result<{}>", render(resolve, ok, d)),
                    (ok, Some(err)) => format!(
                        "result<{}, {}>",
                        ok.as_ref()
                            .map_or("_".to_string(), |t| render(resolve, t, d)),
                        render(resolve, err, d)
                    ),
                },
                TypeDefKind::Tuple(t) => format!(
                    "tuple<{}>",
                    t.types
                        .iter()
                        .map(|t| render(resolve, t, d))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                TypeDefKind::Future(t) => match t {
                    Some(t) => format!("future<{}>", render(resolve, t, d)),
                    None => "future".into(),
                },
                TypeDefKind::Stream(t) => match t {
                    Some(t) => format!("stream<{}>", render(resolve, t, d)),
                    None => "stream".into(),
                },
                TypeDefKind::Record(_) => "record".into(),
                TypeDefKind::Variant(_) => "variant".into(),
                TypeDefKind::Enum(_) => "enum".into(),
                TypeDefKind::Flags(_) => "flags".into(),
                TypeDefKind::Resource => "resource".into(),
                _ => "type".into(),
            }
        }
    }
}
