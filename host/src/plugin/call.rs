//! The call path: one call on a live instance, under its deadline, fuel
//! budget and limits, with audit context, and with its outcome classified.
//! Every call of every owner of a plugin (sandbox, pool, reloadable pool,
//! proxies) goes through [`Live::call_typed`] or [`Live::call_dynamic`].
//!
//! This is the hot path. A typed call whose types were checked before does
//! no type check, no name lookup (proxies) and no clock read; everything it
//! does on top of wasmtime's own `call_async` is a handful of field writes.

use std::any::Any;
use std::time::Instant;

use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, ComponentType, Func, Lift, Lower, TypedFunc, Val,
};

use crate::audit::CapabilityKind;
use crate::deadline::{Elapsed, ticks, with_deadline};
use crate::error::{Denied, Error, Limit, Outcome, Result, short_type_name};
use crate::limits::{CallReport, Effective, LimitHit};
use crate::plugin::exports::{ExportFunction, Exports, type_key};
use crate::plugin::instance::{FuncSlot, InstanceSetup, Live};
use crate::plugin::values;

impl Live {
    /// The instance's handle on an export, looked up once per instance.
    #[inline]
    fn func(
        &mut self,
        position: usize,
        index: ComponentExportIndex,
        export: &ExportFunction,
    ) -> Result<Func> {
        if let Some(FuncSlot {
            func: Some(func), ..
        }) = self.funcs.get(position)
        {
            return Ok(*func);
        }
        let func = self
            .instance
            .get_func(&mut self.store, index)
            .ok_or_else(|| Error::ExportNotFound {
                name: export.name().to_string(),
                suggestions: Vec::new(),
                available: 0,
            })?;
        if self.funcs.len() <= position {
            self.funcs.resize(position + 1, FuncSlot::default());
        }
        self.funcs[position].func = Some(func);
        self.funcs[position].unit = export.result().is_none();
        Ok(func)
    }

