//! One live instance of a plugin: its wasmtime `Store`, created from the
//! pre-linked component, and what every instance is made from.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, ResourceAny};
use wasmtime_wasi::WasiCtx;

use crate::audit::AuditSink;
use crate::deadline::ticks;
use crate::engine::{Engine, Interruption};
use crate::error::{Error, Limit, Result};
use crate::guard::fs::state::FsState;
use crate::guard::http::HttpState;
use crate::guard::net::state::NetState;
use crate::guard::stdio::{CommandStream, GuestStderr};
use crate::guard::store::{HostParts, HostState};
use crate::limits::{Effective, LimitHit};
use crate::policy::Compiled;
use crate::profile::Profiler;

/// An instantiation failure, with limit hits named as such. Too many core
/// instances, memories or tables is refused before this, at build time
/// (`builder::check_counts`); what only wasmtime's own count catches
/// (adapter modules it generates) stays an `Error::Instantiate` with
/// wasmtime's message.
fn instantiate_error(err: wasmtime::Error) -> Error {
    if let Some(hit) = err.downcast_ref::<LimitHit>() {
        return Error::ResourceLimitExceeded(hit.0.clone());
    }
    Error::instantiate(err)
}

/// What a command run gives its instance instead of the defaults (no
/// arguments, stdin closed, stdout discarded, stderr to `tracing`).
pub(crate) struct CommandIo {
    /// `argv`, the program's name first.
    pub(crate) args: Vec<String>,
    /// The bytes on stdin, or `None` for the host process's own stdin.
    pub(crate) stdin: Option<Vec<u8>>,
    pub(crate) stdout: CommandStream,
    pub(crate) stderr: CommandStream,
    /// The quiet stderr that remembers the last lines for a trap's message.
    pub(crate) lines: GuestStderr,
}

/// What every instance of a sandbox is made from.
#[derive(Clone)]
pub(crate) struct InstanceSetup {
    pub(crate) engine: Engine,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) plugin: Arc<str>,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) policy: Arc<Compiled>,
    pub(crate) audit: Arc<AuditSink>,
    pub(crate) limits: Effective,
    pub(crate) profile: Option<Arc<Profiler>>,
    /// Whether the plugin imports `wasi:filesystem/preopens`; without it,
    /// preopened directories could never be reached, so none are opened.
    pub(crate) uses_preopens: bool,
    /// Whether calls take the synchronous path: `pre` was linked with
    /// synchronous host functions only, instances are made with
    /// `instantiate`, called with `call`, and the deadline is an epoch
    /// trap (see `builder::sync`).
    pub(crate) sync: bool,
    /// `deadline::ticks_for(limits.timeout)`, computed once: the coarse
    /// clock ticks after a call's start at which its deadline has passed.
    pub(crate) deadline_ticks: u64,
    /// The native stack a synchronous call needs on the calling thread:
    /// the wasm stack limit plus room for host functions. With less, the
    /// call runs on a fiber instead (see `stack.rs`).
    pub(crate) sync_stack: usize,
    /// The policy's violation action is `AbortCall`: a call during which
    /// anything was refused fails. Read from the policy once.
    pub(crate) abort_on_refusal: bool,
    /// `audit_required(true)`: each call checks that its events were written.
    pub(crate) audit_required: bool,
}

impl InstanceSetup {
    /// Whether this call (or instantiation) runs synchronously on the
    /// calling thread: on the synchronous path, with stack enough for it.
    #[inline]
    pub(crate) fn runs_here(&self) -> bool {
        self.sync && crate::stack::has_left(self.sync_stack)
    }
}

/// One export of a live instance, as the call path caches it.
#[derive(Clone, Copy, Default)]
pub(crate) struct FuncSlot {
    /// The instance's handle on the export.
    pub(crate) func: Option<wasmtime::component::Func>,
    /// The `(P, R)` of the last typed call whose types fit the export
    /// (`Exports::types_fit`): a typed call with the same types needs no
    /// other check. Kept here so that a call reads one slot, not two tables.
    pub(crate) typed: Option<(std::any::TypeId, std::any::TypeId)>,
    /// Whether the export returns nothing (a typed call has `R = ()`).
    pub(crate) unit: bool,
}

