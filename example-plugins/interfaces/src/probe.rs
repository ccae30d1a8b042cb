//! `TypeProbe`: every supported type, echoed back, for the round-trip tests.

use wasm_sandbox_guest::{PluginType, sandbox_plugin};

/// A record of every primitive and a few containers.
#[derive(PluginType, Clone, Debug, PartialEq)]
pub struct Everything {
    /// `bool`
    pub flag: bool,
    /// `u8`
    pub byte: u8,
    /// `u16`
    pub short: u16,
    /// `u32`
    pub word: u32,
    /// `u64`
    pub long: u64,
    /// `s8`
    pub tiny: i8,
    /// `s16`
    pub small: i16,
    /// `s32`
    pub int: i32,
    /// `s64`
    pub big: i64,
    /// `f32`
    pub single: f32,
    /// `f64`
    pub double: f64,
    /// `char`
    pub letter: char,
    /// `string`
    pub text: String,
    /// `list<u8>`
    pub bytes: Vec<u8>,
    /// `option<string>`
    pub maybe: Option<String>,
    /// `list<shape>`
    pub shapes: Vec<Shape>,
    /// `tuple<color, u32>`
    pub pair: (Color, u32),
}

// ANCHOR: shape
/// A variant with unit, single, tuple and struct-like cases.
#[derive(PluginType, Clone, Debug, PartialEq)]
pub enum Shape {
    /// No payload.
    Point,
    /// One payload.
    Circle(f64),
    /// Several payloads (a WIT tuple).
    Rect(f64, f64),
    /// Named fields (a WIT record).
    Labeled {
        /// The label.
        label: String,
        /// The inner color.
        color: Color,
    },
}
// ANCHOR_END: shape

/// A WIT enum.
#[derive(PluginType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// Red.
    Red,
    /// Green.
    Green,
    /// Blue.
    Blue,
}

/// A WIT error variant used in `result<_, fault>`.
#[derive(PluginType, Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Something was missing.
    Missing(String),
    /// Something was out of range.
    OutOfRange {
        /// The value.
        value: i64,
    },
}

/// Echoes every supported type from host to plugin and back.
#[sandbox_plugin]
pub trait TypeProbe {
    /// `bool`
    fn echo_bool(&self, v: bool) -> bool;
    /// `u8`
    fn echo_u8(&self, v: u8) -> u8;
    /// `u16`
    fn echo_u16(&self, v: u16) -> u16;
    /// `u32`
    fn echo_u32(&self, v: u32) -> u32;
    /// `u64`
    fn echo_u64(&self, v: u64) -> u64;
    /// `s8`
    fn echo_s8(&self, v: i8) -> i8;
    /// `s16`
    fn echo_s16(&self, v: i16) -> i16;
    /// `s32`
    fn echo_s32(&self, v: i32) -> i32;
    /// `s64`
    fn echo_s64(&self, v: i64) -> i64;
    /// `f32`
    fn echo_f32(&self, v: f32) -> f32;
    /// `f64`
    fn echo_f64(&self, v: f64) -> f64;
    /// `char`
    fn echo_char(&self, v: char) -> char;
    /// `string`
    fn echo_string(&self, v: String) -> String;
    /// A borrowed `&str` argument.
    fn echo_str(&self, v: &str) -> String;
    /// `list<u8>`, copied in one piece.
    fn echo_bytes(&self, v: Vec<u8>) -> Vec<u8>;
    /// A borrowed `&[T]` argument.
    fn echo_slice(&self, v: &[u32]) -> Vec<u32>;
    /// Nested lists.
    fn echo_lists(&self, v: Vec<Vec<String>>) -> Vec<Vec<String>>;
    /// Nested options.
    fn echo_option(&self, v: Option<Option<u64>>) -> Option<Option<u64>>;
    /// `result<s64, string>`
    fn echo_result(&self, v: Result<i64, String>) -> Result<i64, String>;
    /// `result<_, fault>`
    fn echo_unit_result(&self, v: Result<(), Fault>) -> Result<(), Fault>;
    /// `tuple<u8, string, f64>`
    fn echo_tuple(&self, v: (u8, String, f64)) -> (u8, String, f64);
    /// A record with everything in it.
    fn echo_record(&self, v: Everything) -> Everything;
    /// A variant.
    fn echo_variant(&self, v: Shape) -> Shape;
    /// An enum.
    fn echo_enum(&self, v: Color) -> Color;
    /// Deep nesting of containers and plugin types.
    fn echo_nested(
        &self,
        v: Vec<Option<Vec<Result<Shape, Color>>>>,
    ) -> Vec<Option<Vec<Result<Shape, Color>>>>;
    /// The sum of all bytes: the plugin really read them.
    fn sum_bytes(&self, v: Vec<u8>) -> u64;
    /// `n` bytes counting up from 0 (wrapping).
    fn make_bytes(&self, n: u32) -> Vec<u8>;
    /// Several arguments of different kinds at once.
    fn describe(&self, name: &str, shapes: Vec<Shape>, limit: Option<u32>) -> String;
    /// Writes `text` to stderr, `times` times, one line each; returns the
    /// bytes written.
    fn complain(&self, text: String, times: u32) -> u64;
}
