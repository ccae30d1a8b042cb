//! The one error type of the crate.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A trap code reported by wasmtime (for example `IntegerDivisionByZero` or
/// `UnreachableCodeReached`).
pub use wasmtime::Trap as TrapCode;

/// The underlying error of a failed load or call, kept as the
/// [`source`](std::error::Error::source) of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The result of the call path inside the crate: the error boxed, so that
/// a successful call moves a few bytes through each layer instead of the
/// size of [`Error`]. Public entry points unbox it once.
pub(crate) type Outcome<T> = std::result::Result<T, Box<Error>>;

/// Unboxes the error of the internal call path (see `Outcome`); lets `?`
/// turn it into an [`Error`].
impl From<Box<Error>> for Error {
    #[inline]
    fn from(error: Box<Error>) -> Error {
        *error
    }
}

/// Everything that can go wrong when loading or calling a plugin.
///
/// Variants follow the stages of a plugin's life: reading the source
/// ([`Io`](Error::Io), [`NotARegularFile`](Error::NotARegularFile),
/// [`InputTooLarge`](Error::InputTooLarge)), checking and compiling it
/// ([`NotAComponent`](Error::NotAComponent), [`InvalidBinary`](Error::InvalidBinary),
/// [`ComponentTooComplex`](Error::ComponentTooComplex), [`Compile`](Error::Compile)), linking and checking it against the policy
/// ([`MissingImport`](Error::MissingImport), [`Policy`](Error::Policy),
/// [`UnsatisfiableImport`](Error::UnsatisfiableImport)), starting it
/// ([`Instantiate`](Error::Instantiate)) and calling it
/// ([`ExportNotFound`](Error::ExportNotFound), [`TypeMismatch`](Error::TypeMismatch),
/// [`InterfaceMismatch`](Error::InterfaceMismatch), [`Trap`](Error::Trap),
/// [`Exited`](Error::Exited), [`NotACommand`](Error::NotACommand),
/// [`ResourceLimitExceeded`](Error::ResourceLimitExceeded),
/// [`SecurityViolation`](Error::SecurityViolation)). Every message says what
/// happened and what to do. The guide's "Errors and traps" chapter shows each
/// one.
///
/// The enum is `#[non_exhaustive]`: match with a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plugin file could not be read.
    #[error(
        "could not read plugin `{}`: {cause}; check that the path exists and is readable",
        path.display()
    )]
    Io {
        /// The path that was given to [`SandboxBuilder::source`](crate::SandboxBuilder::source).
        path: PathBuf,
        /// What the operating system said. The message already includes
        /// it, so it is not also the error's `source()` (an error chain
        /// prints it once).
        cause: std::io::Error,
    },

    /// A plugin file or precompiled artifact is larger than the limit set
    /// by [`SandboxBuilder::max_plugin_bytes`](crate::SandboxBuilder::max_plugin_bytes)
    /// or [`SandboxBuilder::max_artifact_bytes`](crate::SandboxBuilder::max_artifact_bytes).
    /// It was refused from its size alone (a file that grew while it was
    /// read is refused once one byte over the limit was read).
    #[error(
        "{what} `{}` is {size} bytes, more than the limit of {limit} bytes, so it was not loaded; \
         if the file is genuine, raise the limit with `{setting}`, otherwise check the path",
        path.display()
    )]
    InputTooLarge {
        /// What the file was read as: "plugin file" or "precompiled artifact".
        what: String,
        /// The file's path.
        path: PathBuf,
        /// Its size in bytes (at least this much for a file that grew).
        size: u64,
        /// The limit in bytes.
        limit: u64,
        /// The setting that raises the limit, for example
        /// `SandboxBuilder::max_plugin_bytes(..)`.
        setting: String,
    },

    /// A plugin or artifact path names something that is not a regular
    /// file: a directory, a device such as `/dev/zero`, a FIFO or a socket.
    /// It was opened without blocking and never read.
    #[error(
        "{what} `{}` is {kind}, not a regular file, so it was not read; \
         give the path of a file (a `.wasm` component, or a `.cwasm` artifact for `.precompiled(..)`)",
        path.display()
    )]
    NotARegularFile {
        /// What the file was read as: "plugin file" or "precompiled artifact".
        what: String,
        /// The path that was given.
        path: PathBuf,
        /// What it is instead, for example "a directory" or "a FIFO (named pipe)".
        kind: String,
    },

    /// A core WebAssembly module was given where a component is required.
    #[error(
        "{origin} is a core WebAssembly module, not a component; wasm-sandbox runs components only: \
         build the plugin with `cargo build --target wasm32-wasip2` (or another component toolchain), \
         or wrap a core module with `wasm-tools component new`"
    )]
    NotAComponent {
        /// Where the bytes came from: "plugin `path`", or "the plugin (given as bytes)".
        origin: String,
    },

    /// The bytes are not a well-formed WebAssembly binary (empty, truncated,
    /// wrong magic number, unknown encoding version).
    #[error(
        "{origin} is not a valid WebAssembly component: {reason}; \
         expected the `.wasm` file produced by a component toolchain such as `cargo build --target wasm32-wasip2`"
    )]
    InvalidBinary {
        /// Where the bytes came from.
        origin: String,
        /// What is wrong with them.
        reason: String,
    },

    /// The component's structure is over a bound the loader checks before
    /// compiling: components and modules nested deeper than
    /// [`MAX_NESTING_DEPTH`](crate::MAX_NESTING_DEPTH) levels, or more than
    /// [`MAX_NESTED_ITEMS`](crate::MAX_NESTED_ITEMS) of them in all.
    /// Compilers stay far below both; past them wasmtime's compilation
    /// would take time and memory that grow faster than the file.
    #[error(
        "{origin} was refused before compiling: its {what} reaches {found} at byte offset {offset}, \
         over the limit of {limit}; toolchain-built components stay far below it, so check where \
         this file comes from and rebuild it with a component toolchain"
    )]
    ComponentTooComplex {
        /// Where the bytes came from.
        origin: String,
        /// What was counted: "nesting depth of components and modules" or
        /// "number of nested components and modules".
        what: String,
        /// The count where the walk stopped (one over the limit).
        found: u64,
        /// The limit.
        limit: u64,
        /// The byte offset of the section that went over it.
        offset: usize,
    },

    /// wasmtime rejected the component while validating or compiling it.
    #[error("{origin} failed validation or compilation: {detail}")]
    Compile {
        /// Where the bytes came from.
        origin: String,
        /// wasmtime's explanation, with its whole chain of causes.
        detail: String,
        /// The wasmtime error. `detail` already says what it says, so it is
        /// not also the error's `source()`.
        cause: BoxError,
    },

    /// The component imports something the host does not provide.
    #[error(
        "the plugin imports {kind} `{import}`, which this host does not provide ({reason}); {}",
        missing_import_hint(import)
    )]
    MissingImport {
        /// What kind of item is imported (`instance`, `function`, ...).
        kind: String,
        /// The import's name, for example `wasi:sockets/tcp@0.2.0` or `acme:kv/store`.
        import: String,
        /// Why the host's definition did not match, as wasmtime reports it.
        reason: String,
    },

    /// Creating an instance of the component failed (for example, its start
    /// function trapped).
    #[error("could not instantiate the plugin: {detail}")]
    Instantiate {
        /// wasmtime's explanation, with its whole chain of causes.
        detail: String,
        /// The wasmtime error. `detail` already says what it says, so it is
        /// not also the error's `source()`.
        cause: BoxError,
    },

    /// The plugin has no exported function of that name.
    #[error("{}", export_not_found_message(name, suggestions, *available))]
    ExportNotFound {
        /// The name that was asked for.
        name: String,
        /// Exported names close to the one asked for, nearest first.
        suggestions: Vec<String>,
        /// How many functions the plugin exports in all.
        available: usize,
    },

    /// The Rust types (or values) given for a call do not match the
    /// function's WIT signature.
    #[error(
        "type mismatch calling `{function}`: the plugin exports `{expected}`, \
         but the call used {given}{}; change the Rust types to match the WIT signature \
         (see `list_exports()` for every signature)",
        detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    TypeMismatch {
        /// The export's name.
        function: String,
        /// The export's signature in WIT syntax.
        expected: String,
        /// The Rust types (or value kinds) that were given.
        given: String,
        /// wasmtime's or our own explanation of the first difference, when known.
        detail: Option<String>,
    },

    /// The guest trapped (for example `unreachable`, a division by zero, or
    /// a Rust panic, which aborts with `unreachable`).
    ///
    /// The instance that trapped is discarded; the next call on the same
    /// sandbox runs on a fresh instance.
    #[error("{}", trap_message(function, message, guest_stderr))]
    Trap {
        /// The export that was running.
        function: String,
        /// The trap code, when the failure was a wasm trap (`None` when a host
        /// function failed instead).
        code: Option<TrapCode>,
        /// wasmtime's description of the failure.
        message: String,
        /// The guest's stack at the trap, innermost frame first, when known.
        backtrace: Option<String>,
        /// The last lines the guest wrote to stderr during the call (a Rust
        /// guest's panic message lands here).
        guest_stderr: Vec<String>,
    },

    /// The plugin called WASI's `exit` during a function call. A function
    /// of a plugin must return; a program with a `main` (a command
    /// component, which exports `wasi:cli/run`) is run with
    /// [`Plugin::command`](crate::Plugin::command) instead, where `exit(n)`
    /// is its status.
    ///
    /// The instance is discarded, as after a trap.
    #[error(
        "`{function}` called exit({code}) instead of returning; the instance was discarded. \
         A plugin function must return its result; to run a program with a `main`, \
         run it as a command (`Plugin::command`, or `wasm-sandbox run PLUGIN -- ARGS`)"
    )]
    Exited {
        /// The export that was running.
        function: String,
        /// The status it gave `exit`: 0 for `exit(ok)`, 1 for `exit(err)`,
        /// or the code of `exit-with-code`.
        code: i32,
    },

    /// [`Plugin::command`](crate::Plugin::command) on a plugin that is not
    /// a command: it does not export `wasi:cli/run`.
    #[error(
        "`{plugin}` is not a command: it exports no `wasi:cli/run` (a program built from a `main`). \
         Call its functions instead (`sandbox.call(..)`, or `wasm-sandbox run PLUGIN FUNCTION ARGS`); \
         `wasm-sandbox inspect PLUGIN` lists them"
    )]
    NotACommand {
        /// The plugin's name.
        plugin: String,
    },

    /// The plugin does not implement the interface a typed proxy expects:
    /// exports are missing or have other signatures.
    #[error(
        "the plugin does not implement `{interface}` (WIT world `{world}`): {}; \
         rebuild the plugin against this interface's WIT",
        problems.join("; ")
    )]
    InterfaceMismatch {
        /// The Rust trait.
        interface: String,
        /// The WIT world the trait stands for.
        world: String,
        /// One sentence per missing or mistyped function.
        problems: Vec<String>,
    },

    /// The plugin implements none of the versions of an interface that the
    /// host serves ([`plugin_versions!`](crate::plugin_versions)): each
    /// version's missing or mistyped functions are listed.
    #[error(
        "the plugin implements none of the versions of `{interface}` this host serves ({}): {}; \
         rebuild it against one of them",
        served.join(", "),
        problems.join("; ")
    )]
    NoServedVersion {
        /// The enum of versions.
        interface: String,
        /// The WIT world of each version, in the order tried (newest first).
        served: Vec<String>,
        /// What each version missed, one entry per version.
        problems: Vec<String>,
    },

    /// The security policy is invalid: a relative or missing path (in
    /// `allow` or `deny`), a malformed host or port, a resource limit out of
    /// its range, or a policy file that does not parse or has an unknown key
    /// (with its line and column).
    #[error("invalid security policy: {detail}")]
    Policy {
        /// What is wrong, and where.
        detail: String,
    },

    /// The audit file could not be opened, or (under
    /// [`SandboxBuilder::audit_required`](crate::SandboxBuilder::audit_required))
    /// a call's audit events could not be written to it, so the call's
    /// result is withheld.
    #[error(
        "could not write audit events to `{}`: {cause}; free space on its disk or fix \
         the file's permissions (the audit file, not the plugin), then retry",
        path.display()
    )]
    AuditFailed {
        /// The audit file.
        path: PathBuf,
        /// Why it could not be opened or written (in the message too, so
        /// not also the error's `source()`).
        cause: std::io::Error,
    },

    /// The plugin imports an interface the policy can never allow, and the
    /// policy's import check is `ImportCheck::Deny`.
    #[error(
        "the plugin imports `{import}`, which the security policy can never allow; \
         grant {capability} to let it load (or use `ImportCheck::Warn` to load it and \
         deny the calls at run time)"
    )]
    UnsatisfiableImport {
        /// The import, for example `wasi:sockets/tcp@0.2.6`.
        import: String,
        /// The capability that would make it usable.
        capability: String,
    },

    /// The plugin hit a resource limit: memory, time, fuel, stack, table,
    /// instance count or output size. The instance is discarded; the next
    /// call on the same sandbox runs on a fresh one.
    #[error("resource limit exceeded: {0}")]
    ResourceLimitExceeded(Limit),

    /// The policy refused an operation and the call was ended for it: a
    /// call to a host interface the policy does not grant (host interface
    /// functions have no error result of their own, so this happens in
    /// every mode), or, under
    /// [`ViolationAction::AbortCall`](crate::ViolationAction::AbortCall),
    /// the first refused operation of any kind. The plugin traps; the
    /// instance is replaced before the next call.
    #[error(
        "security violation in `{function}`: the plugin called `{target}`, which the policy \
         does not allow ({rule}); grant {capability} if it should"
    )]
    SecurityViolation {
        /// The export that was running.
        function: String,
        /// What the plugin tried to use, as the audit event names it
        /// (`interface#function`, a path, a variable, `program args`).
        target: String,
        /// The rule that refused it.
        rule: String,
        /// The capability that would allow it.
        capability: String,
    },

    /// The sandbox is set up wrongly: no source was given, wasmtime rejected
    /// the engine settings, a fuel budget was combined with an engine
    /// without fuel, a proxy was used with a sandbox it was not loaded from.
    #[error("sandbox configuration error: {detail}")]
    Config {
        /// What is wrong and what to change.
        detail: String,
    },

    /// A precompiled artifact given to
    /// [`SandboxBuilder::precompiled`](crate::SandboxBuilder::precompiled)
    /// cannot be used: it is not an artifact, it is damaged, or it was made
    /// by another version of this crate or an engine with other settings.
    /// Nothing from it was run.
    #[error("cannot load precompiled plugin `{}`: {reason}", path.display())]
    InvalidArtifact {
        /// The artifact's path.
        path: PathBuf,
        /// Which check failed, and what to do.
        reason: String,
    },

    /// Every instance of a [`SandboxPool`](crate::SandboxPool) stayed busy
    /// for the whole checkout timeout.
    #[error(
        "no plugin instance became free within {waited:?}: all {max_instances} instances of the \
         pool are busy; raise `max_instances(..)` or `checkout_timeout(..)`, or make calls shorter"
    )]
    PoolTimeout {
        /// How long the call waited.
        waited: std::time::Duration,
        /// The pool's instance limit.
        max_instances: usize,
    },

    /// A handle on a plugin object (a resource the plugin exports) was used
    /// after the instance that made the object went away. Nothing ran.
    #[error(
        "the plugin's `{resource}` object can no longer be used: {why}; make a new one (a \
         plugin object lives in the instance that made it)"
    )]
    ResourceExpired {
        /// The resource's WIT name (`counter`).
        resource: String,
        /// Why the object is gone.
        why: String,
    },

    /// A function that takes or returns plugin objects (WIT resources) was
    /// called by name. A raw resource handle carries no instance: on a
    /// pool, or after a reset, it could name another instance's object, so
    /// only the typed handles of a `#[sandbox_plugin]` proxy pass them.
    /// Nothing ran.
    #[error(
        "`{function}` takes or returns plugin objects (WIT resources), which can only be passed \
         through the typed handles of a #[sandbox_plugin] proxy; call it through the proxy"
    )]
    PluginObjectsNeedHandles {
        /// The function called.
        function: String,
    },

    /// One call was given handles on plugin objects made by different
    /// instances; a call runs on one instance, which cannot see objects of
    /// another. Nothing ran.
    #[error(
        "`{function}` was given plugin objects made by different instances; pass objects made \
         by the same instance (on a pool, each instance keeps its own objects)"
    )]
    ResourcesFromDifferentInstances {
        /// The function called.
        function: String,
    },

    /// [`ReloadablePool::reload`](crate::ReloadablePool::reload) refused a
    /// new version of the plugin; the running version keeps serving.
    #[error(
        "the new version of `{plugin}` was not loaded: {reason}; the running version keeps serving"
    )]
    ReloadRefused {
        /// The plugin's name.
        plugin: String,
        /// Why, and what to do.
        reason: String,
    },

    /// A method of [`BlockingSandbox`](crate::BlockingSandbox) was called from
    /// inside an async runtime, where blocking would stall the runtime.
    #[error(
        "a blocking sandbox method was called from inside an async runtime; \
         use `WasmSandbox` and `.await` its methods there, or call from `tokio::task::spawn_blocking`"
    )]
    BlockingInAsyncContext,

    /// [`SandboxBuilder::synchronous_calls`](crate::SandboxBuilder::synchronous_calls)
    /// asked for the synchronous call path and this plugin cannot take it:
    /// it imports functions that wait (files, sockets, HTTP, timers,
    /// processes), or its engine is interrupted by fuel. Each reason names
    /// the import or setting.
    #[error(
        "plugin `{plugin}` cannot be called synchronously: {}; drop `synchronous_calls(true)` \
         (calls then take the async path), or use a plugin that does not wait in host calls",
        reasons.join("; ")
    )]
    SynchronousCallsUnavailable {
        /// The plugin's name.
        plugin: String,
        /// Why, one entry per import or setting in the way.
        reasons: Vec<String>,
    },

    /// The plugin uses the component model's async ABI (async exports,
    /// `stream`/`future` types, built-ins such as `task.return`), which
    /// runs only on an engine with wasmtime's concurrency support, and this
    /// sandbox was not allowed one: `component_model_async(false)`, or an
    /// engine given with `.engine(..)` that has it off. (By default the
    /// builder gives such a plugin an engine with it on.)
    #[error(
        "the plugin uses the component model's async ABI ({}); {remedy}",
        uses.join(", ")
    )]
    ComponentModelAsync {
        /// What it uses, one phrase each (`the \`task.return\` built-in`).
        uses: Vec<String>,
        /// What to change.
        remedy: String,
    },
}

