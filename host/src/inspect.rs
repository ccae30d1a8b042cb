//! [`ComponentInfo`]: what a plugin imports and exports, and which
//! capabilities it could ever use, found without running it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::types::ComponentItem;

pub(crate) mod outline;

use crate::builder::loader::{self, Source};
use crate::cache::{CacheOutcome, CompileCache};
use crate::engine::{Engine, EngineConfig};
use crate::error::Result;
use crate::guard::host::unversioned;
use crate::plugin::exports::{ExportFunction, Exports};
use crate::policy::{Compiled, SecurityPolicy};

/// A plugin's imports and exports, read from the component without linking
/// or instantiating it: what `wasm-sandbox inspect` shows.
///
/// ```no_run
/// use wasm_sandbox::ComponentInfo;
///
/// # fn run() -> wasm_sandbox::Result<()> {
/// let info = ComponentInfo::from_file("plugins/file_reader.wasm")?;
/// for export in info.exports() {
///     println!("export {:<20} {export}", export.short_name());
/// }
/// for import in info.imports() {
///     match &import.capability {
///         Some(needs) => println!("import {} (needs {needs})", import.name),
///         None => println!("import {}", import.name),
///     }
/// }
/// # Ok(()) }
/// ```
///
/// The component is compiled, as a sandbox would compile it (on the shared
/// [`Engine`], through the compile cache), because wasmtime reads a
/// component's types from the compiled form; a later sandbox for the same
/// plugin then finds it in the cache.
#[derive(Clone, Debug)]
pub struct ComponentInfo {
    package: Option<String>,
    imports: Vec<ComponentImport>,
    exports: Vec<ExportFunction>,
    exported_interfaces: Vec<String>,
    cache_outcome: Option<CacheOutcome>,
}

/// One import of a component: an interface (or a single function) the
/// plugin expects the host to provide, and the capability a policy must
/// grant before the plugin may use it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComponentImport {
    /// The import's name, for example `wasi:filesystem/types@0.2.6`.
    pub name: String,
    /// The functions the plugin imports from it, by name (for a function
    /// imported on its own, just that function).
    pub functions: Vec<String>,
    /// The import only shares type definitions (records, enums); the plugin
    /// cannot call anything through it, so it never needs a capability.
    pub types_only: bool,
    /// The capability a policy must grant before the plugin may use the
    /// import, in the words of [`Error::UnsatisfiableImport`](crate::Error::UnsatisfiableImport)
    /// (for example `Capability::FileRead or Capability::FileWrite`); `None`
    /// for imports every plugin may use (clocks, random numbers, stdio, the
    /// plugin's log and configuration).
    pub capability: Option<String>,
}

impl ComponentInfo {
    /// Reads and compiles the component at `path` (binary or text format).
    ///
    /// # Errors
    ///
    /// As when loading a plugin: [`Error::Io`](crate::Error::Io),
    /// [`Error::NotARegularFile`](crate::Error::NotARegularFile),
    /// [`Error::InputTooLarge`](crate::Error::InputTooLarge) (over the
    /// default 256 MiB),
    /// [`Error::InvalidBinary`](crate::Error::InvalidBinary),
    /// [`Error::NotAComponent`](crate::Error::NotAComponent) or
    /// [`Error::Compile`](crate::Error::Compile).
    pub fn from_file(path: impl AsRef<Path>) -> Result<ComponentInfo> {
        ComponentInfo::read(&Source::Path(PathBuf::from(path.as_ref())))
    }

