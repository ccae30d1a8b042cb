//! How many core instances a component makes when it is instantiated,
//! read from its binary: the plugin's side of `ResourceLimits::instances`,
//! decided before anything runs, so that a plugin over the limit fails the
//! build with `Limit::Instances` and the reason is never read from
//! wasmtime's message.
//!
//! wasmtime makes one core instance for every `core instance (instantiate
//! ..)` that the root component's instantiation reaches: those of the root
//! itself, and those of each nested component as many times as it is
//! instantiated (a component instantiated twice makes its core instances
//! twice). [`core_instances`] counts exactly that. It is a lower bound of
//! wasmtime's count: a component made of components that call each other
//! also gets adapter modules that wasmtime generates, and a component
//! reached only through an import is not known here. wasmtime's own count,
//! under the same limit, stays as the backstop for those.

use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentOuterAliasKind,
    ComponentTypeRef, Instance, Parser, Payload,
};

/// What is known while one component or module of the binary is read.
enum Frame {
    Component {
        /// Core instances this component makes each time it is
        /// instantiated, nested instantiations included.
        instances: u64,
        /// The component index space: for each index, the core instances
        /// one instantiation of that component makes (0 when unknown).
        components: Vec<u64>,
    },
    /// A core module: nothing in it is counted.
    Module,
}

/// The core instances instantiating the component in `binary` makes (a
/// lower bound; see the module documentation). A binary that does not
/// parse counts what was read before the damage; loading refuses it anyway.
pub(crate) fn core_instances(binary: &[u8]) -> u64 {
    let mut stack = vec![Frame::Component {
        instances: 0,
        components: Vec::new(),
    }];
    let mut payloads = Parser::new(0).parse_all(binary);
    // The root's own `Version` payload comes first; nested components and
    // modules are announced by their section payloads.
    if !matches!(payloads.next(), Some(Ok(Payload::Version { .. }))) {
        return 0;
    }
    for payload in payloads {
        let Ok(payload) = payload else {
            break;
        };
        match payload {
            Payload::ComponentSection { .. } => stack.push(Frame::Component {
                instances: 0,
                components: Vec::new(),
            }),
            Payload::ModuleSection { .. } => stack.push(Frame::Module),
            Payload::End(_) => {
                let Some(Frame::Component { instances, .. }) = stack.pop() else {
                    continue;
                };
                match stack.last_mut() {
                    Some(Frame::Component { components, .. }) => components.push(instances),
                    Some(Frame::Module) => {}
                    None => return instances,
                }
            }
            payload => count_in_section(&mut stack, payload),
        }
    }
    0
}

/// Updates the innermost component's frame with one section.
fn count_in_section(stack: &mut [Frame], payload: Payload<'_>) {
    // The value of an outer alias is read before the frame is borrowed.
    let outer = |stack: &[Frame], count: u32, index: u32| -> u64 {
        let at = stack.len().checked_sub(1 + count as usize);
        match at.map(|at| &stack[at]) {
            Some(Frame::Component { components, .. }) => {
                components.get(index as usize).copied().unwrap_or(0)
            }
            _ => 0,
        }
    };
    let aliased: Vec<u64> = match &payload {
        Payload::ComponentAliasSection(reader) => reader
            .clone()
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|alias| match alias {
                ComponentAlias::Outer {
                    kind: ComponentOuterAliasKind::Component,
                    count,
                    index,
                } => Some(outer(stack, count, index)),
                ComponentAlias::InstanceExport {
                    kind: ComponentExternalKind::Component,
                    ..
                } => Some(0),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let Some(Frame::Component {
        instances,
        components,
    }) = stack.last_mut()
    else {
        return;
    };
    match payload {
        Payload::InstanceSection(reader) => {
            for instance in reader.into_iter().filter_map(Result::ok) {
                if let Instance::Instantiate { .. } = instance {
                    *instances = instances.saturating_add(1);
                }
            }
        }
        Payload::ComponentInstanceSection(reader) => {
            for instance in reader.into_iter().filter_map(Result::ok) {
                if let ComponentInstance::Instantiate {
                    component_index, ..
                } = instance
                {
                    let each = components
                        .get(component_index as usize)
                        .copied()
                        .unwrap_or(0);
                    *instances = instances.saturating_add(each);
                }
            }
        }
        Payload::ComponentImportSection(reader) => {
            for import in reader.into_iter().filter_map(Result::ok) {
                if let ComponentTypeRef::Component(_) = import.ty {
                    components.push(0);
                }
            }
        }
        Payload::ComponentExportSection(reader) => {
            // An export introduces a new index for what it exports.
            for export in reader.into_iter().filter_map(Result::ok) {
                if export.kind == ComponentExternalKind::Component {
                    let each = components.get(export.index as usize).copied().unwrap_or(0);
                    components.push(each);
                }
            }
        }
        Payload::ComponentAliasSection(_) => components.extend(aliased),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::core_instances;

    fn count(wat: &str) -> u64 {
        core_instances(&wat::parse_str(wat).expect("valid component text"))
    }

    #[test]
    fn counts_each_instantiation_of_a_core_module() {
        assert_eq!(count("(component)"), 0);
        assert_eq!(
            count(
                r#"(component
                    (core module $m)
                    (core instance (instantiate $m))
                    (core instance (instantiate $m))
                    (core instance))"#
            ),
            2,
            "an instance made from exports is no instantiation"
        );
    }

    #[test]
    fn a_nested_component_counts_once_per_instantiation() {
        let wat = r#"(component
            (component $c
                (core module $m)
                (core instance (instantiate $m)))
            (component $unused
                (core module $m)
                (core instance (instantiate $m))
                (core instance (instantiate $m)))
            (instance (instantiate $c))
            (instance (instantiate $c))
            (instance (instantiate $c)))"#;
        assert_eq!(count(wat), 3, "the unused component makes nothing");
    }

    #[test]
    fn instantiations_multiply_through_nesting_and_outer_aliases() {
        // $inner makes 2; $outer instantiates it twice (4) and has one of
        // its own (5); the root instantiates $outer twice (10) and, through
        // an export that re-indexes it, once more (15).
        let wat = r#"(component
            (component $inner
                (core module $m)
                (core instance (instantiate $m))
                (core instance (instantiate $m)))
            (component $outer
                (alias outer 1 $inner (component $i))
                (instance (instantiate $i))
                (instance (instantiate $i))
                (core module $m)
                (core instance (instantiate $m)))
            (instance (instantiate $outer))
            (instance (instantiate $outer))
            (export $again "outer" (component $outer))
            (instance (instantiate $again)))"#;
        assert_eq!(count(wat), 15);
    }

    #[test]
    fn an_imported_component_is_unknown_and_counts_nothing() {
        let wat = r#"(component
            (import "c" (component $c))
            (instance (instantiate $c)))"#;
        assert_eq!(count(wat), 0);
    }

    #[test]
    fn damage_and_core_modules_count_nothing() {
        assert_eq!(core_instances(b"\0asm\x0d\0\x01\0\x01\xff"), 0);
        assert_eq!(core_instances(&wat::parse_str("(module)").unwrap()), 0);
        assert_eq!(core_instances(b""), 0);
    }
}