/// `text` with every mangled Rust symbol (legacy `_ZN…E` or v0 `_R…`, as
/// wasmtime names a function from the name section) replaced by its
/// demangled path without the hash, for example `core::panicking::panic`.
fn demangle_rust_symbols(text: &str) -> String {
    let is_symbol_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_symbol_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c| !is_symbol_char(c)).unwrap_or(run.len());
        let word = &run[..len];
        match rustc_demangle::try_demangle(word) {
            Ok(symbol) if word.starts_with("_ZN") || word.starts_with("_R") => {
                out.push_str(&format!("{symbol:#}"));
            }
            _ => out.push_str(word),
        }
        rest = &run[len..];
    }
    out.push_str(rest);
    out
}

fn export_not_found_message(name: &str, suggestions: &[String], available: usize) -> String {
    let mut msg = format!("the plugin exports no function named `{name}`");
    if suggestions.is_empty() {
        if available == 0 {
            msg.push_str("; it exports no functions at all");
        } else {
            msg.push_str("; call `list_exports()` to see the exported functions");
        }
    } else {
        msg.push_str("; did you mean ");
        let quoted: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
        msg.push_str(&quoted.join(", "));
        msg.push('?');
    }
    msg
}

fn missing_import_hint(import: &str) -> &'static str {
    if import.starts_with("wasi:") {
        "this host provides WASI 0.2 (`wasi:*@0.2.x`); rebuild the plugin for wasm32-wasip2, \
         or without that import"
    } else {
        "register an implementation with `SandboxBuilder::host_interface(..)` \
         (a `#[host_interface]` trait's `<Trait>Host::new(..)`), or rebuild the plugin without it"
    }
}

