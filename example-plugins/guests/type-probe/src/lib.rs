//! The `type-probe` example plugin: echoes every type `TypeProbe` declares.

use example_interfaces::{Color, Everything, Fault, Shape, TypeProbe};

#[derive(Default)]
struct Probe;

impl TypeProbe for Probe {
    fn echo_bool(&self, v: bool) -> bool {
        v
    }
    fn echo_u8(&self, v: u8) -> u8 {
        v
    }
    fn echo_u16(&self, v: u16) -> u16 {
        v
    }
    fn echo_u32(&self, v: u32) -> u32 {
        v
    }
    fn echo_u64(&self, v: u64) -> u64 {
        v
    }
    fn echo_s8(&self, v: i8) -> i8 {
        v
    }
    fn echo_s16(&self, v: i16) -> i16 {
        v
    }
    fn echo_s32(&self, v: i32) -> i32 {
        v
    }
    fn echo_s64(&self, v: i64) -> i64 {
        v
    }
    fn echo_f32(&self, v: f32) -> f32 {
        v
    }
    fn echo_f64(&self, v: f64) -> f64 {
        v
    }
    fn echo_char(&self, v: char) -> char {
        v
    }
    fn echo_string(&self, v: String) -> String {
        v
    }
    fn echo_str(&self, v: &str) -> String {
        v.to_string()
    }
    fn echo_bytes(&self, v: Vec<u8>) -> Vec<u8> {
        v
    }
    fn echo_slice(&self, v: &[u32]) -> Vec<u32> {
        v.to_vec()
    }
    fn echo_lists(&self, v: Vec<Vec<String>>) -> Vec<Vec<String>> {
        v
    }
    fn echo_option(&self, v: Option<Option<u64>>) -> Option<Option<u64>> {
        v
    }
    fn echo_result(&self, v: Result<i64, String>) -> Result<i64, String> {
        v
    }
    fn echo_unit_result(&self, v: Result<(), Fault>) -> Result<(), Fault> {
        v
    }
    fn echo_tuple(&self, v: (u8, String, f64)) -> (u8, String, f64) {
        v
    }
    fn echo_record(&self, v: Everything) -> Everything {
        v
    }
    fn echo_variant(&self, v: Shape) -> Shape {
        v
    }
    fn echo_enum(&self, v: Color) -> Color {
        v
    }
    fn echo_nested(
        &self,
        v: Vec<Option<Vec<Result<Shape, Color>>>>,
    ) -> Vec<Option<Vec<Result<Shape, Color>>>> {
        v
    }
    fn sum_bytes(&self, v: Vec<u8>) -> u64 {
        v.iter().map(|b| u64::from(*b)).sum()
    }
    fn make_bytes(&self, n: u32) -> Vec<u8> {
        (0..n).map(|i| i as u8).collect()
    }
    fn describe(&self, name: &str, shapes: Vec<Shape>, limit: Option<u32>) -> String {
        format!("{name}: {} shapes, limit {limit:?}", shapes.len())
    }
    fn complain(&self, text: String, times: u32) -> u64 {
        for _ in 0..times {
            eprintln!("{text}");
        }
        (text.len() as u64 + 1) * u64::from(times)
    }
}

wasm_sandbox_guest::export!(Probe: example_interfaces::TypeProbe);
