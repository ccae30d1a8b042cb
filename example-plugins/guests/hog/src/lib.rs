//! A hostile plugin for the resource-limit tests: each method tries to
//! exhaust something (CPU, memory, stack, tables, time, output), and the host
//! must answer each with one typed error and stay usable.

use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};

use example_interfaces::Hog;

#[derive(Default)]
struct Hostile;

static REMEMBERED: AtomicU32 = AtomicU32::new(0);

fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(black_box(n - 1)) + fib(black_box(n - 2))
    }
}

/// Recursion that lives on the wasm stack only (no addressable locals), so
/// it ends at the engine's stack limit. The result mixes every level in, so
/// the compiler cannot turn it into a loop.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    recurse(depth - 1).rotate_left(1) ^ depth
}

/// Recursion whose frames hold an array the compiler must keep in memory:
/// a Rust guest keeps those on its own stack in linear memory (1 MiB), which
/// overflows before the wasm stack does.
#[inline(never)]
fn recurse_in_memory(depth: u64) -> u64 {
    let frame = black_box([depth; 16]);
    if depth == 0 {
        return frame[0];
    }
    black_box(recurse_in_memory(depth - 1)) + frame[15] - frame[0] + 1
}

impl Hog for Hostile {
    fn add_one(&self, x: u32) -> u32 {
        x.wrapping_add(1)
    }

    fn noop(&self) {}

    fn fib(&self, n: u32) -> u64 {
        fib(n)
    }

    fn spin(&self) -> u64 {
        let mut i = 0u64;
        loop {
            i = black_box(i.wrapping_add(1));
        }
    }

    fn spin_logging(&self) -> u64 {
        let mut i = 0u64;
        loop {
            i += 1;
            wasm_sandbox_guest::log::info!("still spinning ({i})");
        }
    }

    fn grow_memory(&self) -> u32 {
        let mut pages = 0;
        while core::arch::wasm32::memory_grow(0, 1) != usize::MAX {
            pages += 1;
        }
        pages
    }

    fn allocate(&self, bytes: u64) -> u64 {
        let mut v = vec![0u8; bytes as usize];
        // Touch every page so the allocation is real.
        for i in (0..v.len()).step_by(65536) {
            v[i] = 1;
        }
        black_box(&v);
        v.len() as u64
    }

    fn recurse(&self, depth: u64) -> u64 {
        recurse(depth)
    }

    fn recurse_in_memory(&self, depth: u64) -> u64 {
        recurse_in_memory(depth)
    }

    fn sleep(&self, ms: u64) -> u64 {
        std::thread::sleep(std::time::Duration::from_millis(ms));
        ms
    }

    fn big_string(&self, bytes: u64) -> String {
        "x".repeat(bytes as usize)
    }

    fn big_list(&self, count: u32, each: u32) -> Vec<String> {
        (0..count).map(|_| "y".repeat(each as usize)).collect()
    }

    fn trap_mid_output(&self, lines: u32) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..lines {
            eprintln!("writing line {i}");
            out.push(format!("line {i}"));
            if i == lines / 2 {
                core::arch::wasm32::unreachable();
            }
        }
        out
    }

    fn panic(&self, message: String) -> u32 {
        panic!("{message}");
    }

    fn log_flood(&self, bytes: u64) -> u64 {
        let line = "z".repeat(1023);
        let mut written = 0;
        while written < bytes {
            wasm_sandbox_guest::log::info!("{line}");
            written += 1024;
        }
        written
    }

    fn remember(&self, x: u32) -> u32 {
        REMEMBERED.swap(x, Ordering::Relaxed)
    }
}

wasm_sandbox_guest::export!(Hostile: example_interfaces::Hog);