fn trap_message(function: &str, message: &str, guest_stderr: &[String]) -> String {
    let mut msg = format!("plugin trapped in `{function}`: {message}");
    if !guest_stderr.is_empty() {
        msg.push_str("; the guest wrote to stderr: ");
        msg.push_str(&guest_stderr.join(" | "));
    }
    msg.push_str("; the instance was discarded and the next call starts a fresh one");
    msg
}

impl Error {
    /// The trap code, if this error is a guest trap with one.
    pub fn trap_code(&self) -> Option<TrapCode> {
        match self {
            Error::Trap { code, .. } => *code,
            _ => None,
        }
    }

    /// The limit, if this error is a resource limit.
    pub fn limit(&self) -> Option<&Limit> {
        match self {
            Error::ResourceLimitExceeded(limit) => Some(limit),
            _ => None,
        }
    }

    /// Wraps a wasmtime error from the compile stage.
    ///
    /// wasmtime reports every parse or validation failure as "failed to
    /// parse WebAssembly module", components included; when the cause is a
    /// `wasmparser` error (found by downcasting, not by reading the text) the
    /// detail says "component" and gives the byte offset instead.
    pub(crate) fn compile(origin: &str, err: wasmtime::Error) -> Error {
        let parse_error = err
            .chain()
            .find_map(|cause| cause.downcast_ref::<wasmparser::BinaryReaderError>());
        let detail = match parse_error {
            Some(cause) => format!(
                "the component is invalid at byte offset {}: {}; check it with \
                 `wasm-tools validate` and rebuild it with a component toolchain",
                cause.offset(),
                cause.message()
            ),
            None => demangle_rust_symbols(&format!("{err:#}")),
        };
        Error::Compile {
            origin: origin.to_string(),
            detail,
            cause: err.into_boxed_dyn_error(),
        }
    }

