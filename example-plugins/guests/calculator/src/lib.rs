//! The `calculator` example plugin (world `example:calculator/calculator` in
//! `wit/calculator/calculator.wit`).

use std::sync::atomic::{AtomicU64, Ordering};

use exports::example::calculator::math::{self, CalcError, Op, Series, Stats};

wit_bindgen::generate!({
    path: "../../../wit/calculator",
    world: "calculator",
});

/// Instance state: lives as long as the instance.
static COUNTER: AtomicU64 = AtomicU64::new(0);

struct Calculator;

impl Guest for Calculator {
    fn version() -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }

    fn increment() -> u64 {
        COUNTER.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn clear() {
        COUNTER.store(0, Ordering::Relaxed);
    }
}

impl math::Guest for Calculator {
    fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn apply(op: Op, a: i64, b: i64) -> Result<i64, CalcError> {
        let result = match op {
            Op::Add => a.checked_add(b),
            Op::Subtract => a.checked_sub(b),
            Op::Multiply => a.checked_mul(b),
            Op::Divide => {
                if b == 0 {
                    return Err(CalcError::DivisionByZero);
                }
                if a == i64::MIN && b == -1 {
                    return Err(CalcError::InvalidInput(format!(
                        "{a} / {b} does not fit in s64"
                    )));
                }
                Some(a / b)
            }
        };
        result.ok_or(CalcError::Overflow)
    }

    fn summarize(series: Series) -> Stats {
        let count = series.values.len() as u32;
        let sum: f64 = series.values.iter().sum();
        let min = series.values.iter().copied().reduce(f64::min);
        let max = series.values.iter().copied().reduce(f64::max);
        Stats {
            name: series.name,
            count,
            sum,
            mean: (count > 0).then(|| sum / f64::from(count)),
            min,
            max,
        }
    }

    fn parse_number(text: String) -> Option<f64> {
        text.trim().parse().ok()
    }

    fn min_max(values: Vec<i32>) -> Option<(i32, i32)> {
        let min = values.iter().copied().min()?;
        let max = values.iter().copied().max()?;
        Some((min, max))
    }

    fn divide_unchecked(a: i32, b: i32) -> i32 {
        // No check on purpose: `b == 0` panics ("attempt to divide by zero"),
        // and a panic in a wasm32-wasip2 guest aborts, which is a trap.
        a / std::hint::black_box(b)
    }
}

export!(Calculator);
