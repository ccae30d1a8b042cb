//! Arguments and results in WAVE, the text form of component values
//! (`wasmtime run --invoke` uses it too), checked against the export's WIT
//! types.

use std::fmt::Write as _;

use wasm_sandbox::ExportFunction;
use wasm_sandbox::component::{Type, Val};
use wasmtime::component::wasm_wave::parser::ParserError;

use crate::exit::Failure;

/// Parses one argument per parameter of `export`.
///
/// A `string` parameter also takes its text as is when the argument does
/// not start with `"` (and a `char` parameter a single character without
/// quotes), so that `greet world` works without shell-quoted quotes.
pub(crate) fn parse_args(
    export: &ExportFunction,
    args: &[String],
    example_command: &str,
) -> Result<Vec<Val>, Failure> {
    let types = param_wit_types(export);
    let params: Vec<(&str, &Type)> = export.params().collect();
    if params.len() != args.len() {
        let wanted = match params.len() {
            0 => "no arguments".to_string(),
            1 => "1 argument".to_string(),
            n => format!("{n} arguments"),
        };
        let message = format!(
            "`{}` takes {wanted}, but {} {} given: {export}",
            export.short_name(),
            args.len(),
            if args.len() == 1 { "was" } else { "were" }
        );
        return Err(Failure::usage(message).hint(format!(
            "for example: {example_command} {}",
            example_args(export)
        )));
    }
    let mut values = Vec::with_capacity(args.len());
    for (i, ((name, ty), arg)) in params.iter().zip(args).enumerate() {
        let wit = types.get(i).map_or("?", String::as_str);
        values.push(parse_one(ty, arg).map_err(|why| {
            let mut message = format!(
                "argument {} of `{}` (`{name}: {wit}`): `{arg}` is not a valid `{wit}` ({why})",
                i + 1,
                export.short_name()
            );
            if let Some(err) = &why.parser {
                let span = err.span();
                if arg.len() > 1 && span.start < arg.len() {
                    let width = span.end.clamp(span.start + 1, arg.len()) - span.start;
                    let _ = write!(
                        message,
                        "\n    {arg}\n    {}{}",
                        " ".repeat(arg[..span.start].chars().count()),
                        "^".repeat(width)
                    );
                }
            }
            let hint = match example(ty) {
                Some(example) => {
                    let mut hint = format!("write `{wit}` in WAVE, for example: {example}");
                    if let Some(cases) = cases(ty) {
                        let _ = write!(hint, " (the cases are: {cases})");
                    }
                    hint
                }
                None => format!(
                    "a `{wit}` cannot be written on the command line; call this function from a host program"
                ),
            };
            Failure::usage(message).hint(hint)
        })?);
    }
    Ok(values)
}

/// Why an argument did not parse.
struct ParseProblem {
    text: String,
    parser: Option<ParserError>,
}

impl std::fmt::Display for ParseProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_one(ty: &Type, arg: &str) -> Result<Val, ParseProblem> {
    match ty {
        Type::String if !arg.starts_with('"') => return Ok(Val::String(arg.to_string())),
        Type::Char if !arg.starts_with('\'') => {
            let mut chars = arg.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return Ok(Val::Char(c));
            }
        }
        _ => {}
    }
    if example(ty).is_none() {
        return Err(ParseProblem {
            text: "the command line has no way to write this type".to_string(),
            parser: None,
        });
    }
    wasmtime::component::wasm_wave::from_str::<Val>(ty, arg).map_err(|e| {
        let mut text = e.kind().to_string();
        if let Some(detail) = e.detail() {
            let _ = write!(text, ": {detail}");
        }
        ParseProblem {
            text,
            parser: Some(e),
        }
    })
}

/// The cases of an enum, variant or flags type, for a hint.
fn cases(ty: &Type) -> Option<String> {
    let names: Vec<String> = match ty {
        Type::Enum(e) => e.names().map(label).collect(),
        Type::Flags(f) => f.names().map(label).collect(),
        Type::Variant(v) => v
            .cases()
            .map(|c| match c.ty {
                Some(_) => format!("{}(..)", label(c.name)),
                None => label(c.name),
            })
            .collect(),
        _ => return None,
    };
    Some(names.join(", "))
}

