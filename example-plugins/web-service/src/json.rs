//! JSON at the HTTP edge of `POST /call/{route}/{function}`: arguments are
//! converted to component-model values guided by the export's WIT types,
//! and results back to JSON. Inside, the call is typed as any other.
//!
//! | WIT | JSON |
//! |---|---|
//! | `bool`, integers, floats | booleans, numbers |
//! | `string`, `char` | strings |
//! | `list<T>`, `tuple<..>` | arrays |
//! | `record` | an object with the WIT field names (`max-lines`) |
//! | `enum`, `flags` | a case name; an array of flag names |
//! | `variant` | `"case"`, or `{"case": payload}` |
//! | `option<T>` | `null` or the value |
//! | `result<T, E>` | `{"ok": value}` or `{"err": value}` |

use serde_json::{Map, Number, Value};
use wasm_sandbox::component::{Type, Val};

/// The value of type `ty` that `json` stands for. JSON that does not fit
/// `ty` is converted by its own shape instead (a number to `u64`, `s64` or
/// `f64`, an object to a record, ...), so that the sandbox's argument check
/// rejects it with a `TypeMismatch` naming the argument and both types.
pub(crate) fn to_val(json: &Value, ty: &Type) -> Val {
    fitted(json, ty).unwrap_or_else(|| shaped(json))
}

/// The arguments `args` for parameters of the types `params`, by
/// [`to_val`]; arguments beyond the parameters keep their own shape (the
/// argument check then reports the count).
pub(crate) fn to_vals<'a>(args: &[Value], params: impl Iterator<Item = &'a Type>) -> Vec<Val> {
    let mut params = params.fuse();
    args.iter()
        .map(|arg| match params.next() {
            Some(ty) => to_val(arg, ty),
            None => shaped(arg),
        })
        .collect()
}

/// `json` as a value of type `ty`, if it fits.
fn fitted(json: &Value, ty: &Type) -> Option<Val> {
    Some(match ty {
        Type::Bool => Val::Bool(json.as_bool()?),
        Type::S8 => Val::S8(json.as_i64()?.try_into().ok()?),
        Type::U8 => Val::U8(json.as_u64()?.try_into().ok()?),
        Type::S16 => Val::S16(json.as_i64()?.try_into().ok()?),
        Type::U16 => Val::U16(json.as_u64()?.try_into().ok()?),
        Type::S32 => Val::S32(json.as_i64()?.try_into().ok()?),
        Type::U32 => Val::U32(json.as_u64()?.try_into().ok()?),
        Type::S64 => Val::S64(json.as_i64()?),
        Type::U64 => Val::U64(json.as_u64()?),
        Type::Float32 => Val::Float32(json.as_f64()? as f32),
        Type::Float64 => Val::Float64(json.as_f64()?),
        Type::Char => {
            let mut chars = json.as_str()?.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return None,
            }
        }
        Type::String => Val::String(json.as_str()?.to_string()),
        Type::List(list) => {
            let elem = list.ty();
            Val::List(json.as_array()?.iter().map(|j| to_val(j, &elem)).collect())
        }
        Type::Tuple(tuple) => {
            let items = json.as_array()?;
            if items.len() != tuple.types().len() {
                return None;
            }
            Val::Tuple(
                items
                    .iter()
                    .zip(tuple.types())
                    .map(|(j, ty)| to_val(j, &ty))
                    .collect(),
            )
        }
        Type::Record(record) => {
            let object = json.as_object()?;
            if object.keys().any(|k| !record.fields().any(|f| f.name == k)) {
                return None;
            }
            let mut fields = Vec::with_capacity(record.fields().len());
            for field in record.fields() {
                let value = match (object.get(field.name), &field.ty) {
                    (Some(j), ty) => to_val(j, ty),
                    // A missing optional field is `none`.
                    (None, Type::Option(_)) => Val::Option(None),
                    (None, _) => return None,
                };
                fields.push((field.name.to_string(), value));
            }
            Val::Record(fields)
        }
        Type::Enum(cases) => {
            let name = json.as_str()?;
            cases.names().find(|n| *n == name)?;
            Val::Enum(name.to_string())
        }
        Type::Flags(flags) => {
            let mut set = Vec::new();
            for item in json.as_array()? {
                let name = item.as_str()?;
                flags.names().find(|n| *n == name)?;
                set.push(name.to_string());
            }
            Val::Flags(set)
        }
        Type::Variant(variant) => {
            let (name, payload) = single_case(json)?;
            let case = variant.cases().find(|c| c.name == name)?;
            Val::Variant(name.to_string(), payload_val(payload, case.ty.as_ref())?)
        }
        Type::Option(option) => match json {
            Value::Null => Val::Option(None),
            value => Val::Option(Some(Box::new(to_val(value, &option.ty())))),
        },
        Type::Result(result) => {
            let (name, payload) = single_case(json)?;
            match name {
                "ok" => Val::Result(Ok(payload_val(payload, result.ok().as_ref())?)),
                "err" => Val::Result(Err(payload_val(payload, result.err().as_ref())?)),
                _ => return None,
            }
        }
        // Maps, fixed-length lists, resources, futures and streams have no
        // JSON form here.
        _ => return None,
    })
}

/// `"case"` or `{"case": payload}`.
fn single_case(json: &Value) -> Option<(&str, Option<&Value>)> {
    match json {
        Value::String(name) => Some((name, None)),
        Value::Object(object) if object.len() == 1 => {
            object.iter().next().map(|(k, v)| (k.as_str(), Some(v)))
        }
        _ => None,
    }
}

