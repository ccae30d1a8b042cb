//! Whether a component uses the component model's async ABI (what jco's
//! default output and WASIp3 toolchains produce): read from its binary, so
//! that the builder can give it an engine with wasmtime's concurrency
//! support, which our default engine leaves off for speed.
//!
//! The uses are the async built-ins (`task.return`, `stream.new`,
//! `waitable-set.wait`, ...), functions lifted or lowered with the `async`
//! option, `async func` types and `stream`/`future` types, anywhere in the
//! component (nested components and instance types included). wasmtime's
//! validation refuses every one of them on an engine without concurrency
//! support.

use std::collections::BTreeSet;

use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentDefinedType, ComponentType,
    ComponentTypeDeclaration, InstanceTypeDeclaration, Parser, Payload,
};

/// What in `binary` uses the async ABI, one phrase each, sorted; empty
/// when nothing does. A binary that does not parse reports what was read
/// before the damage (loading refuses it anyway).
pub(crate) fn uses(binary: &[u8]) -> Vec<String> {
    let mut found = BTreeSet::new();
    for payload in Parser::new(0).parse_all(binary) {
        let Ok(payload) = payload else {
            break;
        };
        match payload {
            Payload::ComponentCanonicalSection(reader) => {
                for function in reader.into_iter().flatten() {
                    canonical(&function, &mut found);
                }
            }
            Payload::ComponentTypeSection(reader) => {
                for ty in reader.into_iter().flatten() {
                    component_type(&ty, &mut found);
                }
            }
            _ => {}
        }
    }
    found.into_iter().collect()
}

fn canonical(function: &CanonicalFunction, found: &mut BTreeSet<String>) {
    let is_async = |options: &[CanonicalOption]| {
        options
            .iter()
            .any(|o| matches!(o, CanonicalOption::Async | CanonicalOption::Callback(_)))
    };
    match function {
        CanonicalFunction::Lift { options, .. } => {
            if is_async(options) {
                found.insert("a function lifted with the `async` option".to_string());
            }
        }
        CanonicalFunction::Lower { options, .. } => {
            if is_async(options) {
                found.insert("a function lowered with the `async` option".to_string());
            }
        }
        // The synchronous built-ins: resources, and core-wasm threads.
        CanonicalFunction::ResourceNew { .. }
        | CanonicalFunction::ResourceDrop { .. }
        | CanonicalFunction::ResourceRep { .. }
        | CanonicalFunction::ThreadSpawnRef { .. }
        | CanonicalFunction::ThreadSpawnIndirect { .. }
        | CanonicalFunction::ThreadAvailableParallelism => {}
        // Every other built-in belongs to the async ABI (tasks, subtasks,
        // streams, futures, waitables, error contexts, cooperative threads).
        other => {
            found.insert(format!("the `{}` built-in", builtin_name(other)));
        }
    }
}

/// `TaskReturn { .. }` -> `task.return`, `WaitableSetNew` -> `waitable-set.new`:
/// the built-in's name as the component model writes it.
fn builtin_name(function: &CanonicalFunction) -> String {
    let debug = format!("{function:?}");
    let variant: String = debug
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let mut words: Vec<String> = Vec::new();
    for c in variant.chars() {
        if c.is_ascii_uppercase() || words.is_empty() {
            words.push(c.to_ascii_lowercase().to_string());
        } else if let Some(last) = words.last_mut() {
            last.push(c);
        }
    }
    // The subject is one word, or two for these.
    let subject_words = match words.first().map(String::as_str) {
        Some("waitable") if words.get(1).is_some_and(|w| w == "set") => 2,
        Some("error") if words.get(1).is_some_and(|w| w == "context") => 2,
        _ => 1,
    };
    let split = subject_words.min(words.len());
    let (subject, action) = words.split_at(split);
    if action.is_empty() {
        subject.join("-")
    } else {
        format!("{}.{}", subject.join("-"), action.join("-"))
    }
}

fn component_type(ty: &ComponentType, found: &mut BTreeSet<String>) {
    match ty {
        ComponentType::Defined(ComponentDefinedType::Stream(_)) => {
            found.insert("a `stream` type".to_string());
        }
        ComponentType::Defined(ComponentDefinedType::Future(_)) => {
            found.insert("a `future` type".to_string());
        }
        ComponentType::Func(func) if func.async_ => {
            found.insert("an `async func` type".to_string());
        }
        ComponentType::Component(declarations) => {
            for declaration in declarations.iter() {
                if let ComponentTypeDeclaration::Type(ty) = declaration {
                    component_type(ty, found);
                }
            }
        }
        ComponentType::Instance(declarations) => {
            for declaration in declarations.iter() {
                if let InstanceTypeDeclaration::Type(ty) = declaration {
                    component_type(ty, found);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses_of(wat: &str) -> Vec<String> {
        uses(&wat::parse_str(wat).unwrap())
    }

    #[test]
    fn a_plain_component_uses_nothing_of_the_async_abi() {
        assert!(
            uses_of(
                r#"(component
                    (core module $m (func (export "f") (result i32) i32.const 1))
                    (core instance $i (instantiate $m))
                    (func (export "f") (result u32) (canon lift (core func $i "f"))))"#
            )
            .is_empty()
        );
    }

    #[test]
    fn async_lifts_builtins_and_types_are_named() {
        let found = uses_of(
            r#"(component
                (type $s (stream u8))
                (import "i" (instance
                    (export "wait" (func async))))
                (core module $m
                    (import "" "task.return" (func $ret (param i32)))
                    (import "" "new" (func (result i64)))
                    (import "" "set" (func (result i32)))
                    (func (export "run") (result i32) (call $ret (i32.const 1)) (i32.const 0))
                    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
                (core func $ret (canon task.return (result u32)))
                (core func $new (canon stream.new $s))
                (core func $set (canon waitable-set.new))
                (core instance $i (instantiate $m (with "" (instance
                    (export "task.return" (func $ret))
                    (export "new" (func $new))
                    (export "set" (func $set))))))
                (func (export "run") async (result u32)
                    (canon lift (core func $i "run") async (callback (core func $i "cb")))))"#,
        );
        assert_eq!(
            found,
            [
                "a `stream` type",
                "a function lifted with the `async` option",
                "an `async func` type",
                "the `stream.new` built-in",
                "the `task.return` built-in",
                "the `waitable-set.new` built-in",
            ]
        );
    }

    #[test]
    fn garbage_reports_nothing_and_does_not_panic() {
        assert!(uses(b"\0asm\x0d\0\x01\0\xff\xff\xff").is_empty());
        assert!(uses(b"").is_empty());
    }
}