    /// The function handle of a typed call, and whether it returns nothing:
    /// from the instance's slot when these types were checked before, else
    /// after the type check (itself remembered per export).
    #[inline(always)]
    fn typed_func<P, R>(&mut self, exports: &Exports, position: usize) -> Result<(Func, bool)>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let key = type_key::<P, R>();
        match self.funcs.get(position) {
            Some(FuncSlot {
                func: Some(func),
                typed: Some(checked),
                unit,
            }) if *checked == key => Ok((*func, *unit)),
            _ => self.check_typed::<P, R>(exports, position),
        }
    }

    /// [`typed_func`](Self::typed_func) the first time: checks the types
    /// and fills the slot.
    #[inline(never)]
    fn check_typed<P, R>(&mut self, exports: &Exports, position: usize) -> Result<(Func, bool)>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let (export, index) = exports.at(position);
        // Nothing runs unless the types fit; the instance stays as it was.
        exports
            .types_fit::<P, R>(position)
            .map_err(|e| mismatch::<P, R>(export, Some(explain_typecheck(&e))))?;
        let func = self.func(position, index, export)?;
        self.funcs[position].typed = Some(type_key::<P, R>());
        Ok((func, export.result().is_none()))
    }

    /// Everything a typed call does before it runs: the type check (cached),
    /// the function handle (cached), the per-call state. Returns the typed
    /// function and the coarse start time.
    #[inline(always)]
    fn typed_export<P, R>(
        &mut self,
        setup: &InstanceSetup,
        exports: &Exports,
        position: usize,
        measuring: bool,
    ) -> Result<(TypedExport<P, R>, u64)>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let (func, unit) = self.typed_func::<P, R>(exports, position)?;
        let prepared = if unit {
            // SAFETY: `types_fit` checked `(P, ())` against this export's
            // type in this component (a function without a result is only
            // accepted with `R = ()`), and `func` is that export of an
            // instance of the same component. The slot holds the types
            // only after that check.
            #[allow(unsafe_code)]
            TypedExport::Unit(unsafe { TypedFunc::new_unchecked(func) })
        } else {
            // SAFETY: as above, for `(P, (R,))`.
            #[allow(unsafe_code)]
            TypedExport::Value(unsafe { TypedFunc::new_unchecked(func) })
        };
        let start_tick = self.begin(setup, position, measuring);
        if measuring {
            self.stderr.start_collecting();
        }
        Ok((prepared, start_tick))
    }

    /// Runs one typed call of the export at `position`: type check (once per
    /// types), the call under its deadline, the outcome classified and
    /// recorded. With `report`, also measures what the call consumed.
    pub(crate) async fn call_typed<P, R>(
        &mut self,
        setup: &InstanceSetup,
        exports: &Exports,
        position: usize,
        params: P,
        report: Option<&mut CallReport>,
    ) -> Outcome<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        if setup.runs_here() {
            return self.call_typed_sync_outlined(setup, exports, position, params, report);
        }
        let start = report.is_some().then(Instant::now);
        let (typed, start_tick) =
            self.typed_export::<P, R>(setup, exports, position, report.is_some())?;
        // Audits the call if its future is dropped before it ends.
        let cancelled = CancelGuard::new(&setup.audit, exports, position);
        let timeout = setup.limits.timeout;
        let outcome = match typed {
            TypedExport::Unit(func) => {
                // Pinned in place, so the deadline wrapper holds a reference
                // instead of a copy of wasmtime's future.
                let call = std::pin::pin!(func.call_async(&mut self.store, params));
                match with_deadline(call, start_tick, timeout).await {
                    Ok(Ok(())) => Ok(Ok(
                        unit::<R>().expect("checked: a function without a result has `R = ()`")
                    )),
                    Ok(Err(e)) => Ok(Err(e)),
                    Err(e) => Err(e),
                }
            }
            TypedExport::Value(func) => {
                let call = std::pin::pin!(func.call_async(&mut self.store, params));
                match with_deadline(call, start_tick, timeout).await {
                    Ok(Ok((r,))) => Ok(Ok(r)),
                    Ok(Err(e)) => Ok(Err(e)),
                    Err(e) => Err(e),
                }
            }
        };
        let out = self.conclude::<R>(setup, exports, position, outcome, start, report);
        cancelled.disarm();
        out
    }

    /// [`call_typed`](Self::call_typed) on the synchronous path
    /// (`setup.sync`): `TypedFunc::call`, no future at all. The deadline is
    /// an epoch trap, which `classify` names as `Limit::Time`.
    #[inline(always)]
    pub(crate) fn call_typed_sync<P, R>(
        &mut self,
        setup: &InstanceSetup,
        exports: &Exports,
        position: usize,
        params: P,
        report: Option<&mut CallReport>,
    ) -> Outcome<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let start = report.is_some().then(Instant::now);
        let (typed, _) = self.typed_export::<P, R>(setup, exports, position, report.is_some())?;
        let outcome = Ok(typed.call(&mut self.store, params));
        self.conclude::<R>(setup, exports, position, outcome, start, report)
    }

    /// [`call_typed_sync`](Self::call_typed_sync) out of line, for the async
    /// path's branch to it: keeps the synchronous call's code out of every
    /// async call's.
    #[inline(never)]
    fn call_typed_sync_outlined<P, R>(
        &mut self,
        setup: &InstanceSetup,
        exports: &Exports,
        position: usize,
        params: P,
        report: Option<&mut CallReport>,
    ) -> Outcome<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        self.call_typed_sync(setup, exports, position, params, report)
    }

    /// Turns the outcome of a typed call into its result, and records it.
    /// A success with nothing to record (no report, no profile, no guest
    /// output, no refusal to turn into an error, no audit file that must be
    /// written) only clears the poisoning and closes the call in the audit
    /// sink; everything else goes through [`conclude_fully`](Self::conclude_fully).
    #[inline]
    fn conclude<R>(
        &mut self,
        setup: &InstanceSetup,
        exports: &Exports,
        position: usize,
        outcome: std::result::Result<wasmtime::Result<R>, Elapsed>,
        start: Option<Instant>,
        report: Option<&mut CallReport>,
    ) -> Outcome<R> {
        match outcome {
            Ok(Ok(r)) if report.is_none() && self.nothing_to_record(setup) => {
                self.poisoned = false;
                self.store.data().audit.end_call();
                Ok(r)
            }
            outcome => self.conclude_fully(setup, exports, position, outcome, start, report),
        }
    }

    /// See [`conclude`](Self::conclude).
    #[inline]
    fn nothing_to_record(&self, setup: &InstanceSetup) -> bool {
        let state = self.store.data();
        let something = state.profile.is_some()
            || setup.audit_required
            || self.stderr.wrote()
            || (setup.abort_on_refusal && state.audit.refused_in_call());
        !something
    }

    /// [`conclude`](Self::conclude) for every outcome.
    #[inline(never)]
    fn conclude_fully<R>(
        &mut self,
        setup: &InstanceSetup,
        exports: &Exports,
        position: usize,
        outcome: std::result::Result<wasmtime::Result<R>, Elapsed>,
        start: Option<Instant>,
        report: Option<&mut CallReport>,
    ) -> Outcome<R> {
        let out = match outcome {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(self.classify(setup, exports.at(position).0, e)),
            Err(Elapsed) => Err(Error::ResourceLimitExceeded(Limit::Time {
                deadline: setup.limits.timeout,
            })),
        };
        let out = self.abort_on_refusal(setup, exports.at(position).0, out);
        self.finish(setup, &out, start, report);
        self.require_audit(out).map_err(Box::new)
    }

    /// Under `audit_required(true)`, a call whose audit events could not be
    /// written fails with [`Error::AuditFailed`], whatever its own outcome.
    /// One comparison otherwise.
    #[inline]
    fn require_audit<R>(&self, out: Result<R>) -> Result<R> {
        match self.store.data().audit.unwritten() {
            None => out,
            Some(error) => Err(error),
        }
    }

    /// Under [`ViolationAction::AbortCall`], a call during which the policy
    /// refused anything fails with [`Error::SecurityViolation`] for the first
    /// refusal, even if the guard that refused it could not end the call
    /// itself (the guards do, through `HostState::refused`; this is the
    /// backstop). One comparison under the default `Deny`.
    #[inline]
    fn abort_on_refusal<R>(
        &self,
        setup: &InstanceSetup,
        export: &ExportFunction,
        out: Result<R>,
    ) -> Result<R> {
        if !setup.abort_on_refusal || matches!(out, Err(Error::SecurityViolation { .. })) {
            return out;
        }
        match self.store.data().audit.first_refusal() {
            None => out,
            Some((kind, target, rule)) => Err(Error::SecurityViolation {
                function: export.name().to_string(),
                capability: capability_for(kind, &target),
                target,
                rule,
            }),
        }
    }

    /// Calls the export at `position` with dynamically typed values, which
    /// the caller has already checked with [`check_dynamic`] (before taking
    /// an instance, so that a mismatch runs nothing).
    pub(crate) async fn call_dynamic(
        &mut self,
        setup: &InstanceSetup,
        exports: &Exports,
        position: usize,
        params: &[Val],
    ) -> Result<Vec<Val>> {
        let (export, index) = exports.at(position);
        let func = self.func(position, index, export)?;
        let limits = &setup.limits;
        let mut results = vec![values::placeholder(); usize::from(export.result().is_some())];
        let start_tick = self.begin(setup, position, false);
        let cancelled = CancelGuard::new(&setup.audit, exports, position);
        let outcome = if setup.runs_here() {
            Ok(func.call(&mut self.store, params, &mut results))
        } else {
            with_deadline(
                func.call_async(&mut self.store, params, &mut results),
                start_tick,
                limits.timeout,
            )
            .await
        };
        let out = match outcome {
            Ok(Ok(())) => {
                let size: usize = results.iter().map(values::size_of).sum();
                if size > limits.max_output {
                    Err(Error::ResourceLimitExceeded(Limit::Output {
                        size,
                        allowed: limits.max_output,
                    }))
                } else {
                    Ok(())
                }
            }
            Ok(Err(e)) => Err(self.classify(setup, export, e)),
            Err(Elapsed) => Err(Error::ResourceLimitExceeded(Limit::Time {
                deadline: limits.timeout,
            })),
        };
        let out = self.abort_on_refusal(setup, export, out);
        self.finish(setup, &out, None, None);
        cancelled.disarm();
        let out = self.require_audit(out);
        // An oversized result leaves the instance usable: the plugin did
        // nothing wrong.
        if let Err(Error::ResourceLimitExceeded(Limit::Output { .. })) = &out {
            self.poisoned = false;
        }
        out.map(|()| results)
    }

    /// Prepares the instance for a call; returns the coarse clock.
    #[inline]
    fn begin(&mut self, setup: &InstanceSetup, position: usize, measuring: bool) -> u64 {
        // Set while the call runs; cleared by `finish` on success. A call
        // whose future is dropped never clears it.
        self.poisoned = true;
        self.stderr.start_call();
        let state = self.store.data_mut();
        state.log_budget = state.log_limit;
        // The position names the call in audit events.
        state.audit.begin_call(position);
        if measuring || state.profile.is_some() {
            state.host_calls = 0;
            state.limiter.reset_peak();
        }
        if state.profile.is_some() {
            self.call_started = Some(Instant::now());
        }
        if let Some(budget) = setup.limits.fuel {
            let _ = self.store.set_fuel(budget);
        }
        let now = ticks();
        if setup.sync {
            self.store.data_mut().call_deadline = now.saturating_add(setup.deadline_ticks);
        }
        now
    }

    /// Records the outcome: clears poisoning on success, audits a limit hit,
    /// fills the report.
    #[inline]
    fn finish<R>(
        &mut self,
        setup: &InstanceSetup,
        out: &Result<R>,
        start: Option<Instant>,
        report: Option<&mut CallReport>,
    ) {
        let state = self.store.data();
        if let (Some(profile), Some(started)) = (&state.profile, self.call_started.take()) {
            profile.record_call(
                state.audit.current_position(),
                started.elapsed(),
                state.limiter.peak,
            );
        }
        match out {
            Ok(_) => self.poisoned = false,
            Err(Error::ResourceLimitExceeded(limit)) => {
                // Recorded before the call ends, so the event names it.
                state.audit.record(
                    CapabilityKind::Limit,
                    "limit",
                    limit.name().to_string(),
                    &crate::policy::Verdict::deny(limit.to_string()),
                );
            }
            Err(_) => {}
        }
        // Guest stderr past the budget: one audit event per call, like the
        // logging path's (which records its own when it cuts, and leaves
        // the budget at zero), never two.
        if self.stderr.was_cut() && !(state.log_limit > 0 && state.log_budget == 0) {
            let limit = state.log_limit;
            state.audit.record(
                CapabilityKind::Limit,
                "limit",
                "log-output".to_string(),
                &crate::policy::Verdict::deny(format!(
                    "log_output limit of {limit} bytes per call"
                )),
            );
        }
        state.audit.end_call();
        if let Some(report) = report {
            report.wall_time = start.map(|s| s.elapsed()).unwrap_or_default();
            report.fuel_consumed = setup
                .limits
                .fuel
                .map(|budget| budget.saturating_sub(self.store.get_fuel().unwrap_or(0)));
            let state = self.store.data();
            report.peak_memory = state.limiter.peak;
            report.host_calls = state.host_calls;
            report.logs = self.stderr.take_collected();
        }
    }

    /// Classifies an error from wasmtime, with the guest's last stderr lines.
    #[cold]
    fn classify(
        &mut self,
        setup: &InstanceSetup,
        export: &ExportFunction,
        err: wasmtime::Error,
    ) -> Error {
        classify(export.name(), err, self.stderr.take_recent(), &setup.limits)
    }
}