/// A live instance of the plugin.
pub(crate) struct Live {
    pub(crate) store: Store<HostState>,
    pub(crate) instance: Instance,
    /// The instance's exported functions, by export position, looked up on
    /// first use, with the Rust types last checked against each.
    pub(crate) funcs: Vec<FuncSlot>,
    pub(crate) stderr: GuestStderr,
    /// Set while a call runs and left set when it fails or is cancelled: the
    /// instance must not be entered again.
    pub(crate) poisoned: bool,
    /// When the current call started, if it is being profiled.
    pub(crate) call_started: Option<std::time::Instant>,
    /// This instance's identity, shared with the plugin objects
    /// (resources) it made; see `plugin/resources.rs`.
    pub(crate) cell: Arc<InstanceCell>,
}

impl Drop for Live {
    fn drop(&mut self) {
        // The objects this instance made are gone with it.
        self.cell.alive.store(false, Ordering::Release);
    }
}

/// Why a plugin object's instance is gone, in [`Error::ResourceExpired`].
pub(crate) const GONE: &str = "the instance that made it is gone: a call on it failed (a trap or a limit), \
                    the sandbox was reset, or the plugin runs a fresh instance per call";

/// Why the objects of a reloaded version cannot be used.
pub(crate) const RELOADED: &str =
    "it was made by a version of the plugin that has since been reloaded";

/// The identity of one live instance, shared with the handles of the
/// plugin objects it made: a handle is used only on the instance whose
/// cell it holds, and only while that instance is alive.
#[derive(Debug)]
pub(crate) struct InstanceCell {
    /// Unique in the process: instances are never confused, even across
    /// sandboxes.
    pub(crate) id: u64,
    /// The [`Instances`](crate::plugin::instances::Instances) that made it.
    pub(crate) owner: u64,
    /// Cleared when the instance is dropped.
    pub(crate) alive: AtomicBool,
    /// Set when the instance belongs to a version of the plugin that a
    /// reload replaced.
    pub(crate) reloaded: AtomicBool,
    /// Set while `pending` holds something: one load on every call.
    pub(crate) has_pending: AtomicBool,
    /// Plugin objects whose handles were dropped without `close`: released
    /// before the instance's next call.
    pub(crate) pending: Mutex<Vec<ResourceAny>>,
}