/// A result in WAVE.
pub(crate) fn to_wave(val: &Val) -> String {
    val.to_wave()
        .unwrap_or_else(|_| format!("<a {} value, not printable in WAVE>", kind(val)))
}

fn kind(val: &Val) -> &'static str {
    match val {
        Val::Resource(_) => "resource",
        Val::Future(_) => "future",
        Val::Stream(_) => "stream",
        Val::ErrorContext(_) => "error-context",
        Val::Map(_) => "map",
        _ => "component",
    }
}

/// The WIT type of each parameter, as the export's signature spells it
/// (records and enums by name).
pub(crate) fn param_wit_types(export: &ExportFunction) -> Vec<String> {
    // The signature is `func(a: T, b: U) -> R`; split the parameter list at
    // the commas outside `<..>` and `{..}`.
    let sig = export.signature();
    let Some(inner) = sig.strip_prefix("func(") else {
        return Vec::new();
    };
    let mut depth = 0usize;
    let mut end = inner.len();
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '{' | '(' => depth += 1,
            '>' | '}' => depth = depth.saturating_sub(1),
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..end].trim().is_empty() {
        parts.push(&inner[start..end]);
    }
    parts
        .into_iter()
        .map(|p| {
            let p = p.trim();
            p.split_once(": ").map_or(p, |(_, ty)| ty).to_string()
        })
        .collect()
}

