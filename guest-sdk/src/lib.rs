//! The plugin side of [wasm-sandbox](https://docs.rs/wasm-sandbox).
//!
//! A plugin author depends on this crate and on the *interface crate* that
//! declares the plugin trait (with `#[sandbox_plugin]`), implements the trait,
//! and exports the implementation with one line:
//!
//! ```text
//! use example_interfaces::Greeter;
//!
//! #[derive(Default)]
//! struct Polite;
//!
//! impl Greeter for Polite {
//!     fn greet(&self, name: String) -> String {
//!         format!("Hello, {name}!")
//!     }
//! }
//!
//! wasm_sandbox_guest::export!(Polite: example_interfaces::Greeter);
//! ```
//!
//! (That is `example-plugins/guests/greeter/src/lib.rs`, built by this
//! repository's tests.)
//!
//! Build it with `cargo build --target wasm32-wasip2 --release`; the `.wasm`
//! file is the plugin. No direct `wit-bindgen` dependency is needed: the SDK
//! runs it for you.
//!
//! - [`export!`] exports a type implementing a plugin trait. The type is
//!   created once per instance, with `Default` or with the expression given
//!   after `=`, and methods take `&self`: keep changing state in `Cell` or
//!   `RefCell`.
//! - [`log`] sends log lines to the host's `tracing`.
//! - [`config`] reads the configuration the host gave this plugin.
//! - [`env`](mod@env) and [`process`] use the environment variables and programs the
//!   host's policy grants.
//! - [`http`] sends outbound HTTP requests to the hosts the policy grants.
//! - Host interfaces (`#[host_interface]` traits) are called through the
//!   `<Trait>Host` handle their macro generates.
//!
//! Outside `wasm32` the crate still compiles, so a plugin's logic can be unit
//! tested natively: logging goes to stderr and the configuration is empty.

#[cfg(target_family = "wasm")]
mod bindings {
    wit_bindgen::generate!({
        path: "../wit/sandbox-host",
        world: "guest",
        runtime_path: "wit_bindgen::rt",
    });
}

pub use wasm_sandbox_macros::{
    PluginType, export, host_interface, plugin_resource, sandbox_plugin,
};

pub mod log {
    //! Log lines that arrive on the host as `tracing` events (target
    //! `wasm_sandbox::guest`), tagged with the plugin's name.
    //!
    //! ```
    //! wasm_sandbox_guest::log::info!("processed {} lines", 3);
    //! ```

    /// How important a log line is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub enum Level {
        /// Very detailed tracing.
        Trace,
        /// Debugging output.
        Debug,
        /// Normal operation.
        Info,
        /// Something looks wrong.
        Warn,
        /// Something failed.
        Error,
    }

    /// Sends one log line to the host.
    pub fn log(level: Level, message: &str) {
        #[cfg(target_family = "wasm")]
        {
            use crate::bindings::sandbox::host::logging;
            let level = match level {
                Level::Trace => logging::Level::Trace,
                Level::Debug => logging::Level::Debug,
                Level::Info => logging::Level::Info,
                Level::Warn => logging::Level::Warn,
                Level::Error => logging::Level::Error,
            };
            logging::log(level, message);
        }
        #[cfg(not(target_family = "wasm"))]
        eprintln!("[{level:?}] {message}");
    }

    /// Logs at `trace` level, with `format!` arguments.
    #[macro_export]
    macro_rules! __wasm_sandbox_trace {
        ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Trace, &::std::format!($($arg)*)) };
    }
    /// Logs at `debug` level, with `format!` arguments.
    #[macro_export]
    macro_rules! __wasm_sandbox_debug {
        ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)*)) };
    }
    /// Logs at `info` level, with `format!` arguments.
    #[macro_export]
    macro_rules! __wasm_sandbox_info {
        ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)*)) };
    }
    /// Logs at `warn` level, with `format!` arguments.
    #[macro_export]
    macro_rules! __wasm_sandbox_warn {
        ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, &::std::format!($($arg)*)) };
    }
    /// Logs at `error` level, with `format!` arguments.
    #[macro_export]
    macro_rules! __wasm_sandbox_error {
        ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)*)) };
    }

    #[doc(inline)]
    pub use crate::__wasm_sandbox_debug as debug;
    #[doc(inline)]
    pub use crate::__wasm_sandbox_error as error;
    #[doc(inline)]
    pub use crate::__wasm_sandbox_info as info;
    #[doc(inline)]
    pub use crate::__wasm_sandbox_trace as trace;
    #[doc(inline)]
    pub use crate::__wasm_sandbox_warn as warn;
}

