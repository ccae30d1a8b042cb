//! Functions the host offers plugins: the built-in `sandbox:host` package
//! (logging, configuration) and app-declared `#[host_interface]`s.

use std::panic::AssertUnwindSafe;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentType, Lift, Linker, Lower};

use crate::audit::CapabilityKind;
use crate::error::Denied;
use crate::guard::store::HostState;
use crate::limits::LogLevel;

/// A set of host functions that plugins may import, made by the
/// `<Trait>Host::new(impl)` type that `#[host_interface]` generates.
///
/// Register it with [`SandboxBuilder::host_interface`](crate::SandboxBuilder::host_interface).
/// A plugin that imports an interface nobody registered fails to load with
/// [`Error::MissingImport`](crate::Error::MissingImport) naming it.
#[derive(Clone)]
pub struct HostInterface {
    import: String,
    /// The functions declared `async fn`: a plugin that imports one of
    /// them cannot take the synchronous call path.
    asynchronous: Vec<String>,
    link: Arc<LinkFn>,
}

/// Registers an interface's functions in a linker.
type LinkFn = dyn Fn(&mut Linker<HostState>) -> wasmtime::Result<()> + Send + Sync;

impl std::fmt::Debug for HostInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostInterface")
            .field("import", &self.import)
            .finish_non_exhaustive()
    }
}

impl HostInterface {
    #[doc(hidden)]
    pub fn __new(
        import: &str,
        asynchronous: &[&str],
        link: impl Fn(&mut Linker<HostState>) -> wasmtime::Result<()> + Send + Sync + 'static,
    ) -> HostInterface {
        HostInterface {
            import: import.to_string(),
            asynchronous: asynchronous.iter().map(|f| f.to_string()).collect(),
            link: Arc::new(link),
        }
    }

    /// The functions of this interface that the host runs as futures
    /// (`async fn` in the trait), by their WIT names.
    pub fn async_functions(&self) -> &[String] {
        &self.asynchronous
    }

    /// The name plugins import it under, for example
    /// `example-interfaces:key-value/key-value@0.1.0`.
    pub fn import_name(&self) -> &str {
        &self.import
    }

    /// The capability that gates it: `Capability::Custom` of the import name
    /// without its version (`example-interfaces:key-value/key-value`).
    pub fn capability(&self) -> &str {
        unversioned(&self.import)
    }

    pub(crate) fn add_to_linker(&self, linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        (self.link)(linker)
    }
}

/// `ns:pkg/iface@1.0.0` -> `ns:pkg/iface`
pub(crate) fn unversioned(import: &str) -> &str {
    import.split('@').next().unwrap_or(import)
}

/// Runs a host function's implementation for a plugin, if the policy grants
/// the interface (`Capability::Custom`), and audits the call. A panic in the
/// implementation becomes an error for that call (the plugin traps), never
/// a crash of the host.
#[doc(hidden)]
pub fn host_call<R>(
    cx: &mut StoreContextMut<'_, HostState>,
    import: &str,
    function: &str,
    f: impl FnOnce() -> R,
) -> wasmtime::Result<R> {
    let name = unversioned(import);
    let state = cx.data_mut();
    state.count_host_call(name);
    let verdict = state.policy.check_custom(name);
    let target = format!("{name}#{function}");
    state
        .audit
        .record(CapabilityKind::Custom, "call", target.clone(), &verdict);
    if !verdict.allowed {
        return Err(wasmtime::Error::new(Denied {
            capability: format!("Capability::Custom(\"{name}\")"),
            target,
            rule: verdict.rule,
        }));
    }
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|payload| panicked(import, function, payload.as_ref()))
}

/// Runs a host implementation that [`host_call`] already checked and
/// audited, turning a panic into the plugin's trap.
#[doc(hidden)]
pub fn host_catch<R>(import: &str, function: &str, f: impl FnOnce() -> R) -> wasmtime::Result<R> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|payload| panicked(import, function, payload.as_ref()))
}

/// [`host_call`] for an `async fn` of a host interface: checks the policy
/// and audits the call at once, then returns the future that runs the
/// implementation while the plugin waits. The plugin's call (its deadline,
/// its cancellation) owns that future: when the call's deadline passes or
/// its caller drops it, the implementation's future is dropped with it. A
/// panic while making or polling the future fails the plugin's call, never
/// the host.
#[doc(hidden)]
pub fn host_call_async<'a, R, F>(
    mut cx: StoreContextMut<'a, HostState>,
    import: &'static str,
    function: &'static str,
    make: impl FnOnce() -> F,
) -> Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>
where
    F: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let future = match host_call(&mut cx, import, function, make) {
        Ok(future) => future,
        Err(refused) => return Box::new(std::future::ready(Err(refused))),
    };
    Box::new(async move {
        match futures_util::FutureExt::catch_unwind(AssertUnwindSafe(future)).await {
            Ok(r) => Ok(r),
            Err(payload) => Err(panicked(import, function, payload.as_ref())),
        }
    })
}