/// Classifies an error that wasmtime returned while running `function`,
/// naming the limit when one was hit.
pub(crate) fn classify(
    function: &str,
    err: wasmtime::Error,
    stderr: Vec<String>,
    limits: &Effective,
) -> Error {
    if let Some(hit) = err.downcast_ref::<LimitHit>() {
        return Error::ResourceLimitExceeded(hit.0.clone());
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) if limits.fuel.is_some() => {
            return Error::ResourceLimitExceeded(Limit::Fuel {
                budget: limits.fuel.unwrap_or_default(),
            });
        }
        Some(wasmtime::Trap::StackOverflow) => {
            return Error::ResourceLimitExceeded(Limit::Stack { max: limits.stack });
        }
        _ => {}
    }
    classify_failure(function, err, stderr)
}

/// Classifies an error that wasmtime returned while running `function`.
fn classify_failure(function: &str, err: wasmtime::Error, stderr: Vec<String>) -> Error {
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Error::Exited {
            function: function.to_string(),
            code: exit.0,
        };
    }
    if let Some(denied) = err.downcast_ref::<Denied>() {
        return Error::SecurityViolation {
            function: function.to_string(),
            target: denied.target.clone(),
            rule: denied.rule.clone(),
            capability: denied.capability.clone(),
        };
    }
    let code = err.downcast_ref::<wasmtime::Trap>().copied();
    // The backtrace's display starts with a header line; keep the frames.
    let backtrace = err.downcast_ref::<wasmtime::WasmBacktrace>().map(|bt| {
        let text = bt.to_string();
        match text.split_once('\n') {
            Some((first, frames)) if first.ends_with("backtrace:") => frames.to_string(),
            _ => text,
        }
    });
    let message = match code {
        // The top-level message of a trap is the backtrace context; the
        // trap itself describes the failure better.
        Some(code) => code.to_string(),
        // A host function failed: keep its chain of causes, without the
        // backtrace (which has a field of its own).
        None => err
            .chain()
            .map(|e| e.to_string())
            .filter(|m| !m.starts_with("error while executing at wasm backtrace"))
            .collect::<Vec<_>>()
            .join(": "),
    };
    Error::Trap {
        function: function.to_string(),
        code,
        message,
        backtrace,
        guest_stderr: stderr,
    }
}