    /// Compiles the component in `bytes` (binary or text format).
    ///
    /// # Errors
    ///
    /// As [`from_file`](Self::from_file), except for reading a file.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<ComponentInfo> {
        ComponentInfo::read(&Source::Bytes(Arc::from(bytes.into())))
    }

    fn read(source: &Source) -> Result<ComponentInfo> {
        let cache = CompileCache::new(CompileCache::default_dir(), CompileCache::DEFAULT_MAX_BYTES);
        // A component that uses the component model's async ABI is read on
        // an engine with wasmtime's concurrency support, as a sandbox would
        // load it.
        let (
            engine,
            loader::Loaded {
                component,
                cache_outcome,
                ..
            },
        ) = loader::compile(
            |uses| {
                if uses.is_empty() {
                    Engine::shared()
                } else {
                    Engine::for_config(EngineConfig::new().concurrency_support(true))
                }
            },
            source,
            Some(&cache),
            &crate::read::InputLimits::default(),
        )?;
        let wasmtime_engine = engine.wasmtime();
        let ty = component.component_type();
        // With no grants at all, every import that needs a capability says so.
        let nothing_granted = Compiled::new(&SecurityPolicy::strict())?;
        let imports = ty
            .imports(wasmtime_engine)
            .map(|(name, item)| {
                let (functions, types_only) = match &item.ty {
                    ComponentItem::ComponentInstance(instance) => {
                        let mut functions = Vec::new();
                        let mut types_only = true;
                        for (export, e) in instance.exports(wasmtime_engine) {
                            match e.ty {
                                ComponentItem::ComponentFunc(_) => {
                                    functions.push(export.to_string());
                                    types_only = false;
                                }
                                ComponentItem::Type(_) => {}
                                _ => types_only = false,
                            }
                        }
                        (functions, types_only)
                    }
                    ComponentItem::ComponentFunc(_) => (vec![name.to_string()], false),
                    ComponentItem::Type(_) => (Vec::new(), true),
                    _ => (Vec::new(), false),
                };
                let capability = if types_only {
                    None
                } else {
                    nothing_granted.needed_capability(name).map(|c| {
                        if c == "Capability::Custom(..)" {
                            format!("Capability::Custom(\"{}\")", unversioned(name))
                        } else {
                            c.to_string()
                        }
                    })
                };
                ComponentImport {
                    name: name.to_string(),
                    functions,
                    types_only,
                    capability,
                }
            })
            .collect();
        let exported_interfaces: Vec<String> = ty
            .exports(wasmtime_engine)
            .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentInstance(_)))
            .map(|(name, _)| name.to_string())
            .collect();
        Ok(ComponentInfo {
            package: common_package(&exported_interfaces),
            imports,
            exports: Exports::new(&component).list().to_vec(),
            exported_interfaces,
            cache_outcome,
        })
    }

    /// The WIT package the plugin's exported interfaces belong to, for
    /// example `example:calculator@0.1.0`, when they all belong to one.
    ///
    /// A component does not record the name of the world it was built for,
    /// only what it imports and exports; the package is what its exports
    /// say.
    pub fn package(&self) -> Option<&str> {
        self.package.as_deref()
    }

    /// Everything the plugin imports, in the component's order.
    pub fn imports(&self) -> &[ComponentImport] {
        &self.imports
    }

    /// Every function the plugin exports, with its WIT signature, as
    /// [`WasmSandbox::list_exports`](crate::Plugin::list_exports) lists
    /// them.
    pub fn exports(&self) -> &[ExportFunction] {
        &self.exports
    }

    /// The interfaces the plugin exports, by full name (for example
    /// `example:calculator/math@0.1.0`).
    pub fn exported_interfaces(&self) -> &[String] {
        &self.exported_interfaces
    }

    /// Every capability the plugin could ever use, given its imports: each
    /// distinct [`ComponentImport::capability`], in the order of first use.
    /// A policy that grants none of them still lets the plugin load and
    /// compute; a plugin with an empty list can do nothing privileged at all.
    pub fn needed_capabilities(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for capability in self.imports.iter().filter_map(|i| i.capability.as_deref()) {
            if !out.contains(&capability) {
                out.push(capability);
            }
        }
        out
    }

    /// What the compile cache did while reading the component: `None` when
    /// the cache could not be used at all.
    pub fn cache_outcome(&self) -> Option<&CacheOutcome> {
        self.cache_outcome.as_ref()
    }
}