    /// Wraps a wasmtime error from instantiation.
    pub(crate) fn instantiate(err: wasmtime::Error) -> Error {
        Error::Instantiate {
            detail: format!("{err:#}"),
            cause: err.into_boxed_dyn_error(),
        }
    }

    /// Turns a failed `Linker::instantiate_pre` into a [`Error::MissingImport`]
    /// naming the import.
    pub(crate) fn link(err: wasmtime::Error) -> Error {
        // wasmtime reports "component imports <kind> `<name>`, but a matching
        // implementation was not found in the linker", with the mismatch as
        // the cause.
        let top = err.to_string();
        let (kind, import) = parse_import_message(&top)
            .unwrap_or_else(|| ("item".to_string(), "<unknown>".to_string()));
        let reason = err
            .chain()
            .skip(1)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        let reason = if reason.is_empty() {
            top
        } else if reason.ends_with("implementation is missing") {
            // wasmtime words an absent item as "instance export `get` has the
            // wrong type: function implementation is missing".
            match reason
                .strip_prefix("instance export `")
                .and_then(|r| r.split_once('`'))
            {
                Some((item, _)) => format!("the host has no implementation of `{item}`"),
                None => "the host has no implementation of it".to_string(),
            }
        } else {
            reason
        };
        Error::MissingImport {
            kind,
            import,
            reason,
        }
    }
}

