//! Arguments and results in WAVE, the text form of component values
//! (`wasmtime run --invoke` uses it too), checked against the export's WIT
//! types.

use std::fmt::Write as _;
use std::ops::Range;

use wasm_sandbox::ExportFunction;
use wasm_sandbox::component::{Type, Val};
use wasmtime::component::wasm_wave::ast::{Node, NodeType};
use wasmtime::component::wasm_wave::parser::ParserError;
use wasmtime::component::wasm_wave::untyped::UntypedValue;

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
                "argument {} of `{}` (`{name}: {wit}`): `{}` is not a valid `{wit}` ({why})",
                i + 1,
                export.short_name(),
                shorten(arg),
            );
            if let Some(span) = why.span.clone().filter(|s| arg.len() > 1 && s.start < arg.len()) {
                let _ = write!(message, "\n{}", caret(arg, span));
            }
            let hint = match example(ty) {
                Some(example) => {
                    let mut hint = format!("write `{wit}` in WAVE, for example: {example}");
                    let listed = why.text.contains("the cases are");
                    if let Some(cases) = cases(ty).filter(|_| !listed) {
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

/// The longest argument repeated whole in an error message.
const SHOWN_CHARS: usize = 60;

/// `arg` as an error message repeats it: at most [`SHOWN_CHARS`]
/// characters, so that a huge argument does not flood the terminal.
fn shorten(arg: &str) -> String {
    let count = arg.chars().count();
    if count <= SHOWN_CHARS {
        return arg.to_string();
    }
    let head: String = arg.chars().take(SHOWN_CHARS - 20).collect();
    format!("{head}… ({count} characters)")
}

/// Two lines: (a window of) `arg`, and carets under the bytes of `span`.
fn caret(arg: &str, span: Range<usize>) -> String {
    let chars: Vec<(usize, char)> = arg.char_indices().collect();
    let at = chars.iter().take_while(|(i, _)| *i < span.start).count();
    let upto = chars.iter().take_while(|(i, _)| *i < span.end).count();
    let first = at.saturating_sub(SHOWN_CHARS / 3);
    let last = (first + SHOWN_CHARS).min(chars.len());
    let window: String = chars[first..last].iter().map(|(_, c)| c).collect();
    let (lead, trail) = (
        if first > 0 { "…" } else { "" },
        if last < chars.len() { "…" } else { "" },
    );
    let width = upto.clamp(at + 1, last.max(at + 1)) - at;
    format!(
        "    {lead}{window}{trail}\n    {}{}",
        " ".repeat(at - first + lead.chars().count()),
        "^".repeat(width)
    )
}

/// Why an argument did not parse, and where in it.
struct ParseProblem {
    text: String,
    span: Option<Range<usize>>,
}

impl ParseProblem {
    fn at(span: Range<usize>, text: String) -> Self {
        ParseProblem {
            text,
            span: Some(span),
        }
    }

    /// WAVE's own error: its kind, its detail and its cause (for example
    /// the number that does not fit).
    fn from_parser(e: &ParserError) -> Self {
        let mut text = e.kind().to_string();
        if let Some(detail) = e.detail() {
            let _ = write!(text, ": {detail}");
        }
        if let Some(source) = std::error::Error::source(e) {
            let _ = write!(text, ": {source}");
        }
        ParseProblem::at(e.span(), text)
    }
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
            span: None,
        });
    }
    let value = UntypedValue::parse(arg).map_err(|e| ParseProblem::from_parser(&e))?;
    // WAVE's typed conversion says only "error converting Wasm value" for
    // a missing field or an unknown case, and drops unknown and repeated
    // record fields without a word: check the shape first, naming what is
    // wrong.
    if let Some(problem) = check_shape(value.node(), ty, arg) {
        return Err(problem);
    }
    value
        .to_wasm_value::<Val>(ty)
        .map_err(|e| ParseProblem::from_parser(&e))
}

