//! The HTTP guard's wiring into an instance's store: wasmtime-wasi-http's
//! view of the host state, and the checked `outgoing-handler.handle` that
//! shadows wasmtime-wasi-http's own.

use super::*;
use crate::guard::store::HostState;

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.count_host_call("wasi");
        let (table, http) = self.table_and_http();
        WasiHttpCtxView {
            ctx: &mut http.ctx,
            table,
            hooks: &mut http.guard,
        }
    }
}

/// Shadows `wasi:http/outgoing-handler.handle` with the checked version.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = add_handle(linker);
    linker.allow_shadowing(false);
    result
}

type Handled = (Result<Resource<HostFutureIncomingResponse>, ErrorCode>,);

fn add_handle(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut handler = linker.instance("wasi:http/outgoing-handler@0.2.12")?;
    handler.func_wrap_async(
        "handle",
        |mut cx: StoreContextMut<'_, HostState>,
         (request, options): (
            Resource<HostOutgoingRequest>,
            Option<Resource<RequestOptions>>,
        )| {
            Box::new(async move {
                let asked = Asked::of(cx.data_mut().table_and_http().0.get(&request)?);
                let checker = cx.data_mut().table_and_http().1.guard.checker.clone();
                match checker.decide(&asked).await {
                    Decided::Send(plan) => handle_planned(cx, plan, request, options),
                    Decided::Refused { target, rule } => {
                        checker.audit.record_event(
                            CapabilityKind::Network,
                            "http-request",
                            target.clone(),
                            Decision::Denied,
                            rule.clone(),
                        );
                        discard(&mut cx, request, options)?;
                        cx.data().refused(CAPABILITY, &target, &rule)?;
                        Ok((Err(ErrorCode::HttpRequestDenied),))
                    }
                    Decided::Unresolved {
                        target,
                        rule,
                        error,
                    } => {
                        checker.audit.record_event(
                            CapabilityKind::Network,
                            "http-request",
                            target.clone(),
                            Decision::Allowed,
                            rule,
                        );
                        checker.audit.record_event(
                            CapabilityKind::Network,
                            "http-response",
                            target,
                            Decision::Allowed,
                            format!("failed: {error}"),
                        );
                        discard(&mut cx, request, options)?;
                        Ok((Err(ErrorCode::DnsError(DnsErrorPayload {
                            rcode: Some(error),
                            info_code: None,
                        })),))
                    }
                }
            })
        },
    )?;
    Ok(())
}

/// Drops a request `handle` will not pass on (it owns it).
fn discard(
    cx: &mut StoreContextMut<'_, HostState>,
    request: Resource<HostOutgoingRequest>,
    options: Option<Resource<RequestOptions>>,
) -> wasmtime::Result<()> {
    let state = cx.data_mut();
    // Refused before reaching WASI, where calls are counted.
    state.count_host_call("wasi");
    let table = state.table_and_http().0;
    table.delete(request)?;
    if let Some(options) = options {
        table.delete(options)?;
    }
    Ok(())
}

/// Hands an allowed request to wasmtime-wasi-http with its plan, and
/// audits a refusal that happened in there.
fn handle_planned(
    mut cx: StoreContextMut<'_, HostState>,
    plan: Plan,
    request: Resource<HostOutgoingRequest>,
    options: Option<Resource<RequestOptions>>,
) -> wasmtime::Result<Handled> {
    let target = plan.target.clone();
    cx.data_mut().table_and_http().1.guard.next = Some(plan);
    let result = cx.data_mut().http().handle(request, options);
    let guard = &mut cx.data_mut().table_and_http().1.guard;
    let unsent = guard.next.take();
    let refusal = guard.refusal.take();
    let audit = guard.checker.audit.clone();
    let result = match result {
        Ok(future) => Ok(future),
        Err(e) => Err(e.downcast()?),
    };
    if let Err(code) = &result
        && unsent.is_some()
    {
        // wasmtime-wasi-http refused the request before the send hook.
        let rule = format!("refused by wasmtime-wasi-http: {code:?}");
        audit.record_event(
            CapabilityKind::Network,
            "http-request",
            target.clone(),
            Decision::Denied,
            rule.clone(),
        );
        cx.data().refused(CAPABILITY, &target, &rule)?;
    }
    if let Some((target, rule)) = refusal {
        cx.data().refused(CAPABILITY, &target, &rule)?;
    }
    Ok((result,))
}
