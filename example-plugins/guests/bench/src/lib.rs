//! The benchmark plugin: each method does as little as its signature allows
//! (`noop`, `add`, the echoes), or runs the same CPU-bound code the native
//! side of the benchmark runs (`fib`, `hash`, from `example_interfaces`).

use example_interfaces::{Batch, Bench};

#[derive(Default)]
struct Benchmarked;

impl Bench for Benchmarked {
    fn noop(&self) {}

    fn add(&self, a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn echo(&self, text: String) -> String {
        text
    }

    fn echo_list(&self, values: Vec<u64>) -> Vec<u64> {
        values
    }

    fn echo_record(&self, batch: Batch) -> Batch {
        batch
    }

    fn fib(&self, n: u32) -> u64 {
        example_interfaces::fib(n)
    }

    fn hash(&self, len: u32, rounds: u32) -> u64 {
        let data = example_interfaces::hash_input(len as usize);
        example_interfaces::hash_bytes(&data, rounds)
    }
}

wasm_sandbox_guest::export!(Benchmarked: example_interfaces::Bench);