fn parse_import_message(msg: &str) -> Option<(String, String)> {
    let rest = msg.strip_prefix("component imports ")?;
    let tick = rest.find('`')?;
    let kind = rest[..tick].trim().to_string();
    let after = &rest[tick + 1..];
    let end = after.find('`')?;
    Some((kind, after[..end].to_string()))
}

/// Renders Rust type names the way a user wrote them: `(alloc::string::String, u32)`
/// becomes `(String, u32)`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut ident = String::new();
    let flush = |ident: &mut String, out: &mut String| {
        if let Some(pos) = ident.rfind("::") {
            out.push_str(&ident[pos + 2..]);
        } else {
            out.push_str(ident);
        }
        ident.clear();
    };
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            ident.push(c);
        } else {
            flush(&mut ident, &mut out);
            out.push(c);
        }
    }
    flush(&mut ident, &mut out);
    out
}

/// Which limit a plugin hit, in [`Error::ResourceLimitExceeded`](crate::Error::ResourceLimitExceeded).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// Linear memory would have grown past the limit.
    Memory {
        /// Total bytes the plugin asked for.
        requested: usize,
        /// The limit.
        allowed: usize,
    },
    /// The call ran past its wall-clock deadline (in wasm, or waiting in a
    /// host call such as a WASI sleep).
    Time {
        /// The deadline.
        deadline: Duration,
    },
    /// The call used up its fuel budget.
    Fuel {
        /// The budget.
        budget: u64,
    },
    /// The guest's stack overflowed (for example, unbounded recursion).
    Stack {
        /// The stack limit in bytes.
        max: usize,
    },
    /// A table would have grown past the limit.
    Table {
        /// Elements the plugin asked for.
        requested: usize,
        /// The limit.
        allowed: usize,
    },
    /// Instantiation needed more core instances, memories or tables than allowed.
    Instances {
        /// The limit on each count.
        allowed: usize,
    },
    /// A result was larger than the output bound.
    Output {
        /// Its size in bytes.
        size: usize,
        /// The bound.
        allowed: usize,
    },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Memory { requested, allowed } => write!(
                f,
                "memory: the plugin asked for {} but the limit is {}; raise it with `memory_limit(..)` if the plugin needs more",
                bytes(*requested),
                bytes(*allowed)
            ),
            Limit::Time { deadline } => write!(
                f,
                "time: the call ran past its deadline of {deadline:?}; raise it with `cpu_timeout(..)` if the work is legitimate"
            ),
            Limit::Fuel { budget } => write!(
                f,
                "fuel: the call used up its budget of {budget} units; raise it with `fuel(..)`"
            ),
            Limit::Stack { max } => write!(
                f,
                "stack: the guest overflowed its {} stack (deep or unbounded recursion); raise it with `max_stack(..)`",
                bytes(*max)
            ),
            Limit::Table { requested, allowed } => write!(
                f,
                "table: the plugin asked for {requested} elements but the limit is {allowed}; raise it with `table_elements(..)`"
            ),
            Limit::Instances { allowed } => write!(
                f,
                "instances: the plugin needs more than {allowed} core instances, memories or tables; raise it with `max_core_instances(..)`"
            ),
            Limit::Output { size, allowed } => write!(
                f,
                "output: the result is {} but the bound is {}; raise it with `max_output(..)`",
                bytes(*size),
                bytes(*allowed)
            ),
        }
    }
}

