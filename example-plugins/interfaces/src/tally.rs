//! Plugin objects: a plugin that keeps state per object, not per instance.
//!
//! `Tallies` declares one kind of object, a `Tally`, as an associated type
//! bounded by a `#[plugin_resource]` trait. In WIT it is
//! `resource tally { .. }`; on the host it is a `TallyHandle` whose methods
//! call the plugin.

use wasm_sandbox_guest::{plugin_resource, sandbox_plugin};

// ANCHOR: resource
/// A running word count that the plugin keeps between calls.
#[plugin_resource]
pub trait Tally {
    /// A tally that starts at `start` words (the constructor).
    fn new(start: u32) -> Self;
    /// Counts the words of `text`; returns the new total.
    fn add(&self, text: &str) -> u32;
    /// The total so far.
    fn total(&self) -> u32;
    /// The words counted, in order.
    fn words(&self) -> Vec<String>;
    /// Makes the plugin trap when this tally is released (for tests of
    /// destructors that fail).
    fn fail_on_release(&self);
    /// Burns CPU for `rounds` rounds and returns a checksum (for tests of
    /// limits and of calls that wait for a busy instance).
    fn spin(&self, rounds: u64) -> u64;
    /// What a tally counts (a static function: no object needed).
    fn unit() -> String;
}
// ANCHOR_END: resource

// ANCHOR: plugin_trait
/// A plugin that hands out word tallies.
#[sandbox_plugin]
pub trait Tallies {
    /// One tally of words.
    type Tally: Tally;

    /// Opens a tally that starts at zero.
    fn open(&self) -> Self::Tally;
    /// The totals of two tallies, summed; both are lent to the plugin.
    fn sum(&self, a: &Self::Tally, b: &Self::Tally) -> u32;
    /// Moves the words of `from` into `into`; `from` is given to the plugin,
    /// which drops it. Returns the new total of `into`.
    fn absorb(&self, into: &Self::Tally, from: Self::Tally) -> u32;
    /// How many tallies exist in this instance now.
    fn live(&self) -> u32;
    /// Traps (for tests of what a trap does to the objects).
    fn crash(&self);
}
// ANCHOR_END: plugin_trait

/// The same world bound from its published WIT file instead of derived from
/// a trait: what a host does with a third-party world that has resources.
/// (In a module of its own: its handle type is also called `TallyHandle`.)
pub mod published {
    use wasm_sandbox_guest::sandbox_plugin;

    // ANCHOR: published
    /// `example-interfaces:tallies/tallies`, read from its WIT file.
    #[sandbox_plugin(wit = "../../wit/example-interfaces/tallies", world = "tallies")]
    pub trait PublishedTallies {
        /// The WIT's `resource tally`.
        type Tally: super::Tally;

        /// `open: func() -> tally`
        fn open(&self) -> Self::Tally;
        /// `sum: func(a: borrow<tally>, b: borrow<tally>) -> u32`
        fn sum(&self, a: &Self::Tally, b: &Self::Tally) -> u32;
        /// `absorb: func(into: borrow<tally>, from: tally) -> u32`
        fn absorb(&self, into: &Self::Tally, from: Self::Tally) -> u32;
        /// `live: func() -> u32`
        fn live(&self) -> u32;
        /// `crash: func()`
        fn crash(&self);
    }
    // ANCHOR_END: published
}
