//! Build tool for the C example plugins.
//!
//! It does the two steps of a C plugin's build that need the component-model
//! libraries, so that the build needs no extra command-line tools:
//!
//! * `bindgen` writes the C bindings of a WIT world (`<world>.h`, `<world>.c`
//!   and `<world>_component_type.o`, the object that carries the world's type
//!   information into the linked core module), using `wit-bindgen-c`.
//! * `componentize` turns a core wasm module built by clang for `wasm32-wasi`
//!   (WASI preview 1) into a component, using `wit-component` and the WASI
//!   preview 1 reactor adapter of wasmtime 48. Given `--wit` and `--world`, it
//!   also checks that the component has exactly that world's imports and
//!   exports (apart from WASI's).
//!
//! Run it without arguments for the usage.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, DecodedWasm};
use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

/// The usage text, printed with every command-line error.
const USAGE: &str = "\
usage:
  c-plugin-tool bindgen --wit <file-or-dir> --world <world> --out <dir>
  c-plugin-tool componentize --module <core.wasm> -o <out.wasm> [--wit <file-or-dir> --world <world>]";

/// Runs the subcommand; on failure prints the error chain and exits with 1.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("c-plugin-tool: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the command line and runs the chosen subcommand.
fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        bail!("no subcommand\n{USAGE}");
    };
    match command.as_str() {
        "bindgen" => {
            let opts = Options::parse(rest, &["--wit", "--world", "--out"])?;
            bindgen(
                Path::new(opts.required("--wit")?),
                opts.required("--world")?,
                Path::new(opts.required("--out")?),
            )
        }
        "componentize" => {
            let opts = Options::parse(rest, &["--module", "-o", "--wit", "--world"])?;
            let expected = match (opts.get("--wit"), opts.get("--world")) {
                (Some(wit), Some(world)) => Some((Path::new(wit), world)),
                (None, None) => None,
                _ => bail!("give both `--wit` and `--world`, or neither\n{USAGE}"),
            };
            componentize(
                Path::new(opts.required("--module")?),
                Path::new(opts.required("-o")?),
                expected,
            )
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown subcommand `{other}`\n{USAGE}"),
    }
}

/// A subcommand's options: flags each followed by a value, each at most once.
struct Options(BTreeMap<String, String>);

impl Options {
    /// Parses `args`, accepting only the flags in `allowed`.
    fn parse(args: &[String], allowed: &[&str]) -> Result<Self> {
        let mut values = BTreeMap::new();
        let mut iter = args.iter();
        while let Some(flag) = iter.next() {
            if !allowed.contains(&flag.as_str()) {
                bail!("unknown option `{flag}`\n{USAGE}");
            }
            let Some(value) = iter.next() else {
                bail!("`{flag}` needs a value\n{USAGE}");
            };
            if values.insert(flag.clone(), value.clone()).is_some() {
                bail!("`{flag}` given twice");
            }
        }
        Ok(Options(values))
    }

    /// The value of `flag`, if given.
    fn get(&self, flag: &str) -> Option<&str> {
        self.0.get(flag).map(String::as_str)
    }

    /// The value of `flag`, which must be given.
    fn required(&self, flag: &str) -> Result<&str> {
        self.get(flag)
            .with_context(|| format!("missing `{flag}`\n{USAGE}"))
    }
}

/// Loads the WIT at `path` (a file, which may hold nested packages, or a
/// directory) and finds `world` in its main package.
fn load_world(path: &Path, world: &str) -> Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let (package, _sources) = resolve
        .push_path(path)
        .with_context(|| format!("reading WIT from {}", path.display()))?;
    let world = resolve
        .select_world(&[package], Some(world))
        .with_context(|| format!("finding world `{world}` in {}", path.display()))?;
    Ok((resolve, world))
}

/// Writes the C bindings of `world` into the directory `out`.
fn bindgen(wit: &Path, world: &str, out: &Path) -> Result<()> {
    let (mut resolve, world) = load_world(wit, world)?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .context("generating the C bindings")?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, contents) in files.iter() {
        let path = out.join(name);
        write_if_changed(&path, contents)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Writes `contents` to `path` unless the file already holds exactly that,
/// so that unchanged bindings keep their modification time.
fn write_if_changed(path: &Path, contents: &[u8]) -> Result<()> {
    if fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// Turns the core module `module` into a component written to `output`, and
/// checks it against `expected` (a WIT path and world name) when given.
fn componentize(module: &Path, output: &Path, expected: Option<(&Path, &str)>) -> Result<()> {
    let core = fs::read(module).with_context(|| format!("reading {}", module.display()))?;
    let component = ComponentEncoder::default()
        .module(&core)
        .context("reading the core module's component type (was the bindings' `_component_type.o` linked in?)")?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .context("loading the WASI preview 1 reactor adapter")?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    if let Some((wit, world)) = expected {
        check_world(&component, wit, world)?;
    }
    fs::write(output, &component).with_context(|| format!("writing {}", output.display()))?;
    println!("wrote {} ({} bytes)", output.display(), component.len());
    Ok(())
}

/// Fails unless `component`'s imports and exports, leaving out WASI's, are
/// exactly those of `world` in the WIT at `wit`.
fn check_world(component: &[u8], wit: &Path, world: &str) -> Result<()> {
    let (resolve, world) = load_world(wit, world)?;
    let want = world_items(&resolve, world);
    let DecodedWasm::Component(got_resolve, got_world) =
        wit_component::decode(component).context("decoding the new component")?
    else {
        bail!("the encoder produced a WIT package, not a component");
    };
    let got = world_items(&got_resolve, got_world);
    if got != want {
        bail!(
            "the component does not match world `{}`:\n  expected {want:?}\n  found    {got:?}",
            resolve.worlds[world].name
        );
    }
    Ok(())
}

/// The imports and exports of a world as sorted names, without `wasi:`
/// interfaces (the adapter adds those) and without types.
fn world_items(resolve: &Resolve, world: WorldId) -> (BTreeSet<String>, BTreeSet<String>) {
    let names = |items: &wit_parser::IndexMap<WorldKey, WorldItem>| {
        items
            .iter()
            .filter(|(_, item)| !matches!(item, WorldItem::Type { .. }))
            .map(|(key, _)| resolve.name_world_key(key))
            .filter(|name| !name.starts_with("wasi:"))
            .collect::<BTreeSet<_>>()
    };
    let world = &resolve.worlds[world];
    (names(&world.imports), names(&world.exports))
}