/// The error for a host implementation that panicked.
fn panicked(import: &str, function: &str, payload: &(dyn std::any::Any + Send)) -> wasmtime::Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string());
    wasmtime::Error::msg(format!(
        "the host's implementation of `{import}#{function}` panicked: {msg}"
    ))
}

/// `sandbox:host/logging.level`
#[derive(ComponentType, Lift, Clone, Copy, Debug)]
#[allow(
    dead_code,
    reason = "values are made by `Lift` from the plugin's arguments"
)]
#[component(enum)]
#[repr(u8)]
enum Level {
    #[component(name = "trace")]
    Trace,
    #[component(name = "debug")]
    Debug,
    #[component(name = "info")]
    Info,
    #[component(name = "warn")]
    Warn,
    #[component(name = "error")]
    Error,
}

/// The interfaces of `wit/sandbox-host/host.wit`, always offered: logging
/// into `tracing` and read access to the plugin's own configuration.
pub(crate) const LOGGING: &str = "sandbox:host/logging@0.1.0";
pub(crate) const CONFIG: &str = "sandbox:host/config@0.1.0";
pub(crate) const ENVIRONMENT: &str = "sandbox:host/environment@0.1.0";
pub(crate) const PROCESS: &str = "sandbox:host/process@0.1.0";

/// How long a spawned program may run.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of each of stdout and stderr is kept.
const PROCESS_MAX_OUTPUT: usize = 1024 * 1024;

/// `sandbox:host/process.output`
#[derive(ComponentType, Lower, Debug)]
#[component(record)]
struct ProcessOutput {
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: bool,
}

/// `sandbox:host/process.spawn-error`
#[derive(ComponentType, Lower, Debug)]
#[component(variant)]
enum SpawnError {
    #[component(name = "denied")]
    Denied(String),
    #[component(name = "failed")]
    Failed(String),
    #[component(name = "timed-out")]
    TimedOut(u32),
}

async fn read_capped(mut r: impl tokio::io::AsyncRead + Unpin, cap: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let mut truncated = false;
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(out.len());
                if n > room {
                    truncated = true;
                }
                out.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (out, truncated)
}

async fn run_program(program: String, args: Vec<String>) -> Result<ProcessOutput, SpawnError> {
    let mut child = tokio::process::Command::new(&program)
        .args(&args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| SpawnError::Failed(format!("cannot start `{program}`: {e}")))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let out = async {
            match stdout {
                Some(s) => read_capped(s, PROCESS_MAX_OUTPUT).await,
                None => (Vec::new(), false),
            }
        };
        let err = async {
            match stderr {
                Some(s) => read_capped(s, PROCESS_MAX_OUTPUT).await,
                None => (Vec::new(), false),
            }
        };
        let ((stdout, t1), (stderr, t2)) = tokio::join!(out, err);
        let status = child.wait().await;
        (stdout, stderr, t1 || t2, status)
    };
    match tokio::time::timeout(PROCESS_TIMEOUT, work).await {
        Ok((stdout, stderr, truncated, status)) => Ok(ProcessOutput {
            status: status.ok().and_then(|s| s.code()),
            stdout,
            stderr,
            truncated,
        }),
        // Dropping the future drops the child, which kills it.
        Err(_) => Err(SpawnError::TimedOut(PROCESS_TIMEOUT.as_millis() as u32)),
    }
}

/// Longest log message kept; the rest is cut.
const MAX_LOG_MESSAGE: usize = 16 * 1024;