impl Limit {
    /// A short name: `memory`, `time`, `fuel`, `stack`, `table`,
    /// `instances`, `output`.
    pub fn name(&self) -> &'static str {
        match self {
            Limit::Memory { .. } => "memory",
            Limit::Time { .. } => "time",
            Limit::Fuel { .. } => "fuel",
            Limit::Stack { .. } => "stack",
            Limit::Table { .. } => "table",
            Limit::Instances { .. } => "instances",
            Limit::Output { .. } => "output",
        }
    }
}

/// `1.5 MiB`
pub(crate) fn bytes(n: usize) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f >= KIB * KIB * KIB {
        format!("{:.1} GiB", f / (KIB * KIB * KIB))
    } else if f >= KIB * KIB {
        format!("{:.1} MiB", f / (KIB * KIB))
    } else if f >= KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// A host function call the policy refused. The plugin traps (a host
/// interface function has no error channel of its own), and the call that
/// was running fails with [`Error::SecurityViolation`](crate::Error::SecurityViolation).
#[derive(Debug)]
pub(crate) struct Denied {
    pub(crate) capability: String,
    pub(crate) target: String,
    pub(crate) rule: String,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "denied: {} ({}); grant {}",
            self.target, self.rule, self.capability
        )
    }
}

impl std::error::Error for Denied {}