/// Records a call whose future was dropped before it ended (the caller's
/// own timeout, a `select!` that went the other way, a cancelled task):
/// one audit event, capability `limit`, operation `cancelled`, target the
/// export. Disarmed once the call's outcome is recorded. Holds references
/// only, so a call pays nothing for it but a flag.
struct CancelGuard<'a> {
    audit: &'a crate::audit::AuditSink,
    // The export is looked up only when the call is cancelled.
    exports: &'a Exports,
    position: usize,
}

impl<'a> CancelGuard<'a> {
    #[inline]
    fn new(audit: &'a crate::audit::AuditSink, exports: &'a Exports, position: usize) -> Self {
        CancelGuard {
            audit,
            exports,
            position,
        }
    }

    /// The call ended and its outcome was recorded.
    #[inline]
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for CancelGuard<'_> {
    #[cold]
    fn drop(&mut self) {
        self.audit.record_event(
            CapabilityKind::Limit,
            "cancelled",
            self.exports.at(self.position).0.name().to_string(),
            crate::audit::Decision::Warning,
            "the caller dropped the call before it ended (its own timeout or a \
                 cancellation); the instance is replaced before the next call"
                .to_string(),
        );
    }
}

/// The grant that would have allowed a refused operation on `target`, as
/// `Error::SecurityViolation` names it.
fn capability_for(kind: CapabilityKind, target: &str) -> String {
    let first_word = target.split(' ').next().unwrap_or(target);
    match kind {
        CapabilityKind::FileRead => format!("Capability::FileRead({target:?})"),
        CapabilityKind::FileWrite => format!("Capability::FileWrite({target:?})"),
        CapabilityKind::Network => "Capability::NetworkAccess { .. }".to_string(),
        CapabilityKind::Environment => format!("Capability::EnvironmentRead({target:?})"),
        CapabilityKind::Process => format!("Capability::ProcessSpawn({first_word:?})"),
        CapabilityKind::Custom => {
            let interface = target.split('#').next().unwrap_or(target);
            format!("Capability::Custom({interface:?})")
        }
        other => format!("the {other} capability"),
    }
}

