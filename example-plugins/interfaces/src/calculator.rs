//! `Calculator`: a trait checked against the hand-written WIT in
//! `wit/calculator/calculator.wit` instead of deriving its own. The
//! `calculator` example plugin implements that WIT with plain `wit-bindgen`
//! (no SDK), and the proxy generated here drives it.

use wasm_sandbox_guest::{PluginType, sandbox_plugin};

/// `enum op`
#[derive(PluginType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `add`
    Add,
    /// `subtract`
    Subtract,
    /// `multiply`
    Multiply,
    /// `divide`
    Divide,
}

/// `variant calc-error`
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub enum CalcError {
    /// `division-by-zero`
    DivisionByZero,
    /// `overflow`
    Overflow,
    /// `invalid-input(string)`
    InvalidInput(String),
}

// ANCHOR: types
/// `record series`
#[derive(PluginType, Clone, Debug, PartialEq)]
pub struct Series {
    /// `name: string`
    pub name: String,
    /// `values: list<f64>`
    pub values: Vec<f64>,
}

/// `record stats`
#[derive(PluginType, Clone, Debug, PartialEq)]
pub struct Stats {
    /// `name: string`
    pub name: String,
    /// `count: u32`
    pub count: u32,
    /// `sum: f64`
    pub sum: f64,
    /// `mean: option<f64>`
    pub mean: Option<f64>,
    /// `min: option<f64>`
    pub min: Option<f64>,
    /// `max: option<f64>`
    pub max: Option<f64>,
}
// ANCHOR_END: types

// ANCHOR: calculator
/// The calculator of `wit/calculator/calculator.wit`: world-level functions
/// and the functions of its exported `math` interface, in one trait.
#[sandbox_plugin(wit = "../../wit/calculator/calculator.wit", world = "calculator")]
pub trait Calculator {
    /// `version: func() -> string`
    fn version(&self) -> String;
    /// `increment: func() -> u64`
    fn increment(&self) -> u64;
    /// `clear: func()`
    fn clear(&self);
    /// `math.add`
    fn add(&self, a: u32, b: u32) -> u32;
    /// `math.apply`
    fn apply(&self, op: Op, a: i64, b: i64) -> Result<i64, CalcError>;
    /// `math.summarize`
    fn summarize(&self, series: Series) -> Stats;
    /// `math.parse-number`
    fn parse_number(&self, text: String) -> Option<f64>;
    /// `math.min-max`
    fn min_max(&self, values: Vec<i32>) -> Option<(i32, i32)>;
    /// `math.divide-unchecked`
    fn divide_unchecked(&self, a: i32, b: i32) -> i32;
}
// ANCHOR_END: calculator