#[cfg(test)]
mod tests {
    #[test]
    fn rust_symbols_are_demangled_and_the_rest_kept() {
        assert_eq!(
            super::demangle_rust_symbols(
                "wasm[0]::function[3]::_ZN4core9panicking5panic17h0123456789abcdefE: bad _Rx or _ZNfoo"
            ),
            "wasm[0]::function[3]::core::panicking::panic: bad _Rx or _ZNfoo"
        );
    }

    use super::*;

    #[test]
    fn short_type_names_drop_module_paths() {
        assert_eq!(
            short_type_name("(alloc::string::String, u32)"),
            "(String, u32)"
        );
        assert_eq!(
            short_type_name("core::option::Option<alloc::vec::Vec<u8>>"),
            "Option<Vec<u8>>"
        );
        assert_eq!(short_type_name("()"), "()");
    }

    #[test]
    fn import_message_is_parsed() {
        let parsed = parse_import_message(
            "component imports instance `acme:kv/store`, but a matching implementation was not found in the linker",
        );
        assert_eq!(
            parsed,
            Some(("instance".to_string(), "acme:kv/store".to_string()))
        );
        assert_eq!(parse_import_message("something else"), None);
    }

    #[test]
    fn export_not_found_lists_suggestions() {
        let err = Error::ExportNotFound {
            name: "gret".into(),
            suggestions: vec!["greet".into()],
            available: 1,
        };
        assert_eq!(
            err.to_string(),
            "the plugin exports no function named `gret`; did you mean `greet`?"
        );
    }

