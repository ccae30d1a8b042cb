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
