//! Helpers shared by the end-to-end tests: Rust mirrors of the example
//! plugins' WIT types.

pub mod fuzzing;

/// The `type-probe` plugin the fuzz harness calls.
fn type_probe_path() -> String {
    example_plugins::TYPE_PROBE.to_string()
}

use wasm_sandbox::component::{ComponentType, Lift, Lower};
use wasm_sandbox::wasmtime;

/// `enum op` of `example:calculator/math`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(enum)]
#[repr(u8)]
pub enum Op {
    /// `add`
    #[component(name = "add")]
    Add,
    /// `subtract`
    #[component(name = "subtract")]
    Subtract,
    /// `multiply`
    #[component(name = "multiply")]
    Multiply,
    /// `divide`
    #[component(name = "divide")]
    Divide,
}

/// `variant calc-error`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum CalcError {
    /// `division-by-zero`
    #[component(name = "division-by-zero")]
    DivisionByZero,
    /// `overflow`
    #[component(name = "overflow")]
    Overflow,
    /// `invalid-input(string)`
    #[component(name = "invalid-input")]
    InvalidInput(String),
}

/// `record series`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Series {
    /// `name: string`
    pub name: String,
    /// `values: list<f64>`
    pub values: Vec<f64>,
}

/// `record stats`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
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