/// `ns:pkg@1.0.0` when every interface is `ns:pkg/<name>@1.0.0`.
pub(crate) fn common_package(interfaces: &[String]) -> Option<String> {
    let mut package: Option<String> = None;
    // Interfaces exported under a plain name (`exports`, which
    // componentize-py adds) belong to no package and say nothing about it.
    for name in interfaces.iter().filter(|n| n.contains(':')) {
        let (path, version) = match name.split_once('@') {
            Some((path, version)) => (path, Some(version)),
            None => (name.as_str(), None),
        };
        let (pkg, _interface) = path.rsplit_once('/')?;
        let this = match version {
            Some(v) => format!("{pkg}@{v}"),
            None => pkg.to_string(),
        };
        match &package {
            None => package = Some(this),
            Some(p) if *p == this => {}
            Some(_) => return None,
        }
    }
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_is_named_only_when_every_export_agrees() {
        let one = vec![
            "example:calculator/math@0.1.0".to_string(),
            "example:calculator/stats@0.1.0".to_string(),
        ];
        assert_eq!(
            common_package(&one).as_deref(),
            Some("example:calculator@0.1.0")
        );
        let two = vec![
            "example:calculator/math@0.1.0".to_string(),
            "acme:other/thing".to_string(),
        ];
        assert_eq!(common_package(&two), None);
        assert_eq!(common_package(&[]), None);
        let python = vec!["exports".to_string(), "acme:kv/plugin@1.0.0".to_string()];
        assert_eq!(common_package(&python).as_deref(), Some("acme:kv@1.0.0"));
        assert_eq!(
            common_package(&["acme:kv/store".to_string()]).as_deref(),
            Some("acme:kv")
        );
    }

    #[test]
    fn imports_are_mapped_to_the_capability_they_need() {
        // A component importing a file-system interface, a type-only
        // interface, a clock and an app interface, exporting one function.
        let wat = r#"
            (component
              (import "wasi:filesystem/preopens@0.2.6" (instance
                (export "get-directories" (func (result (list u32))))))
              (type $point (record (field "x" u32) (field "y" u32)))
              (import "acme:shared/types" (instance
                (export "point" (type (eq $point)))))
              (import "wasi:clocks/monotonic-clock@0.2.6" (instance
                (export "now" (func (result u64)))))
              (import "acme:kv/store@1.0.0" (instance
                (export "get" (func (param "key" string) (result (option string))))))
              (core module $m (func (export "f") (result i32) i32.const 7))
              (core instance $i (instantiate $m))
              (func (export "seven") (result s32) (canon lift (core func $i "f")))
            )"#;
        let info = ComponentInfo::from_bytes(wat).unwrap();
        let by_name = |n: &str| info.imports().iter().find(|i| i.name == n).unwrap();
        let fs = by_name("wasi:filesystem/preopens@0.2.6");
        assert_eq!(fs.functions, ["get-directories"]);
        assert_eq!(
            fs.capability.as_deref(),
            Some("Capability::FileRead or Capability::FileWrite")
        );
        let types = by_name("acme:shared/types");
        assert!(types.types_only);
        assert_eq!(types.capability, None);
        assert_eq!(
            by_name("wasi:clocks/monotonic-clock@0.2.6").capability,
            None
        );
        assert_eq!(
            by_name("acme:kv/store@1.0.0").capability.as_deref(),
            Some("Capability::Custom(\"acme:kv/store\")")
        );
        assert_eq!(
            info.needed_capabilities(),
            [
                "Capability::FileRead or Capability::FileWrite",
                "Capability::Custom(\"acme:kv/store\")"
            ]
        );
        assert_eq!(info.exports().len(), 1);
        assert_eq!(info.exports()[0].to_string(), "seven: func() -> s32");
        assert!(info.exported_interfaces().is_empty());
        assert_eq!(info.package(), None);
    }

    #[test]
    fn a_core_module_is_refused_as_when_loading() {
        let err = ComponentInfo::from_bytes("(module)").unwrap_err();
        assert!(matches!(err, crate::Error::NotAComponent { .. }), "{err}");
    }
}
