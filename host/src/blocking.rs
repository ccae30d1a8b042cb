//! [`BlockingSandbox`]: the sandbox API for programs without an async runtime.

use wasmtime::component::{ComponentNamedList, ComponentType, Lift, Lower, Val};

use crate::audit::CallAudit;
use crate::builder::SandboxBuilder;
use crate::error::{Error, Result};
use crate::plugin::command::{CommandOutput, CommandRun};
use crate::plugin::exports::ExportFunction;
use crate::sandbox::WasmSandbox;

/// A [`WasmSandbox`] whose methods block the calling thread; created with
/// [`SandboxBuilder::build_blocking`].
///
/// Calls take the synchronous path when the plugin can (it imports no
/// file, socket, HTTP, timer or process functions, and its engine is
/// epoch-interrupted; see
/// [`SandboxBuilder::synchronous_calls`]): wasmtime's
/// `TypedFunc::call` on the calling thread, about half the cost of an
/// async call. Other plugins run on the async path, driven by a small
/// single-threaded tokio runtime the sandbox owns;
/// [`is_synchronous`](crate::Plugin::is_synchronous) says which.
/// Do not use it from async code: its methods return
/// [`Error::BlockingInAsyncContext`] there; use [`WasmSandbox`] instead.
///
/// ```no_run
/// use wasm_sandbox::WasmSandbox;
///
/// fn main() -> wasm_sandbox::Result<()> {
///     let sandbox = WasmSandbox::builder()
///         .source("plugins/greeter.wasm")
///         .build_blocking()?;
///     let text: String = sandbox.call("greet", ("world",))?;
///     println!("{text}");
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct BlockingSandbox {
    sandbox: WasmSandbox,
    runtime: Runtime,
}

/// The runtime of a blocking sandbox. Dropping a tokio runtime from inside
/// another runtime panics, so this one shuts down in the background then.
#[derive(Debug)]
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        match &self.0 {
            Some(rt) => rt.block_on(future),
            None => unreachable!("the runtime is only taken when the sandbox is dropped"),
        }
    }
}

impl BlockingSandbox {
    /// Runs one of the sandbox's async methods to completion. On the
    /// synchronous path the call itself never yields, so the method
    /// finishes at its first poll unless it must wait for the instance
    /// (another thread's call): that poll needs no runtime, and only a
    /// wait enters it.
    #[inline]
    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        if !self.sandbox.is_synchronous() {
            return self.runtime.block_on(future);
        }
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => self.runtime.block_on(future),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            rt.shutdown_background();
        }
    }
}

impl SandboxBuilder {
    /// Like [`build`](Self::build), for programs without an async runtime:
    /// returns a [`BlockingSandbox`] whose methods block the calling thread.
    ///
    /// # Errors
    ///
    /// The same as [`build`](Self::build), and
    /// [`Error::BlockingInAsyncContext`] when called from inside an async
    /// runtime.
    pub fn build_blocking(self) -> Result<BlockingSandbox> {
        BlockingSandbox::build(self)
    }
}

