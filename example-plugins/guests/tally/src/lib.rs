//! The `tally` example plugin: word tallies as plugin objects. Each
//! `WordTally` lives in the plugin's resource table until the host releases
//! its handle; `live` counts them, so tests can see releases happen.

// ANCHOR: plugin
use std::cell::{Cell, RefCell};

use example_interfaces::{Tallies, Tally};

/// Tallies that exist now: made and not yet dropped.
static LIVE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The plugin's type for a `tally`.
struct WordTally {
    words: RefCell<Vec<String>>,
    start: u32,
    fail_on_drop: Cell<bool>,
}

impl Tally for WordTally {
    fn new(start: u32) -> Self {
        LIVE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        WordTally {
            words: RefCell::new(Vec::new()),
            start,
            fail_on_drop: Cell::new(false),
        }
    }

    fn add(&self, text: &str) -> u32 {
        self.words
            .borrow_mut()
            .extend(text.split_whitespace().map(str::to_string));
        self.total()
    }

    fn total(&self) -> u32 {
        self.start + self.words.borrow().len() as u32
    }

    fn words(&self) -> Vec<String> {
        self.words.borrow().clone()
    }

    fn fail_on_release(&self) {
        self.fail_on_drop.set(true);
    }

    fn spin(&self, rounds: u64) -> u64 {
        let mut x = u64::from(self.total()) | 1;
        for i in 0..rounds {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            x = std::hint::black_box(x);
        }
        x
    }

    fn unit() -> String {
        "words".to_string()
    }
}

impl Drop for WordTally {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        if self.fail_on_drop.get() {
            panic!("this tally was asked to fail when released");
        }
    }
}

#[derive(Default)]
struct Counter;

impl Tallies for Counter {
    type Tally = WordTally;

    fn open(&self) -> WordTally {
        WordTally::new(0)
    }

    fn sum(&self, a: &WordTally, b: &WordTally) -> u32 {
        a.total() + b.total()
    }

    fn absorb(&self, into: &WordTally, from: WordTally) -> u32 {
        into.words.borrow_mut().append(&mut from.words.borrow_mut());
        into.total()
    }

    fn live(&self) -> u32 {
        LIVE.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn crash(&self) {
        panic!("asked to crash");
    }
}

wasm_sandbox_guest::export!(Counter: example_interfaces::Tallies);
// ANCHOR_END: plugin