pub mod config {
    //! The configuration the host gave this plugin
    //! (`SandboxBuilder::config(key, value)` on the host). A plugin sees only
    //! these values, never the host's environment.

    /// The value of `key`, if the host set one.
    pub fn get(key: &str) -> Option<String> {
        #[cfg(target_family = "wasm")]
        {
            crate::bindings::sandbox::host::config::get(key)
        }
        #[cfg(not(target_family = "wasm"))]
        {
            let _ = key;
            None
        }
    }

    /// Every key the host set, sorted.
    pub fn keys() -> Vec<String> {
        #[cfg(target_family = "wasm")]
        {
            crate::bindings::sandbox::host::config::keys()
        }
        #[cfg(not(target_family = "wasm"))]
        {
            Vec::new()
        }
    }
}

pub mod http;

pub mod env {
    //! Environment variables the host's policy grants
    //! (`Capability::EnvironmentRead`), read one at a time so that the host's
    //! audit log names each variable, allowed or denied. (`std::env::var`
    //! works too, on the granted variables only, but the host then only sees
    //! that the environment was listed.)

    /// The value of `name`, if the policy grants it and the host has it.
    pub fn var(name: &str) -> Option<String> {
        #[cfg(target_family = "wasm")]
        {
            crate::bindings::sandbox::host::environment::get(name)
        }
        #[cfg(not(target_family = "wasm"))]
        {
            std::env::var(name).ok()
        }
    }
}

pub mod process {
    //! Runs programs the host's policy allows (`Capability::ProcessSpawn`).
    //! Arguments are passed as a vector, never through a shell; the program
    //! gets no environment and no stdin, and is killed past the host's time
    //! and output bounds.

    /// What a finished program produced.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Output {
        /// The exit status, or `None` if a signal ended it.
        pub status: Option<i32>,
        /// Standard output.
        pub stdout: Vec<u8>,
        /// Standard error.
        pub stderr: Vec<u8>,
        /// Whether output beyond the host's bound was dropped.
        pub truncated: bool,
    }

    /// Why a program produced no output.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum SpawnError {
        /// The policy does not allow it; says which rule.
        Denied(String),
        /// It could not be started.
        Failed(String),
        /// It ran past the time bound (milliseconds) and was killed.
        TimedOut(u32),
    }

    impl std::fmt::Display for SpawnError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                SpawnError::Denied(rule) => write!(f, "denied: {rule}"),
                SpawnError::Failed(why) => write!(f, "failed: {why}"),
                SpawnError::TimedOut(ms) => write!(f, "timed out after {ms} ms"),
            }
        }
    }

    impl std::error::Error for SpawnError {}

    /// Runs `program` with `args` on the host and waits for it.
    pub fn run(program: &str, args: &[String]) -> Result<Output, SpawnError> {
        #[cfg(target_family = "wasm")]
        {
            use crate::bindings::sandbox::host::process as p;
            match p::run(program, args) {
                Ok(o) => Ok(Output {
                    status: o.status,
                    stdout: o.stdout,
                    stderr: o.stderr,
                    truncated: o.truncated,
                }),
                Err(p::SpawnError::Denied(r)) => Err(SpawnError::Denied(r)),
                Err(p::SpawnError::Failed(r)) => Err(SpawnError::Failed(r)),
                Err(p::SpawnError::TimedOut(ms)) => Err(SpawnError::TimedOut(ms)),
            }
        }
        #[cfg(not(target_family = "wasm"))]
        {
            let _ = (program, args);
            Err(SpawnError::Failed(
                "programs run only inside a wasm-sandbox host".to_string(),
            ))
        }
    }
}

