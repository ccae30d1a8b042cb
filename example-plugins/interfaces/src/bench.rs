//! `Bench`: a plugin interface for measuring what a call costs (small
//! arguments, strings, lists, records) and how fast CPU-bound guest code runs
//! next to the same code compiled natively.
//!
//! The CPU-bound work lives in plain functions here ([`fib`], [`hash_input`],
//! [`hash_bytes`]) that both the `bench` guest and the native side of the
//! benchmark call, so both run exactly the same Rust. They are `#[inline]`
//! so each is compiled in the crate that calls it, with that crate's
//! optimisation level (the guest build optimises most crates for size but
//! the `bench` plugin at opt-level 3, like the native benchmark).

use std::hint::black_box;

use wasm_sandbox_guest::{PluginType, sandbox_plugin};

/// A small record with a list inside, for measuring record round trips.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// An identifier.
    pub id: u64,
    /// A name.
    pub name: String,
    /// Short labels.
    pub tags: Vec<String>,
}

/// Calls of every shape, for benchmarks.
#[sandbox_plugin]
pub trait Bench {
    /// Does nothing (the cost of a call with no arguments and no result).
    fn noop(&self);
    /// Returns `a + b`, wrapping on overflow.
    fn add(&self, a: u32, b: u32) -> u32;
    /// Returns `text` unchanged.
    fn echo(&self, text: String) -> String;
    /// Returns `values` unchanged.
    fn echo_list(&self, values: Vec<u64>) -> Vec<u64>;
    /// Returns `batch` unchanged.
    fn echo_record(&self, batch: Batch) -> Batch;
    /// The `n`th Fibonacci number, computed recursively
    /// (`example_interfaces::fib`).
    fn fib(&self, n: u32) -> u64;
    /// Builds `example_interfaces::hash_input(len)` in the guest and returns
    /// `example_interfaces::hash_bytes` of it over `rounds` rounds.
    fn hash(&self, len: u32, rounds: u32) -> u64;
}

/// The `n`th Fibonacci number by naive recursion: CPU-bound and call-heavy.
///
/// Never inlined, and with nothing else in the way: the same Rust compiles
/// to the same shape of code for x86-64 and wasm32, so native and wasm time
/// compare like with like. (`black_box` on the recursive arguments would
/// cost a round trip through linear memory on wasm32 and a register on
/// x86-64, and the ratio would measure that.)
#[inline(never)]
pub fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// A deterministic buffer of `len` bytes (a cheap pseudo-random sequence).
#[inline]
pub fn hash_input(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            // xorshift32
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

/// FNV-1a (64 bit) over `data`, `rounds` times, each round starting from the
/// hash of the previous one. Zero rounds give the FNV offset basis.
#[inline]
pub fn hash_bytes(data: &[u8], rounds: u32) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for _ in 0..rounds {
        for &byte in black_box(data) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}
