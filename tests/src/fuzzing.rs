//! The bodies of the fuzz targets in `fuzz/`, shared with the corpus replay
//! in `tests/e2e/fuzz_corpus.rs`, so that every input the fuzzer ever kept
//! (and every reproducer checked in) runs again in a stable `cargo test`.
//!
//! The `fuzz/` crate includes this file as a module of its own (with
//! `#[path]`), so that its nightly build does not build the example
//! plugins: both crates define `type_probe_path()` at their root, this one
//! from `example_plugins`, the fuzz crate from `WASM_SANDBOX_TYPE_PROBE`
//! (set by `fuzz/run.sh`).
//!
//! Each function takes arbitrary bytes and must return: a typed error is
//! fine, a panic, a hang or unbounded memory is a finding. Where an input
//! is accepted, the function also checks what must then hold.

use wasm_sandbox::{BlockingSandbox, ComponentInfo, SecurityPolicy, WasmSandbox};
use wasmtime::component::Val;
use wasmtime::component::types::Type;

/// Arbitrary bytes as a plugin: inspecting and building it return, with a
/// value or a typed error.
pub fn load(data: &[u8]) {
    let _ = ComponentInfo::from_bytes(data.to_vec());
    let _ = WasmSandbox::builder()
        .bytes(data.to_vec())
        .enable_cache(false)
        .build_blocking();
}

/// Arbitrary text as a policy, in TOML and in JSON. A policy that parses is
/// validated and compared with itself; its TOML form reads back as the same
/// policy.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [
        SecurityPolicy::from_toml(text),
        SecurityPolicy::from_json(text),
    ] {
        let Ok(policy) = parsed else {
            continue;
        };
        let _ = policy.validate();
        assert!(
            !policy.diff(&policy).widens(),
            "a policy widens itself: {policy:?}"
        );
        let written = policy.to_toml();
        if let Ok(again) = SecurityPolicy::from_toml(&written) {
            assert_eq!(
                again, policy,
                "the TOML form reads back differently:\n{written}"
            );
        }
    }
}

/// The `type-probe` plugin, loaded once per process.
fn probe() -> &'static BlockingSandbox {
    static PROBE: std::sync::OnceLock<BlockingSandbox> = std::sync::OnceLock::new();
    PROBE.get_or_init(|| {
        WasmSandbox::builder()
            .source(crate::type_probe_path())
            .build_blocking()
            .expect("the type-probe plugin loads")
    })
}

/// The position of the `type-probe` export whose function is `function`,
/// for inputs that pick a function with their first byte.
pub fn probe_export_index(function: &str) -> Option<usize> {
    probe()
        .list_exports()
        .iter()
        .position(|e| e.function() == function)
}

/// Arbitrary text as WAVE arguments for one of the `type-probe` plugin's
/// functions (the first byte picks the function): parsing returns a value
/// or an error, and a value parses back from its own WAVE form.
pub fn wave(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let exports = probe().list_exports();
    let export = &exports[usize::from(pick) % exports.len()];
    let Some((_, ty)) = export.params().next() else {
        return;
    };
    if let Ok(val) = Val::from_wave(ty, text) {
        let written = val.to_wave().expect("a parsed value writes as WAVE");
        let again = Val::from_wave(ty, &written).expect("its WAVE form parses");
        assert!(
            same(&val, &again),
            "{text:?} -> {written:?} reads back differently"
        );
    }
}

/// Arbitrary typed values into the `type-probe` plugin's echo functions
/// (the first byte picks the function, the rest makes the value): the call
/// returns, and an `echo-*` function returns what it was given.
pub fn call(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let sandbox = probe();
    let exports = sandbox.list_exports();
    let export = &exports[usize::from(pick) % exports.len()];
    let mut bytes = Bytes(rest);
    let mut params = Vec::new();
    for (_, ty) in export.params() {
        match make(ty, &mut bytes, 0) {
            Some(v) => params.push(v),
            None => return,
        }
    }
    let Ok(results) = sandbox.call_dynamic(export.name(), &params) else {
        return;
    };
    if export.function().starts_with("echo-") && params.len() == 1 && results.len() == 1 {
        assert!(
            same(&params[0], &results[0]),
            "{} returned {:?} for {:?}",
            export.name(),
            results[0],
            params[0]
        );
    }
}