impl InstanceCell {
    fn new(owner: u64) -> InstanceCell {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        InstanceCell {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            owner,
            alive: AtomicBool::new(true),
            reloaded: AtomicBool::new(false),
            has_pending: AtomicBool::new(false),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// Why the instance's objects cannot be used, once it is gone.
    pub(crate) fn why_gone(&self) -> &'static str {
        if self.reloaded.load(Ordering::Acquire) {
            RELOADED
        } else {
            GONE
        }
    }

    /// Whether the instance still exists.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Queues `resource` for release before the instance's next call.
    pub(crate) fn release_later(&self, resource: ResourceAny) {
        if !self.is_alive() {
            return;
        }
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(resource);
        self.has_pending.store(true, Ordering::Release);
    }

    /// The queued objects, taken.
    pub(crate) fn take_pending(&self) -> Vec<ResourceAny> {
        self.has_pending.store(false, Ordering::Release);
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Live {
    /// Creates a fresh instance from the pre-linked component, recording its
    /// privileged operations in `audit` (the sandbox's sink, or one sharing
    /// its log for an instance of a pool).
    pub(crate) async fn new(
        setup: &InstanceSetup,
        audit: Arc<AuditSink>,
        owner: u64,
    ) -> Result<Live> {
        Live::with_io(setup, audit, owner, None).await
    }

    /// [`new`](Self::new), with a command run's arguments, stdin and
    /// output streams when `io` is given (see `plugin/command.rs`).
    pub(crate) async fn with_io(
        setup: &InstanceSetup,
        audit: Arc<AuditSink>,
        owner: u64,
        io: Option<CommandIo>,
    ) -> Result<Live> {
        let mut builder = WasiCtx::builder();
        let stderr = match io {
            None => {
                let stderr = GuestStderr::new(setup.plugin.clone(), setup.limits.log_output);
                builder.stderr(stderr.clone());
                stderr
            }
            Some(io) => {
                builder.args(&io.args);
                match io.stdin {
                    Some(bytes) => {
                        builder.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(bytes));
                    }
                    // Read as the program reads, on a worker thread.
                    None => {
                        builder.stdin(std::io::stdin());
                    }
                }
                builder.stdout(io.stdout);
                builder.stderr(io.stderr);
                io.lines
            }
        };
        let fs = if setup.uses_preopens {
            FsState::setup(&setup.policy, &mut builder)
        } else {
            FsState::default()
        };
        let net = NetState::setup(&setup.policy, &audit, &mut builder);
        // The variables the policy grants; in learn mode, as permissive, the
        // host's whole environment but what it denies (the plugin lists it
        // through WASI, and that listing is audited).
        let environment = if setup.policy.can_read_env() {
            setup.policy.environment(std::env::vars())
        } else {
            Vec::new()
        };
        builder.envs(&environment);
        let wasi = builder.build();
        let http = HttpState::new(setup.policy.clone(), audit.clone(), setup.limits.http);
        let mut store = Store::new(
            setup.engine.wasmtime(),
            HostState::new(HostParts {
                wasi,
                plugin: setup.plugin.clone(),
                config: setup.config.clone(),
                policy: setup.policy.clone(),
                audit,
                fs,
                net,
                http,
                environment,
                limits: &setup.limits,
                profile: setup.profile.clone(),
                stderr: stderr.clone(),
            }),
        );
        store.limiter(|state| &mut state.limiter);
        if setup.sync {
            interrupt_by_trap(&mut store, setup);
        } else {
            interrupt_by_yield(&mut store, setup);
        }
        // A start function runs during instantiation, on this thread's
        // stack when synchronous.
        let instance = if setup.runs_here() {
            setup.pre.instantiate(&mut store)
        } else {
            setup.pre.instantiate_async(&mut store).await
        }
        .map_err(instantiate_error)?;
        Ok(Live {
            store,
            instance,
            funcs: Vec::new(),
            stderr,
            poisoned: false,
            call_started: None,
            cell: Arc::new(InstanceCell::new(owner)),
        })
    }
}

/// The async call path: the guest pauses at every epoch tick (or every
/// `yield_interval` units of fuel) so that the deadline timer around the
/// call can fire.
fn interrupt_by_yield(store: &mut Store<HostState>, setup: &InstanceSetup) {
    match setup.engine.config().get_interruption() {
        Interruption::Fuel => {
            // Fuel drives the pauses that let the deadline fire; a
            // budget, if any, is set per call.
            let _ = store.set_fuel(u64::MAX);
            let _ =
                store.fuel_async_yield_interval(Some(setup.engine.config().get_yield_interval()));
        }
        Interruption::Epoch => {
            store.set_epoch_deadline(1);
            if setup.profile.as_ref().is_some_and(|p| p.samples()) {
                // Each tick: one stack sample, then the usual pause.
                store.epoch_deadline_callback(|cx| {
                    if let Some(profile) = cx.data().profile.clone() {
                        profile.sample(&cx);
                    }
                    Ok(wasmtime::UpdateDeadline::Yield(1))
                });
            } else {
                store.epoch_deadline_callback(|_| Ok(wasmtime::UpdateDeadline::Yield(1)));
            }
        }
    }
}

/// The synchronous call path (only built on epoch engines): nothing ever
/// yields. At every epoch tick while the guest runs, a callback takes the
/// profile's stack sample, if any, and traps with `Limit::Time` once the
/// call's deadline tick (`HostState::call_deadline`, set per call) has
/// passed; otherwise the guest runs on to the next tick.
fn interrupt_by_trap(store: &mut Store<HostState>, setup: &InstanceSetup) {
    let deadline = setup.limits.timeout;
    // Instantiation runs under one call's deadline too.
    store.data_mut().call_deadline = ticks().saturating_add(setup.deadline_ticks);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |cx| {
        if let Some(profile) = cx.data().profile.clone()
            && profile.samples()
        {
            profile.sample(&cx);
        }
        if ticks() >= cx.data().call_deadline {
            return Err(wasmtime::Error::new(LimitHit(Limit::Time { deadline })));
        }
        Ok(wasmtime::UpdateDeadline::Continue(1))
    });
}