/// Checks dynamic arguments against the signature before anything runs.
pub(crate) fn check_dynamic(export: &ExportFunction, params: &[Val]) -> Result<()> {
    if params.len() != export.params().len() {
        return Err(Error::TypeMismatch {
            function: export.name().to_string(),
            expected: export.signature().to_string(),
            given: format!("{} argument(s)", params.len()),
            detail: Some(format!("it takes {}", export.params().len())),
        });
    }
    for ((pname, ty), val) in export.params().zip(params) {
        values::check(val, ty, &format!("argument `{pname}`")).map_err(|detail| {
            Error::TypeMismatch {
                function: export.name().to_string(),
                expected: export.signature().to_string(),
                given: format!(
                    "({})",
                    params
                        .iter()
                        .map(values::val_kind)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                detail: Some(detail),
            }
        })?;
    }
    Ok(())
}

/// Rephrases wasmtime's type-check error from the caller's side: wasmtime
/// says "expected `s64` found `u32`", meaning the Rust type is an `s64` and the
/// plugin's is a `u32`.
pub(crate) fn explain_typecheck(err: &wasmtime::Error) -> String {
    let text = format!("{err:#}");
    let rephrased = (|| {
        let start = text.find("expected `")?;
        let rest = &text[start + "expected `".len()..];
        let (ours, rest) = rest.split_once('`')?;
        let rest = rest.strip_prefix(" found `")?;
        let (theirs, tail) = rest.split_once('`')?;
        Some(format!(
            "{}the Rust type is `{ours}` where the plugin has `{theirs}`{tail}",
            &text[..start]
        ))
    })();
    rephrased.unwrap_or(text)
}

/// The type names of a typed call, for messages.
pub(crate) fn type_names<P, R>() -> String {
    format!(
        "parameters `{}` and result `{}`",
        short_type_name(std::any::type_name::<P>()),
        short_type_name(std::any::type_name::<R>())
    )
}

/// A type mismatch of a typed call.
#[cold]
pub(crate) fn mismatch<P, R>(export: &ExportFunction, detail: Option<String>) -> Error {
    Error::TypeMismatch {
        function: export.name().to_string(),
        expected: export.signature().to_string(),
        given: type_names::<P, R>(),
        detail,
    }
}

/// A typed function ready to call: without a result (`R = ()`) or with one.
enum TypedExport<P, R> {
    Unit(TypedFunc<P, ()>),
    Value(TypedFunc<P, (R,)>),
}

impl<P, R> TypedExport<P, R>
where
    P: ComponentNamedList + Lower + Send + Sync,
    R: ComponentType + Lift + Send + Sync + 'static,
{
    /// Calls it synchronously (`TypedFunc::call`): the synchronous path.
    #[inline]
    fn call(
        self,
        store: &mut wasmtime::Store<crate::guard::store::HostState>,
        params: P,
    ) -> wasmtime::Result<R> {
        match self {
            TypedExport::Unit(func) => func
                .call(store, params)
                .map(|()| unit::<R>().expect("checked: a function without a result has `R = ()`")),
            TypedExport::Value(func) => func.call(store, params).map(|(r,)| r),
        }
    }
}

/// `R` from `()`, for a function without a result (checked to have `R = ()`).
#[inline]
fn unit<R: 'static>() -> Option<R> {
    let unit: Box<dyn Any> = Box::new(());
    unit.downcast::<R>().ok().map(|r| *r)
}