/// The payload of a variant case or result arm; `None` (the outer one) when
/// the JSON does not fit.
#[allow(clippy::option_option)] // "does not fit" versus "no payload"
fn payload_val(payload: Option<&Value>, ty: Option<&Type>) -> Option<Option<Box<Val>>> {
    match (payload, ty) {
        (Some(j), Some(ty)) => Some(Some(Box::new(to_val(j, ty)))),
        (None | Some(Value::Null), None) => Some(None),
        _ => None,
    }
}

/// `json` by its own shape, for an argument that fits no WIT type asked
/// for; the argument check then names the difference.
fn shaped(json: &Value) -> Val {
    match json {
        Value::Null => Val::Option(None),
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Val::U64(u),
            (None, Some(i)) => Val::S64(i),
            _ => Val::Float64(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Val::String(s.clone()),
        Value::Array(items) => Val::List(items.iter().map(shaped).collect()),
        Value::Object(object) => {
            Val::Record(object.iter().map(|(k, v)| (k.clone(), shaped(v))).collect())
        }
    }
}

/// `val` as JSON, in the forms [`to_val`] reads.
pub(crate) fn from_val(val: &Val) -> Value {
    match val {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(n) => (*n).into(),
        Val::U8(n) => (*n).into(),
        Val::S16(n) => (*n).into(),
        Val::U16(n) => (*n).into(),
        Val::S32(n) => (*n).into(),
        Val::U32(n) => (*n).into(),
        Val::S64(n) => (*n).into(),
        Val::U64(n) => (*n).into(),
        Val::Float32(f) => float(f64::from(*f)),
        Val::Float64(f) => float(*f),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(from_val).collect())
        }
        Val::Map(entries) => Value::Array(
            entries
                .iter()
                .map(|(k, v)| Value::Array(vec![from_val(k), from_val(v)]))
                .collect(),
        ),
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), from_val(v)))
                .collect(),
        ),
        Val::Enum(name) => Value::String(name.clone()),
        Val::Flags(names) => Value::Array(names.iter().cloned().map(Value::String).collect()),
        Val::Variant(name, payload) => case(name, payload.as_deref()),
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => from_val(v),
        Val::Result(Ok(v)) => case("ok", v.as_deref()),
        Val::Result(Err(v)) => case("err", v.as_deref()),
        // Handles have no meaning outside the plugin's instance.
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            Value::String("<handle>".to_string())
        }
    }
}

/// A number, or `null` for NaN and infinities (which JSON cannot hold).
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// `{"name": payload}`, or `"name"` without a payload.
fn case(name: &str, payload: Option<&Val>) -> Value {
    match payload {
        None => Value::String(name.to_string()),
        Some(v) => Value::Object(Map::from_iter([(name.to_string(), from_val(v))])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_become_json() {
        let doc = Val::Record(vec![
            ("title".into(), Val::String("Notes".into())),
            ("lines".into(), Val::List(vec![Val::String("A".into())])),
            ("tags".into(), Val::Option(None)),
        ]);
        assert_eq!(
            from_val(&Val::Result(Ok(Some(Box::new(doc))))),
            json!({ "ok": { "title": "Notes", "lines": ["A"], "tags": null } })
        );
        let refused = Val::Variant(
            "too-long".into(),
            Some(Box::new(Val::Record(vec![
                ("limit".into(), Val::U32(1)),
                ("actual".into(), Val::U32(2)),
            ]))),
        );
        assert_eq!(
            from_val(&Val::Result(Err(Some(Box::new(refused))))),
            json!({ "err": { "too-long": { "limit": 1, "actual": 2 } } })
        );
        assert_eq!(from_val(&Val::Variant("empty".into(), None)), "empty");
        assert_eq!(from_val(&Val::U64(u64::MAX)), json!(u64::MAX));
        assert_eq!(from_val(&Val::Float64(f64::NAN)), Value::Null);
        assert_eq!(from_val(&Val::Char('é')), "é");
        assert_eq!(
            from_val(&Val::Flags(vec!["read".into(), "write".into()])),
            json!(["read", "write"])
        );
    }

    #[test]
    fn json_of_no_asked_type_keeps_its_shape() {
        assert!(matches!(shaped(&json!(5)), Val::U64(5)));
        assert!(matches!(shaped(&json!(-5)), Val::S64(-5)));
        assert!(matches!(shaped(&json!(0.5)), Val::Float64(f) if f == 0.5));
        assert!(matches!(shaped(&json!(null)), Val::Option(None)));
        match shaped(&json!({ "a": [true] })) {
            Val::Record(fields) => {
                assert_eq!(fields.len(), 1);
                assert_eq!(fields[0].0, "a");
                assert!(
                    matches!(&fields[0].1, Val::List(items) if matches!(items[..], [Val::Bool(true)]))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_that_fits_a_primitive_type_becomes_that_type() {
        assert!(matches!(to_val(&json!(7), &Type::U32), Val::U32(7)));
        assert!(matches!(to_val(&json!(-7), &Type::S8), Val::S8(-7)));
        assert!(matches!(to_val(&json!("x"), &Type::Char), Val::Char('x')));
        assert!(matches!(to_val(&json!(1.5), &Type::Float32), Val::Float32(f) if f == 1.5));
        // Out of range or of another kind: the JSON's own shape, for the
        // argument check to refuse.
        assert!(matches!(to_val(&json!(300), &Type::U8), Val::U64(300)));
        assert!(matches!(to_val(&json!(-1), &Type::U32), Val::S64(-1)));
        assert!(matches!(to_val(&json!("xy"), &Type::Char), Val::String(_)));
        assert!(matches!(to_val(&json!(5), &Type::String), Val::U64(5)));
    }
}
