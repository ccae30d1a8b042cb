//! Checking dynamically typed [`Val`]s against a function's signature before
//! a call, so a wrong argument is a [`TypeMismatch`](crate::Error::TypeMismatch)
//! naming the argument rather than an error from deep inside wasmtime.

use wasmtime::component::Val;
use wasmtime::component::types::Type;

/// The WIT-ish kind of a value, for messages.
pub(crate) fn val_kind(val: &Val) -> &'static str {
    match val {
        Val::Bool(_) => "bool",
        Val::S8(_) => "s8",
        Val::U8(_) => "u8",
        Val::S16(_) => "s16",
        Val::U16(_) => "u16",
        Val::S32(_) => "s32",
        Val::U32(_) => "u32",
        Val::S64(_) => "s64",
        Val::U64(_) => "u64",
        Val::Float32(_) => "f32",
        Val::Float64(_) => "f64",
        Val::Char(_) => "char",
        Val::String(_) => "string",
        Val::List(_) => "list",
        Val::Map(_) => "map",
        Val::Record(_) => "record",
        Val::Tuple(_) => "tuple",
        Val::Variant(..) => "variant",
        Val::Enum(_) => "enum",
        Val::Option(_) => "option",
        Val::Result(_) => "result",
        Val::Flags(_) => "flags",
        Val::Resource(_) => "resource",
        Val::Future(_) => "future",
        Val::Stream(_) => "stream",
        Val::ErrorContext(_) => "error-context",
        Val::FixedLengthList(_) => "fixed-length list",
    }
}