    /// Every link of an error chain says something the link before it did
    /// not: a message that already quotes its cause does not also return it
    /// as `source()`, so `{:#}`-style chain printing shows it once.
    #[test]
    fn each_cause_is_printed_once_in_a_chain() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let wasmtime_err = || wasmtime::Error::msg("inner cause").context("outer context");
        let errors = [
            Error::Io {
                path: "p.wasm".into(),
                cause: io(),
            },
            Error::AuditFailed {
                path: "audit.jsonl".into(),
                cause: io(),
            },
            Error::compile("plugin `p.wasm`", wasmtime_err()),
            Error::instantiate(wasmtime_err()),
        ];
        for err in errors {
            let mut chain = vec![err.to_string()];
            let mut next = std::error::Error::source(&err);
            while let Some(cause) = next {
                chain.push(cause.to_string());
                next = cause.source();
            }
            let joined = chain.join(": ");
            for needle in ["no such file", "inner cause"] {
                assert!(
                    joined.matches(needle).count() <= 1,
                    "printed twice in the chain: {joined}"
                );
            }
            assert!(
                joined.contains("no such file") || joined.contains("inner cause"),
                "the cause is lost: {joined}"
            );
        }
    }

    #[test]
    fn error_stays_small() {
        // A large error makes every `Result` returned by a call larger.
        assert!(std::mem::size_of::<Error>() <= 112);
    }
}
