//! `Hog`: a plugin interface whose methods try to exhaust the host — CPU,
//! memory, stack, tables, time, output — for the resource-limit tests and
//! benchmarks. Each hostile method must cost the host exactly one typed
//! error; `add_one`, `noop` and `fib` are the well-behaved calls around them.

use wasm_sandbox_guest::sandbox_plugin;

/// Misbehaves on request.
#[sandbox_plugin]
pub trait Hog {
    /// Returns `x + 1`: the good call that must work after every bad one.
    fn add_one(&self, x: u32) -> u32;
    /// Does nothing (for measuring the cost of a call).
    fn noop(&self);
    /// The `n`th Fibonacci number, computed recursively (CPU-bound, call-heavy).
    fn fib(&self, n: u32) -> u64;
    /// Loops forever without calling the host.
    fn spin(&self) -> u64;
    /// Loops forever writing a log line on each turn (a host call).
    fn spin_logging(&self) -> u64;
    /// Grows linear memory one page at a time until the host refuses;
    /// returns the pages it got.
    fn grow_memory(&self) -> u32;
    /// Allocates and touches `bytes` bytes in one allocation.
    fn allocate(&self, bytes: u64) -> u64;
    /// Recurses `depth` levels deep (`u64::MAX`: until something gives),
    /// on the wasm stack; returns a value mixed from every level
    /// (`example_interfaces::recursion_result`).
    fn recurse(&self, depth: u64) -> u64;
    /// Recurses `depth` levels deep with frames the guest keeps in its
    /// linear memory (a Rust guest's own stack, 1 MiB); returns `depth`.
    fn recurse_in_memory(&self, depth: u64) -> u64;
    /// Sleeps for `ms` milliseconds through WASI clocks.
    fn sleep(&self, ms: u64) -> u64;
    /// Returns a string of `bytes` bytes.
    fn big_string(&self, bytes: u64) -> String;
    /// Returns a list of `count` strings of `each` bytes.
    fn big_list(&self, count: u32, each: u32) -> Vec<String>;
    /// Writes `lines` lines to stderr, then traps (`unreachable`) halfway
    /// through building its result.
    fn trap_mid_output(&self, lines: u32) -> Vec<String>;
    /// Panics with `message`.
    fn panic(&self, message: String) -> u32;
    /// Writes `bytes` bytes of log output in lines of 1 KiB; returns the
    /// count written.
    fn log_flood(&self, bytes: u64) -> u64;
    /// Remembers `x` in a global and returns the previous value (shows
    /// whether an instance was replaced).
    fn remember(&self, x: u32) -> u32;
}

/// What [`Hog::recurse`] returns for `depth`.
pub fn recursion_result(depth: u64) -> u64 {
    (1..=depth).fold(0, |below, level| below.rotate_left(1) ^ level)
}