impl BlockingSandbox {
    fn build(builder: SandboxBuilder) -> Result<BlockingSandbox> {
        ensure_not_async()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config {
                detail: format!("could not start the runtime of a blocking sandbox: {e}"),
            })?;
        let runtime = Runtime(Some(runtime));
        let mut builder = builder;
        builder.prefer_synchronous = true;
        let sandbox = runtime.block_on(builder.build())?;
        Ok(BlockingSandbox { sandbox, runtime })
    }

    /// Blocking form of [`WasmSandbox::call`](crate::Plugin::call).
    ///
    /// # Errors
    ///
    /// As [`WasmSandbox::call`](crate::Plugin::call), and [`Error::BlockingInAsyncContext`].
    pub fn call<Params, R>(&self, name: &str, params: Params) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        ensure_not_async()?;
        if self.sandbox.is_synchronous() {
            let position = self.sandbox.exports().position_of(name)?;
            return Ok(self.sandbox.call_now_or(position, params, |params| {
                self.run(self.sandbox.call_at(Ok(position), params, None))
            })?);
        }
        self.run(self.sandbox.call(name, params))
    }

    /// Blocking form of [`WasmSandbox::call_dynamic`](crate::Plugin::call_dynamic).
    ///
    /// # Errors
    ///
    /// As [`WasmSandbox::call_dynamic`](crate::Plugin::call_dynamic), and [`Error::BlockingInAsyncContext`].
    pub fn call_dynamic(&self, name: &str, params: &[Val]) -> Result<Vec<Val>> {
        ensure_not_async()?;
        self.run(self.sandbox.call_dynamic(name, params))
    }

    /// Blocking form of [`WasmSandbox::call_with_audit`](crate::Plugin::call_with_audit).
    ///
    /// # Errors
    ///
    /// As [`WasmSandbox::call_with_audit`](crate::Plugin::call_with_audit), and [`Error::BlockingInAsyncContext`].
    pub fn call_with_audit<Params, R>(&self, name: &str, params: Params) -> Result<(R, CallAudit)>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        ensure_not_async()?;
        self.run(self.sandbox.call_with_audit(name, params))
    }

    /// Blocking form of [`WasmSandbox::call_with_audit_outcome`](crate::Plugin::call_with_audit_outcome): the
    /// call's audit events whatever its outcome. Called from inside an
    /// async runtime it returns [`Error::BlockingInAsyncContext`] and no
    /// events (the call never started).
    pub fn call_with_audit_outcome<Params, R>(
        &self,
        name: &str,
        params: Params,
    ) -> (Result<R>, CallAudit)
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        if let Err(e) = ensure_not_async() {
            return (Err(e), CallAudit::default());
        }
        self.run(self.sandbox.call_with_audit_outcome(name, params))
    }

    /// Blocking form of [`WasmSandbox::reset`].
    ///
    /// # Errors
    ///
    /// As [`WasmSandbox::reset`], and [`Error::BlockingInAsyncContext`].
    pub fn reset(&self) -> Result<()> {
        ensure_not_async()?;
        self.run(self.sandbox.reset())
    }

    #[doc(hidden)]
    pub fn __call_export<Params, R>(
        &self,
        handle: &crate::proxy::ExportHandle,
        params: Params,
    ) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        ensure_not_async()?;
        if self.sandbox.is_synchronous() {
            crate::proxy::check_handle(self.sandbox.exports(), handle)?;
            let position = handle.position;
            return Ok(self.sandbox.call_now_or(position, params, |params| {
                self.run(self.sandbox.call_at(Ok(position), params, None))
            })?);
        }
        self.run(self.sandbox.call_handle(handle, params))
    }

    /// Blocking form of [`WasmSandbox::command`](crate::Plugin::command):
    /// runs the command component set up by `setup` to its end.
    ///
    /// ```no_run
    /// # fn run(sandbox: wasm_sandbox::BlockingSandbox) -> wasm_sandbox::Result<()> {
    /// let output = sandbox.run_command(|run| run.args(["echo", "hi"]))?;
    /// assert_eq!(output.stdout_text(), "hi\n");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`CommandRun::run`](crate::CommandRun::run), and [`Error::BlockingInAsyncContext`].
    pub fn run_command<'a>(
        &'a self,
        setup: impl FnOnce(CommandRun<'a>) -> CommandRun<'a>,
    ) -> Result<CommandOutput> {
        ensure_not_async()?;
        self.runtime.block_on(setup(self.sandbox.command()).run())
    }

    /// See [`WasmSandbox::is_command`](crate::Plugin::is_command).
    pub fn is_command(&self) -> bool {
        self.sandbox.is_command()
    }

    /// See [`WasmSandbox::list_exports`](crate::Plugin::list_exports).
    pub fn list_exports(&self) -> &[ExportFunction] {
        self.sandbox.list_exports()
    }

    /// See [`WasmSandbox::is_synchronous`](crate::Plugin::is_synchronous).
    pub fn is_synchronous(&self) -> bool {
        self.sandbox.is_synchronous()
    }

    /// See [`WasmSandbox::instances_created`](crate::Plugin::instances_created).
    pub fn instances_created(&self) -> u64 {
        self.sandbox.instances_created()
    }

    /// The async sandbox inside, for code that mixes both styles.
    pub fn as_async(&self) -> &WasmSandbox {
        &self.sandbox
    }
}

fn ensure_not_async() -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        Err(Error::BlockingInAsyncContext)
    } else {
        Ok(())
    }
}