pub(crate) fn add_builtin(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut logging = linker.instance(LOGGING)?;
    logging.func_wrap(
        "log",
        |mut cx: StoreContextMut<'_, HostState>, (level, mut message): (Level, String)| {
            // Each call may log up to its budget; the rest is dropped, with
            // one notice and one audit event.
            let state = cx.data_mut();
            state.count_host_call(unversioned(LOGGING));
            if state.log_budget == 0 {
                return Ok(());
            }
            if message.len() >= state.log_budget {
                let limit = state.log_limit;
                state.log_budget = 0;
                tracing::warn!(
                    target: "wasm_sandbox::guest",
                    plugin = %state.plugin(),
                    "[wasm-sandbox: this call reached its log limit of {limit} bytes; the rest is dropped]"
                );
                state.audit.record(
                    CapabilityKind::Limit,
                    "limit",
                    "log-output".to_string(),
                    &crate::policy::Verdict::deny(format!("log_output limit of {limit} bytes per call")),
                );
                return Ok(());
            }
            state.log_budget -= message.len();
            if message.len() > MAX_LOG_MESSAGE {
                let mut cut = MAX_LOG_MESSAGE;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push_str(" [message cut]");
            }
            let plugin = cx.data().plugin();
            cx.data().stderr.collect_log(
                match level {
                    Level::Trace => LogLevel::Trace,
                    Level::Debug => LogLevel::Debug,
                    Level::Info => LogLevel::Info,
                    Level::Warn => LogLevel::Warn,
                    Level::Error => LogLevel::Error,
                },
                &message,
            );
            match level {
                Level::Trace => {
                    tracing::trace!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Debug => {
                    tracing::debug!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Info => {
                    tracing::info!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Warn => {
                    tracing::warn!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
                Level::Error => {
                    tracing::error!(target: "wasm_sandbox::guest", plugin = %plugin, "{message}")
                }
            }
            Ok(())
        },
    )?;
    let mut config = linker.instance(CONFIG)?;
    config.func_wrap(
        "get",
        |mut cx: StoreContextMut<'_, HostState>, (key,): (String,)| {
            cx.data_mut().count_host_call(unversioned(CONFIG));
            Ok((cx.data().config().get(&key).cloned(),))
        },
    )?;
    config.func_wrap("keys", |mut cx: StoreContextMut<'_, HostState>, (): ()| {
        cx.data_mut().count_host_call(unversioned(CONFIG));
        Ok((cx.data().config().keys().cloned().collect::<Vec<String>>(),))
    })?;

    let mut environment = linker.instance(ENVIRONMENT)?;
    environment.func_wrap(
        "get",
        |mut cx: StoreContextMut<'_, HostState>, (name,): (String,)| {
            cx.data_mut().count_host_call(unversioned(ENVIRONMENT));
            let state = cx.data();
            let verdict = state.policy.check_env(&name);
            state.audit.record(
                CapabilityKind::Environment,
                "env-read",
                name.clone(),
                &verdict,
            );
            if !verdict.allowed {
                state.refused(
                    &format!("Capability::EnvironmentRead({name:?})"),
                    &name,
                    &verdict.rule,
                )?;
                return Ok((None,));
            }
            let value = state
                .environment
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    // Learn mode keeps the WASI environment empty but answers
                    // here from the host, so the names get recorded.
                    if state.policy.source.is_observing() {
                        std::env::var(&name).ok()
                    } else {
                        None
                    }
                });
            Ok((value,))
        },
    )?;

    let mut process = linker.instance(PROCESS)?;
    process.func_wrap_async(
        "run",
        |mut cx: StoreContextMut<'_, HostState>, (program, args): (String, Vec<String>)| {
            cx.data_mut().count_host_call(unversioned(PROCESS));
            let state = cx.data();
            // Learn mode allows programs that are not denied (see
            // `Compiled::check_program`); a denial refuses them in every mode.
            let verdict = state.policy.check_program(&program);
            let mut target = program.clone();
            for a in &args {
                target.push(' ');
                target.push_str(a);
            }
            state
                .audit
                .record(CapabilityKind::Process, "spawn", target.clone(), &verdict);
            if !verdict.allowed
                && let Err(abort) = state.refused(
                    &format!("Capability::ProcessSpawn({program:?})"),
                    &target,
                    &verdict.rule,
                )
            {
                return Box::new(async move { Err(abort) });
            }
            Box::new(async move {
                if !verdict.allowed {
                    return Ok((Err(SpawnError::Denied(verdict.rule)),));
                }
                Ok((run_program(program, args).await,))
            })
        },
    )?;
    Ok(())
}

/// Records the environment a plugin enumerates through WASI.
pub(crate) fn add_environment_audit(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    crate::guard::shadow(linker, |linker| {
        let mut env = linker.instance("wasi:cli/environment@0.2.12")?;
        env.func_wrap(
            "get-environment",
            |mut cx: StoreContextMut<'_, HostState>, (): ()| {
                cx.data_mut().count_host_call("wasi");
                let state = cx.data();
                let names: Vec<&str> = state.environment.iter().map(|(k, _)| k.as_str()).collect();
                let target = if names.is_empty() {
                    "(no variables)".to_string()
                } else {
                    names.join(",")
                };
                state.audit.record(
                    CapabilityKind::Environment,
                    "env-list",
                    target,
                    &crate::policy::Verdict::allow(
                        "only variables granted by EnvironmentRead are visible",
                    ),
                );
                Ok((state.environment.clone(),))
            },
        )?;
        Ok(())
    })
}