/// Equality of values, with NaNs equal to NaNs (a float can come back as a
/// different NaN).
fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Float32(x), Val::Float32(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Val::Float64(x), Val::Float64(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Val::List(x), Val::List(y)) | (Val::Tuple(x), Val::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Val::Record(x), Val::Record(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((n, a), (m, b))| n == m && same(a, b))
        }
        (Val::Option(x), Val::Option(y)) => match (x, y) {
            (Some(a), Some(b)) => same(a, b),
            (None, None) => true,
            _ => false,
        },
        (Val::Result(x), Val::Result(y)) => match (x, y) {
            (Ok(a), Ok(b)) | (Err(a), Err(b)) => match (a, b) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            },
            _ => false,
        },
        (Val::Variant(n, x), Val::Variant(m, y)) => {
            n == m
                && match (x, y) {
                    (Some(a), Some(b)) => same(a, b),
                    (None, None) => true,
                    _ => false,
                }
        }
        _ => a == b,
    }
}

/// Fuzz bytes, consumed from the front; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }

    fn byte(&mut self) -> u8 {
        self.take::<1>()[0]
    }

    fn len(&mut self, max: usize) -> usize {
        usize::from(self.byte()) % (max + 1)
    }
}

/// A value of type `ty` made from `bytes`; `None` for types a plugin call
/// cannot take from the host this way (resources, futures, streams).
fn make(ty: &Type, bytes: &mut Bytes<'_>, depth: u32) -> Option<Val> {
    if depth > 8 {
        return None;
    }
    let d = depth + 1;
    Some(match ty {
        Type::Bool => Val::Bool(bytes.byte() & 1 == 1),
        Type::S8 => Val::S8(i8::from_le_bytes(bytes.take())),
        Type::U8 => Val::U8(bytes.byte()),
        Type::S16 => Val::S16(i16::from_le_bytes(bytes.take())),
        Type::U16 => Val::U16(u16::from_le_bytes(bytes.take())),
        Type::S32 => Val::S32(i32::from_le_bytes(bytes.take())),
        Type::U32 => Val::U32(u32::from_le_bytes(bytes.take())),
        Type::S64 => Val::S64(i64::from_le_bytes(bytes.take())),
        Type::U64 => Val::U64(u64::from_le_bytes(bytes.take())),
        Type::Float32 => Val::Float32(f32::from_le_bytes(bytes.take())),
        Type::Float64 => Val::Float64(f64::from_le_bytes(bytes.take())),
        Type::Char => Val::Char(char::from_u32(u32::from_le_bytes(bytes.take())).unwrap_or('?')),
        Type::String => {
            let n = bytes.len(64);
            let raw: Vec<u8> = (0..n).map(|_| bytes.byte()).collect();
            Val::String(String::from_utf8_lossy(&raw).into_owned())
        }
        Type::List(list) => {
            let n = bytes.len(16);
            let elem = list.ty();
            Val::List(
                (0..n)
                    .map(|_| make(&elem, bytes, d))
                    .collect::<Option<_>>()?,
            )
        }
        Type::Record(record) => Val::Record(
            record
                .fields()
                .map(|f| Some((f.name.to_string(), make(&f.ty, bytes, d)?)))
                .collect::<Option<_>>()?,
        ),
        Type::Tuple(tuple) => Val::Tuple(
            tuple
                .types()
                .map(|t| make(&t, bytes, d))
                .collect::<Option<_>>()?,
        ),
        Type::Variant(variant) => {
            let cases: Vec<_> = variant.cases().collect();
            let case = &cases[usize::from(bytes.byte()) % cases.len()];
            let payload = match &case.ty {
                Some(t) => Some(Box::new(make(t, bytes, d)?)),
                None => None,
            };
            Val::Variant(case.name.to_string(), payload)
        }
        Type::Enum(e) => {
            let names: Vec<&str> = e.names().collect();
            Val::Enum(names[usize::from(bytes.byte()) % names.len()].to_string())
        }
        Type::Option(opt) => Val::Option(if bytes.byte() & 1 == 1 {
            Some(Box::new(make(&opt.ty(), bytes, d)?))
        } else {
            None
        }),
        Type::Result(result) => {
            let (side, ty) = if bytes.byte() & 1 == 1 {
                (true, result.ok())
            } else {
                (false, result.err())
            };
            let payload = match ty {
                Some(t) => Some(Box::new(make(&t, bytes, d)?)),
                None => None,
            };
            Val::Result(if side { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(flags) => {
            let mask = u64::from_le_bytes(bytes.take());
            Val::Flags(
                flags
                    .names()
                    .enumerate()
                    .filter(|(i, _)| mask >> (i % 64) & 1 == 1)
                    .map(|(_, n)| n.to_string())
                    .collect(),
            )
        }
        _ => return None,
    })
}
