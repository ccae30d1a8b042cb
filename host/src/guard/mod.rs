//! What a plugin can reach, each behind a guard that decides on the real
//! object, performs exactly what it checked, and audits every refusal:
//! files (`fs`), sockets (`net`), outbound HTTP (`http`), host interfaces
//! and the built-in `sandbox:host` functions (`host`), and the guest's log
//! output (`stdio`); `sync_io` is `wasi:io` for the synchronous call
//! path. `store` is the data of a plugin's wasmtime `Store`,
//! which every guard works on.

pub(crate) mod fs;
pub(crate) mod host;
pub(crate) mod http;
pub(crate) mod net;
pub(crate) mod stdio;
pub(crate) mod store;
pub(crate) mod sync_io;

use wasmtime::component::Linker;

use crate::guard::store::HostState;

/// Runs `add`, which replaces functions already in `linker` (WASI's own)
/// with guarded versions; shadowing is allowed only while it runs, so any
/// other definition made twice stays an error.
pub(crate) fn shadow(
    linker: &mut Linker<HostState>,
    add: impl FnOnce(&mut Linker<HostState>) -> wasmtime::Result<()>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = add(linker);
    linker.allow_shadowing(false);
    result
}