/// Checks the names in `node` (record fields, variant and enum cases,
/// flags, payloads, tuple lengths) against `ty`, down to every nested
/// value. Values themselves (numbers, strings) are left to WAVE.
fn check_shape(node: &Node, ty: &Type, src: &str) -> Option<ParseProblem> {
    match (ty, node.ty()) {
        (Type::Record(record), NodeType::Record) => {
            let given: Vec<(&str, &Node)> = node.as_record(src).ok()?.collect();
            let names = || {
                record
                    .fields()
                    .map(|f| label(f.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for (i, (name, value)) in given.iter().enumerate() {
                if given[..i].iter().any(|(earlier, _)| earlier == name) {
                    return Some(ParseProblem::at(
                        value.span(),
                        format!("field `{name}` is given twice"),
                    ));
                }
                let Some(field) = record.fields().find(|f| f.name == *name) else {
                    return Some(ParseProblem::at(
                        value.span(),
                        format!("it has no field `{name}`; the fields are: {}", names()),
                    ));
                };
                if let Some(problem) = check_shape(value, &field.ty, src) {
                    return Some(problem);
                }
            }
            for field in record.fields() {
                let optional = matches!(field.ty, Type::Option(_));
                if !optional && !given.iter().any(|(name, _)| *name == field.name) {
                    let mut text = format!("field `{}` is missing", field.name);
                    if let Some(example) = example(&field.ty) {
                        let _ = write!(text, "; for example `{}: {example}`", label(field.name));
                    }
                    return Some(ParseProblem::at(node.span(), text));
                }
            }
            None
        }
        (Type::Variant(variant), NodeType::Label | NodeType::VariantWithPayload) => {
            let (name, payload) = node.as_variant(src).ok()?;
            let Some(case) = variant.cases().find(|c| c.name == name) else {
                return Some(ParseProblem::at(
                    node.span(),
                    format!(
                        "there is no case `{name}`; the cases are: {}",
                        cases(ty).unwrap_or_default()
                    ),
                ));
            };
            check_payload(node, name, case.ty.as_ref(), payload, src)
        }
        (Type::Enum(e), NodeType::Label) => {
            let name = node.as_enum(src).ok()?;
            if e.names().any(|n| n == name) {
                return None;
            }
            Some(ParseProblem::at(
                node.span(),
                format!(
                    "there is no case `{name}`; the cases are: {}",
                    cases(ty).unwrap_or_default()
                ),
            ))
        }
        (Type::Flags(flags), NodeType::Flags) => {
            for name in node.as_flags(src).ok()? {
                if !flags.names().any(|n| n == name) {
                    return Some(ParseProblem::at(
                        node.span(),
                        format!(
                            "there is no flag `{name}`; the flags are: {}",
                            cases(ty).unwrap_or_default()
                        ),
                    ));
                }
            }
            None
        }
        (Type::List(list), NodeType::List) => {
            let element = list.ty();
            node.as_list()
                .ok()?
                .find_map(|item| check_shape(item, &element, src))
        }
        (Type::FixedLengthList(list), NodeType::List) => {
            let element = list.ty();
            let items = node.as_list().ok()?;
            let want = usize::try_from(list.len()).unwrap_or(usize::MAX);
            if items.len() != want {
                return Some(ParseProblem::at(
                    node.span(),
                    format!("it takes exactly {want} elements, not {}", items.len()),
                ));
            }
            node.as_list()
                .ok()?
                .find_map(|item| check_shape(item, &element, src))
        }
        (Type::Tuple(tuple), NodeType::Tuple) => {
            let items = node.as_tuple().ok()?;
            if items.len() != tuple.types().len() {
                return Some(ParseProblem::at(
                    node.span(),
                    format!(
                        "the tuple takes {} values, not {}",
                        tuple.types().len(),
                        items.len()
                    ),
                ));
            }
            node.as_tuple()
                .ok()?
                .zip(tuple.types())
                .find_map(|(item, ty)| check_shape(item, &ty, src))
        }
        (Type::Option(option), NodeType::OptionSome) => {
            check_shape(node.as_option().ok()??, &option.ty(), src)
        }
        (Type::Option(_), NodeType::OptionNone) => None,
        // `some` may be left out around a value that is not itself an
        // option or a result.
        (Type::Option(option), _) => {
            let inner = option.ty();
            if matches!(inner, Type::Option(_) | Type::Result(_)) {
                return None;
            }
            check_shape(node, &inner, src)
        }
        (Type::Result(result), NodeType::ResultOk) => {
            let payload = node.as_result().ok()?.ok()?;
            check_payload(node, "ok", result.ok().as_ref(), payload, src)
        }
        (Type::Result(result), NodeType::ResultErr) => {
            let payload = node.as_result().ok()?.err()?;
            check_payload(node, "err", result.err().as_ref(), payload, src)
        }
        (Type::Result(result), _) => match result.ok() {
            Some(ok) if !matches!(ok, Type::Option(_) | Type::Result(_)) => {
                check_shape(node, &ok, src)
            }
            _ => None,
        },
        (Type::U8 | Type::U16 | Type::U32 | Type::U64, NodeType::Number)
        | (Type::S8 | Type::S16 | Type::S32 | Type::S64, NodeType::Number) => {
            let (min, max): (i128, i128) = match ty {
                Type::U8 => (0, u8::MAX.into()),
                Type::U16 => (0, u16::MAX.into()),
                Type::U32 => (0, u32::MAX.into()),
                Type::U64 => (0, u64::MAX.into()),
                Type::S8 => (i8::MIN.into(), i8::MAX.into()),
                Type::S16 => (i16::MIN.into(), i16::MAX.into()),
                Type::S32 => (i32::MIN.into(), i32::MAX.into()),
                _ => (i64::MIN.into(), i64::MAX.into()),
            };
            // Not an integer at all (`1.5`, `1e3`): WAVE says so.
            let n: i128 = node.as_number(src).ok()?;
            (n < min || n > max).then(|| {
                ParseProblem::at(
                    node.span(),
                    format!("{n} is out of range; it must be from {min} to {max}"),
                )
            })
        }
        _ => None,
    }
}

/// Checks that case `name` has a payload exactly when its type has one.
fn check_payload(
    node: &Node,
    name: &str,
    ty: Option<&Type>,
    payload: Option<&Node>,
    src: &str,
) -> Option<ParseProblem> {
    match (ty, payload) {
        (Some(ty), Some(payload)) => check_shape(payload, ty, src),
        (None, None) => None,
        (Some(ty), None) => {
            let mut text = format!("case `{name}` needs a value");
            if let Some(example) = example(ty) {
                let _ = write!(text, ", for example `{}({example})`", label(name));
            }
            Some(ParseProblem::at(node.span(), text))
        }
        (None, Some(_)) => Some(ParseProblem::at(
            node.span(),
            format!("case `{name}` takes no value; write `{}`", label(name)),
        )),
    }
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
