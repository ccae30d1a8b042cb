//! Whether a plugin can take the synchronous call path.
//!
//! wasmtime calls synchronously (`TypedFunc::call`) only into a store in
//! which nothing requires async: no async host function among the
//! plugin's imports, no yielding on epochs or fuel. Our guards for files,
//! sockets and HTTP, WASI's timers and our process function wait for I/O,
//! and on an async host's thread a synchronous call cannot wait. So the
//! path is open to plugins that import only interfaces that never wait
//! (listed here, by the plugin's own import names: the object decided on)
//! and run on an epoch-interrupted engine.

use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::engine::{Engine, Interruption};
use crate::guard::host::{CONFIG, ENVIRONMENT, HostInterface, LOGGING, unversioned};

/// Interfaces whose every function returns without waiting (on the
/// synchronous path, `wasi:io`'s waiting functions are replaced by
/// `guard::sync_io`, and a plugin limited to these can only hold stdio
/// streams, which are always ready).
const NEVER_WAIT: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// Functions of those interfaces that make something to wait on: a timer.
const TIMERS: &[&str] = &["subscribe-instant", "subscribe-duration"];

/// Why `component` cannot take the synchronous path on `engine`, one
/// reason per import or setting; empty when it can.
pub(crate) fn blockers(
    component: &Component,
    engine: &Engine,
    host_interfaces: &[HostInterface],
) -> Vec<String> {
    let mut reasons = Vec::new();
    if engine.config().get_interruption() != Interruption::Epoch {
        reasons.push(
            "its engine is interrupted by fuel (`Interruption::Fuel`, which a fuel budget also \
             selects), and the synchronous path enforces the deadline with epochs"
                .to_string(),
        );
    }
    if engine.config().get_concurrency_support() {
        reasons.push(
            "it runs on an engine with wasmtime's concurrency support (the component model's \
             async ABI), whose calls wasmtime runs as tasks"
                .to_string(),
        );
    }
    let wasmtime = engine.wasmtime();
    for (name, item) in component.component_type().imports(wasmtime) {
        let interface = unversioned(name);
        // A registered host interface is served on the synchronous path
        // unless the plugin imports one of its `async fn`s, which only a
        // fiber can wait for.
        if let Some(registered) = host_interfaces.iter().find(|h| h.import_name() == name) {
            if let ComponentItem::ComponentInstance(instance) = &item.ty {
                for (function, _) in instance.exports(wasmtime) {
                    if registered.async_functions().iter().any(|f| f == function) {
                        reasons.push(format!(
                            "it imports `{name}#{function}`, an `async fn` of a host \
                             interface, which only an asynchronous call can wait for"
                        ));
                    }
                }
            }
            continue;
        }
        if [LOGGING, CONFIG, ENVIRONMENT]
            .iter()
            .any(|builtin| unversioned(builtin) == interface)
        {
            continue;
        }
        let instance = match item.ty {
            ComponentItem::ComponentInstance(instance) => instance,
            // A type (a resource) alone runs nothing.
            ComponentItem::Type(_) | ComponentItem::Resource(_) => continue,
            _ => {
                reasons.push(format!(
                    "it imports `{name}`, which is not an interface the synchronous path serves"
                ));
                continue;
            }
        };
        let functions: Vec<&str> = instance
            .exports(wasmtime)
            .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
            .map(|(function, _)| function)
            .collect();
        if functions.is_empty() {
            // Types only.
            continue;
        }
        if !NEVER_WAIT.contains(&interface) {
            reasons.push(format!(
                "it imports `{name}`, whose functions can wait (files, sockets, HTTP, processes) \
                 or which the synchronous path does not serve"
            ));
            continue;
        }
        for timer in functions.iter().filter(|f| TIMERS.contains(f)) {
            reasons.push(format!("it imports `{name}#{timer}`, a timer, which waits"));
        }
    }
    reasons
}