/// Checks that `val` has type `ty`; on a mismatch returns where and what.
pub(crate) fn check(val: &Val, ty: &Type, path: &str) -> Result<(), String> {
    let mismatch = |expected: &str| {
        Err(format!(
            "{path}: expected {expected}, got {}",
            val_kind(val)
        ))
    };
    match (ty, val) {
        (Type::Bool, Val::Bool(_))
        | (Type::S8, Val::S8(_))
        | (Type::U8, Val::U8(_))
        | (Type::S16, Val::S16(_))
        | (Type::U16, Val::U16(_))
        | (Type::S32, Val::S32(_))
        | (Type::U32, Val::U32(_))
        | (Type::S64, Val::S64(_))
        | (Type::U64, Val::U64(_))
        | (Type::Float32, Val::Float32(_))
        | (Type::Float64, Val::Float64(_))
        | (Type::Char, Val::Char(_))
        | (Type::String, Val::String(_))
        | (Type::Own(_) | Type::Borrow(_), Val::Resource(_))
        | (Type::Future(_), Val::Future(_))
        | (Type::Stream(_), Val::Stream(_))
        | (Type::ErrorContext, Val::ErrorContext(_)) => Ok(()),
        (Type::List(list), Val::List(items)) => {
            let elem = list.ty();
            for (i, item) in items.iter().enumerate() {
                check(item, &elem, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Type::FixedLengthList(list), Val::FixedLengthList(items)) => {
            if items.len() != list.len() as usize {
                return Err(format!(
                    "{path}: expected {} elements, got {}",
                    list.len(),
                    items.len()
                ));
            }
            let elem = list.ty();
            for (i, item) in items.iter().enumerate() {
                check(item, &elem, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Type::Map(map), Val::Map(entries)) => {
            let (k, v) = (map.key(), map.value());
            for (i, (key, value)) in entries.iter().enumerate() {
                check(key, &k, &format!("{path} key {i}"))?;
                check(value, &v, &format!("{path} value {i}"))?;
            }
            Ok(())
        }
        (Type::Record(record), Val::Record(fields)) => {
            let expected: Vec<_> = record.fields().collect();
            if expected.len() != fields.len() {
                return Err(format!(
                    "{path}: expected a record with {} fields, got {}",
                    expected.len(),
                    fields.len()
                ));
            }
            for (field, (name, value)) in expected.iter().zip(fields) {
                if field.name != name {
                    return Err(format!(
                        "{path}: expected field `{}`, got `{name}`",
                        field.name
                    ));
                }
                check(value, &field.ty, &format!("{path}.{name}"))?;
            }
            Ok(())
        }
        (Type::Tuple(tuple), Val::Tuple(items)) => {
            let types: Vec<_> = tuple.types().collect();
            if types.len() != items.len() {
                return Err(format!(
                    "{path}: expected a tuple of {} values, got {}",
                    types.len(),
                    items.len()
                ));
            }
            for (i, (t, item)) in types.iter().zip(items).enumerate() {
                check(item, t, &format!("{path}.{i}"))?;
            }
            Ok(())
        }
        (Type::Variant(variant), Val::Variant(name, payload)) => {
            let Some(case) = variant.cases().find(|c| c.name == name) else {
                let cases: Vec<_> = variant.cases().map(|c| c.name.to_string()).collect();
                return Err(format!(
                    "{path}: variant has no case `{name}` (cases: {})",
                    cases.join(", ")
                ));
            };
            match (&case.ty, payload) {
                (None, None) => Ok(()),
                (Some(t), Some(v)) => check(v, t, &format!("{path}({name})")),
                (None, Some(_)) => Err(format!("{path}: case `{name}` carries no value")),
                (Some(_), None) => Err(format!("{path}: case `{name}` needs a value")),
            }
        }
        (Type::Enum(e), Val::Enum(name)) => {
            if e.names().any(|n| n == name) {
                Ok(())
            } else {
                Err(format!(
                    "{path}: enum has no case `{name}` (cases: {})",
                    e.names().collect::<Vec<_>>().join(", ")
                ))
            }
        }
        (Type::Option(opt), Val::Option(inner)) => match inner {
            None => Ok(()),
            Some(v) => check(v, &opt.ty(), &format!("{path}?")),
        },
        (Type::Result(res), Val::Result(value)) => match (value, res.ok(), res.err()) {
            (Ok(None), None, _) | (Err(None), _, None) => Ok(()),
            (Ok(Some(v)), Some(t), _) => check(v, &t, &format!("{path} ok")),
            (Err(Some(v)), _, Some(t)) => check(v, &t, &format!("{path} err")),
            (Ok(_), _, _) => Err(format!(
                "{path}: the ok case of this result {}",
                payload_rule(res.ok().is_some())
            )),
            (Err(_), _, _) => Err(format!(
                "{path}: the err case of this result {}",
                payload_rule(res.err().is_some())
            )),
        },
        (Type::Flags(flags), Val::Flags(set)) => {
            for name in set {
                if !flags.names().any(|n| n == name) {
                    return Err(format!("{path}: flags have no flag `{name}`"));
                }
            }
            Ok(())
        }
        (Type::Bool, _) => mismatch("bool"),
        (Type::S8, _) => mismatch("s8"),
        (Type::U8, _) => mismatch("u8"),
        (Type::S16, _) => mismatch("s16"),
        (Type::U16, _) => mismatch("u16"),
        (Type::S32, _) => mismatch("s32"),
        (Type::U32, _) => mismatch("u32"),
        (Type::S64, _) => mismatch("s64"),
        (Type::U64, _) => mismatch("u64"),
        (Type::Float32, _) => mismatch("f32"),
        (Type::Float64, _) => mismatch("f64"),
        (Type::Char, _) => mismatch("char"),
        (Type::String, _) => mismatch("string"),
        (Type::List(_), _) => mismatch("list"),
        (Type::FixedLengthList(_), _) => mismatch("fixed-length list"),
        (Type::Map(_), _) => mismatch("map"),
        (Type::Record(_), _) => mismatch("record"),
        (Type::Tuple(_), _) => mismatch("tuple"),
        (Type::Variant(_), _) => mismatch("variant"),
        (Type::Enum(_), _) => mismatch("enum"),
        (Type::Option(_), _) => mismatch("option"),
        (Type::Result(_), _) => mismatch("result"),
        (Type::Flags(_), _) => mismatch("flags"),
        (Type::Own(_) | Type::Borrow(_), _) => mismatch("resource"),
        (Type::Future(_), _) => mismatch("future"),
        (Type::Stream(_), _) => mismatch("stream"),
        (Type::ErrorContext, _) => mismatch("error-context"),
    }
}

fn payload_rule(has_payload: bool) -> &'static str {
    if has_payload {
        "needs a value"
    } else {
        "carries no value"
    }
}

/// The bytes of data in a value: strings and lists by length, everything
/// else by a rough fixed size.
pub(crate) fn size_of(val: &Val) -> usize {
    match val {
        Val::String(s) => s.len(),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            items.iter().map(size_of).sum::<usize>() + 8
        }
        Val::Map(entries) => entries.iter().map(|(k, v)| size_of(k) + size_of(v)).sum(),
        Val::Record(fields) => fields.iter().map(|(_, v)| size_of(v)).sum(),
        Val::Variant(_, Some(v)) | Val::Option(Some(v)) => size_of(v),
        Val::Result(Ok(Some(v)) | Err(Some(v))) => size_of(v),
        _ => 8,
    }
}

/// A placeholder to size a results buffer; wasmtime overwrites it.
pub(crate) fn placeholder() -> Val {
    Val::Bool(false)
}