/// What code generated by the wasm-sandbox macros uses. Not part of the
/// public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    #[cfg(target_family = "wasm")]
    pub use wit_bindgen;

    /// A `PluginType` taken apart into its fields (in declaration order),
    /// and put back together; implemented by `#[derive(PluginType)]`.
    ///
    /// Records use a tuple of their fields, WIT enums the case's index, and
    /// variants a `SumN` of per-case field tuples.
    pub trait FromParts: Sized {
        /// The parts.
        type Parts;
        /// Builds the value from its parts.
        fn from_parts(parts: Self::Parts) -> Self;
        /// Takes the value apart.
        fn into_parts(self) -> Self::Parts;
    }

    macro_rules! sums {
        ($($name:ident { $($case:ident($ty:ident)),* })*) => {$(
            /// One of several cases, each with its fields as a tuple.
            #[derive(Debug)]
            pub enum $name<$($ty),*> {
                $(
                    /// A case.
                    $case($ty),
                )*
            }
        )*};
    }

    sums! {
        Sum1 { C0(A) }
        Sum2 { C0(A), C1(B) }
        Sum3 { C0(A), C1(B), C2(C) }
        Sum4 { C0(A), C1(B), C2(C), C3(D) }
        Sum5 { C0(A), C1(B), C2(C), C3(D), C4(E) }
        Sum6 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F) }
        Sum7 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G) }
        Sum8 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H) }
        Sum9 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I) }
        Sum10 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I), C9(J) }
        Sum11 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I), C9(J), C10(K) }
        Sum12 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I), C9(J), C10(K), C11(L) }
        Sum13 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I), C9(J), C10(K), C11(L), C12(M) }
        Sum14 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I), C9(J), C10(K), C11(L), C12(M), C13(N) }
        Sum15 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I), C9(J), C10(K), C11(L), C12(M), C13(N), C14(O) }
        Sum16 { C0(A), C1(B), C2(C), C3(D), C4(E), C5(F), C6(G), C7(H), C8(I), C9(J), C10(K), C11(L), C12(M), C13(N), C14(O), C15(P) }
    }

    /// Adapts an owned value to the form a wit-bindgen import function takes
    /// (`&str` for `String`, `&[T]` for `Vec<T>`, `&T` for records, the
    /// value itself for `Copy` types); the target is inferred.
    pub trait ImportArg<'a, T> {
        /// The argument.
        fn import_arg(&'a self) -> T;
    }

    impl<'a> ImportArg<'a, &'a str> for String {
        fn import_arg(&'a self) -> &'a str {
            self
        }
    }

    impl<'a, T> ImportArg<'a, &'a [T]> for Vec<T> {
        fn import_arg(&'a self) -> &'a [T] {
            self
        }
    }

    impl<'a, T> ImportArg<'a, &'a T> for T {
        fn import_arg(&'a self) -> &'a T {
            self
        }
    }

    impl<T: Copy> ImportArg<'_, T> for T {
        fn import_arg(&self) -> T {
            *self
        }
    }

    impl<'a> ImportArg<'a, Option<&'a str>> for Option<String> {
        fn import_arg(&'a self) -> Option<&'a str> {
            self.as_deref()
        }
    }

    impl<'a, T> ImportArg<'a, Option<&'a [T]>> for Option<Vec<T>> {
        fn import_arg(&'a self) -> Option<&'a [T]> {
            self.as_deref()
        }
    }

    impl<'a, T> ImportArg<'a, Option<&'a T>> for Option<T> {
        fn import_arg(&'a self) -> Option<&'a T> {
            self.as_ref()
        }
    }

    /// `&Vec<T>` as `&[T]`, with `T` inferred from the expected argument.
    pub fn slice_arg<T>(v: &Vec<T>) -> &[T] {
        v
    }
}