/// Example arguments for `export`, shell-quoted.
pub(crate) fn example_args(export: &ExportFunction) -> String {
    export
        .params()
        .map(|(_, ty)| shell_quote(&example(ty).unwrap_or_else(|| "?".to_string())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes `s` for a POSIX shell when it needs it.
pub(crate) fn shell_quote(s: &str) -> String {
    // `#` starts a comment only at the start of a word.
    let plain = !s.is_empty()
        && !s.starts_with('#')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/+=@%#".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// WAVE keywords, which a case or field name must be escaped from with `%`.
const KEYWORDS: &[&str] = &["true", "false", "inf", "nan", "some", "none", "ok", "err"];

fn label(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("%{name}")
    } else {
        name.to_string()
    }
}

/// An example value of `ty` in WAVE; `None` for types the command line
/// cannot write (resources, streams, futures, maps).
pub(crate) fn example(ty: &Type) -> Option<String> {
    Some(match ty {
        Type::Bool => "true".to_string(),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "7".to_string(),
        Type::S8 | Type::S16 | Type::S32 | Type::S64 => "-7".to_string(),
        Type::Float32 | Type::Float64 => "1.5".to_string(),
        Type::Char => "'x'".to_string(),
        Type::String => "\"text\"".to_string(),
        Type::List(list) => format!("[{}]", example(&list.ty())?),
        Type::FixedLengthList(list) => {
            let one = example(&list.ty())?;
            let all: Vec<&str> = (0..list.len()).map(|_| one.as_str()).collect();
            format!("[{}]", all.join(", "))
        }
        Type::Record(record) => {
            let mut fields = Vec::new();
            for field in record.fields() {
                fields.push(format!("{}: {}", label(field.name), example(&field.ty)?));
            }
            format!("{{{}}}", fields.join(", "))
        }
        Type::Tuple(tuple) => {
            let mut items = Vec::new();
            for t in tuple.types() {
                items.push(example(&t)?);
            }
            format!("({})", items.join(", "))
        }
        Type::Variant(variant) => {
            let case = variant.cases().next()?;
            match &case.ty {
                Some(t) => format!("{}({})", label(case.name), example(t)?),
                None => label(case.name),
            }
        }
        Type::Enum(e) => label(e.names().next()?),
        Type::Option(opt) => format!("some({})", example(&opt.ty())?),
        Type::Result(result) => match result.ok() {
            Some(ok) => format!("ok({})", example(&ok)?),
            None => "ok".to_string(),
        },
        Type::Flags(flags) => match flags.names().next() {
            Some(name) => format!("{{{}}}", label(name)),
            None => "{}".to_string(),
        },
        Type::Map(_)
        | Type::Own(_)
        | Type::Borrow(_)
        | Type::Future(_)
        | Type::Stream(_)
        | Type::ErrorContext => return None,
    })
}

/// A result as plain JSON, for `--json`: numbers, strings, arrays; records
/// as objects; `none` as null; `ok(v)` / `err(v)` and variant cases as
/// `{"ok": v}`, `{"case": v}`; enum cases as strings; flags as an array of
/// names. Infinite and NaN floats are strings.
pub(crate) fn to_json(val: &Val) -> serde_json::Value {
    use serde_json::{Value, json};
    let float = |f: f64| {
        if f.is_finite() {
            json!(f)
        } else {
            Value::String(if f.is_nan() {
                "nan".to_string()
            } else if f > 0.0 {
                "inf".to_string()
            } else {
                "-inf".to_string()
            })
        }
    };
    let boxed = |v: &Option<Box<Val>>| v.as_deref().map_or(Value::Null, to_json);
    match val {
        Val::Bool(b) => json!(b),
        Val::S8(n) => json!(n),
        Val::U8(n) => json!(n),
        Val::S16(n) => json!(n),
        Val::U16(n) => json!(n),
        Val::S32(n) => json!(n),
        Val::U32(n) => json!(n),
        Val::S64(n) => json!(n),
        Val::U64(n) => json!(n),
        Val::Float32(f) => float(f64::from(*f)),
        Val::Float64(f) => float(*f),
        Val::Char(c) => json!(c.to_string()),
        Val::String(s) => json!(s),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        Val::Map(pairs) => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| json!([to_json(k), to_json(v)]))
                .collect(),
        ),
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), to_json(v)))
                .collect(),
        ),
        Val::Variant(case, payload) => json!({ case.as_str(): boxed(payload) }),
        Val::Enum(case) => json!(case),
        Val::Option(v) => boxed(v),
        Val::Result(Ok(v)) => json!({ "ok": boxed(v) }),
        Val::Result(Err(v)) => json!({ "err": boxed(v) }),
        Val::Flags(names) => json!(names),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            json!(format!("<{}>", kind(val)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("7"), "7");
        assert_eq!(shell_quote("-7"), "-7");
        assert_eq!(shell_quote("\"text\""), "'\"text\"'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("[7]"), "'[7]'");
        assert_eq!(shell_quote("math#add"), "math#add");
        assert_eq!(shell_quote("#add"), "'#add'");
    }

    #[test]
    fn json_of_values() {
        let v = Val::Record(vec![
            ("n".into(), Val::U32(3)),
            ("o".into(), Val::Option(None)),
            (
                "r".into(),
                Val::Result(Err(Some(Box::new(Val::String("no".into()))))),
            ),
            ("f".into(), Val::Float64(f64::INFINITY)),
            ("e".into(), Val::Enum("add".into())),
            ("l".into(), Val::List(vec![Val::Char('x')])),
        ]);
        assert_eq!(
            to_json(&v),
            serde_json::json!({"n": 3, "o": null, "r": {"err": "no"}, "f": "inf", "e": "add", "l": ["x"]})
        );
    }

    #[test]
    fn every_example_parses_back_and_every_signature_splits() {
        let mut checked = 0;
        for (plugin, path) in example_plugins::ALL {
            let info = wasm_sandbox::ComponentInfo::from_file(path).unwrap();
            for export in info.exports() {
                let wit = param_wit_types(export);
                assert_eq!(wit.len(), export.params().len(), "{plugin}: {export}");
                for ((name, ty), wit) in export.params().zip(&wit) {
                    // The signature names the same parameter with this type.
                    assert!(
                        export.signature().contains(&format!("{name}: {wit}")),
                        "{plugin}: {export}: {name}: {wit}"
                    );
                    let Some(text) = example(ty) else { continue };
                    let val = Val::from_wave(ty, &text)
                        .unwrap_or_else(|e| panic!("{plugin}: {export}: {text}: {e}"));
                    assert_eq!(to_wave(&val), text, "{plugin}: {export}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "only {checked} parameters");
    }

    #[test]
    fn keywords_are_escaped() {
        assert_eq!(label("ok"), "%ok");
        assert_eq!(label("circle"), "circle");
    }
}
