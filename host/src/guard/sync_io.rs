//! `wasi:io` for the synchronous call path.
//!
//! wasmtime-wasi's synchronous `wasi:io` runs the functions that may wait
//! (`poll`, `pollable.block`, the `blocking-*` stream methods, dropping a
//! stream) with `block_on`, which panics on a thread that is already
//! driving an async runtime, which is where an async host makes a
//! synchronous call. These replacements run the same implementations,
//! but:
//! - they poll once, which finishes at once on stdio;
//! - then, on a thread with no runtime (a
//!   [`BlockingSandbox`](crate::BlockingSandbox) call), they block on
//!   wasmtime-wasi's runtime, as its own functions do;
//! - on a runtime's thread they cannot wait. A plugin on the synchronous path
//!   imports no file, socket, HTTP or timer functions (the builder checks,
//!   see `builder::sync`), so the only streams and pollables it can hold
//!   are its stdio, which are always ready. Anything still pending ends
//!   the call with a trap that says so, never a panic and never a stall.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable, ResourceType};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_io::bindings::wasi::io::poll::{Host as _, HostPollable as _};
use wasmtime_wasi_io::bindings::wasi::io::streams::{
    Host as _, HostInputStream, HostOutputStream, StreamError as WitStreamError,
};
use wasmtime_wasi_io::poll::DynPollable;
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream, StreamResult};

use crate::guard::store::HostState;

const STREAMS: &str = "wasi:io/streams@0.2.12";
const POLL: &str = "wasi:io/poll@0.2.12";

/// A host function of the synchronous path would have had to wait, on a
/// thread that must not block.
#[derive(Debug)]
struct WouldWait(&'static str);

impl std::fmt::Display for WouldWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the plugin waited in `{}` during a synchronous call, which cannot wait on an async \
             runtime's thread; build it without `synchronous_calls(true)`",
            self.0
        )
    }
}

impl std::error::Error for WouldWait {}

/// Runs `fut` to completion as described in the module documentation;
/// `function` names the WASI function in the error. The first poll needs
/// no runtime: stdio streams are plain memory.
fn drive<F: Future>(function: &'static str, fut: F) -> wasmtime::Result<F::Output> {
    let mut fut = std::pin::pin!(fut);
    if let Poll::Ready(v) = fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        return Ok(v);
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(wasmtime_wasi::runtime::in_tokio(fut));
    }
    Err(wasmtime::Error::new(WouldWait(function)))
}

/// The WIT form of a stream operation's result.
fn stream_result<T>(
    table: &mut ResourceTable,
    r: StreamResult<T>,
) -> wasmtime::Result<(Result<T, WitStreamError>,)> {
    match r {
        Ok(v) => Ok((Ok(v),)),
        Err(e) => Ok((Err(table.convert_stream_error(e)?),)),
    }
}

fn table<'a>(cx: &'a mut StoreContextMut<'_, HostState>) -> &'a mut ResourceTable {
    cx.data_mut().ctx().table
}

/// Registers a stream method that may wait: `$call` on the resource table
/// `t`, driven by [`drive`].
macro_rules! blocking_stream_fn {
    ($inst:ident, $name:literal, ($($arg:ident: $ty:ty),*) -> $ret:ty, |$t:ident| $call:expr) => {
        $inst.func_wrap(
            $name,
            |mut cx: StoreContextMut<'_, HostState>, ($($arg,)*): ($($ty,)*)| {
                let $t = table(&mut cx);
                let r: StreamResult<$ret> = drive($name, $call)?;
                stream_result(table(&mut cx), r)
            },
        )?;
    };
}

/// Replaces the functions of `wasi:io` that may wait in a linker that
/// already has wasmtime-wasi's synchronous ones.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    crate::guard::shadow(linker, add_wrappers)
}

fn add_wrappers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut streams = linker.instance(STREAMS)?;
    streams.resource(
        "output-stream",
        ResourceType::host::<DynOutputStream>(),
        |mut cx, rep| {
            let t = table(&mut cx);
            drive(
                "[drop]output-stream",
                HostOutputStream::drop(t, Resource::new_own(rep)),
            )?
        },
    )?;
    streams.resource(
        "input-stream",
        ResourceType::host::<DynInputStream>(),
        |mut cx, rep| {
            let t = table(&mut cx);
            drive(
                "[drop]input-stream",
                HostInputStream::drop(t, Resource::new_own(rep)),
            )?
        },
    )?;
    blocking_stream_fn!(
        streams,
        "[method]output-stream.blocking-write-and-flush",
        (s: Resource<DynOutputStream>, bytes: Vec<u8>) -> (),
        |t| t.blocking_write_and_flush(s, bytes)
    );
    blocking_stream_fn!(
        streams,
        "[method]output-stream.blocking-write-zeroes-and-flush",
        (s: Resource<DynOutputStream>, len: u64) -> (),
        |t| t.blocking_write_zeroes_and_flush(s, len)
    );
    blocking_stream_fn!(
        streams,
        "[method]output-stream.blocking-flush",
        (s: Resource<DynOutputStream>) -> (),
        |t| t.blocking_flush(s)
    );
    blocking_stream_fn!(
        streams,
        "[method]output-stream.blocking-splice",
        (s: Resource<DynOutputStream>, src: Resource<DynInputStream>, len: u64) -> u64,
        |t| t.blocking_splice(s, src, len)
    );
    blocking_stream_fn!(
        streams,
        "[method]input-stream.blocking-read",
        (s: Resource<DynInputStream>, len: u64) -> Vec<u8>,
        |t| t.blocking_read(s, len)
    );
    blocking_stream_fn!(
        streams,
        "[method]input-stream.blocking-skip",
        (s: Resource<DynInputStream>, len: u64) -> u64,
        |t| t.blocking_skip(s, len)
    );

    let mut poll = linker.instance(POLL)?;
    poll.func_wrap(
        "poll",
        |mut cx: StoreContextMut<'_, HostState>, (list,): (Vec<Resource<DynPollable>>,)| {
            let t = table(&mut cx);
            Ok((drive("poll", t.poll(list))??,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.ready",
        |mut cx: StoreContextMut<'_, HostState>, (p,): (Resource<DynPollable>,)| {
            let t = table(&mut cx);
            Ok((drive("[method]pollable.ready", t.ready(p))??,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut cx: StoreContextMut<'_, HostState>, (p,): (Resource<DynPollable>,)| {
            let t = table(&mut cx);
            drive("[method]pollable.block", t.block(p))?
        },
    )?;
    Ok(())
}
