//! Every export of the example plugins, called with typed values.

use wasm_sandbox::component::Val;
use wasm_sandbox_tests::{CalcError, Op, Series, Stats};

use crate::{calculator, greeter};

#[tokio::test]
async fn greet_returns_a_greeting_for_any_text() {
    let sandbox = greeter().await;
    for (name, expected) in [
        ("world", "Hello, world!"),
        ("", "Hello, !"),
        ("Zoë 🌍 日本", "Hello, Zoë 🌍 日本!"),
    ] {
        let text: String = sandbox.call("plugin#greet", (name,)).await.unwrap();
        assert_eq!(text, expected);
    }
    // An owned `String` argument works as well as `&str`.
    let text: String = sandbox
        .call("plugin#greet", ("owned".to_string(),))
        .await
        .unwrap();
    assert_eq!(text, "Hello, owned!");
}

#[tokio::test]
async fn add_wraps_on_overflow() {
    let sandbox = calculator().await;
    let sum: u32 = sandbox.call("math#add", (2u32, 3u32)).await.unwrap();
    assert_eq!(sum, 5);
    let wrapped: u32 = sandbox.call("math#add", (u32::MAX, 2u32)).await.unwrap();
    assert_eq!(wrapped, 1);
}

#[tokio::test]
async fn apply_returns_results_and_error_variants() {
    let sandbox = calculator().await;
    let cases: [(Op, i64, i64, Result<i64, CalcError>); 8] = [
        (Op::Add, 40, 2, Ok(42)),
        (Op::Subtract, 40, 50, Ok(-10)),
        (Op::Multiply, -6, 7, Ok(-42)),
        (Op::Divide, 84, 2, Ok(42)),
        (Op::Divide, 1, 0, Err(CalcError::DivisionByZero)),
        (Op::Add, i64::MAX, 1, Err(CalcError::Overflow)),
        (Op::Multiply, i64::MIN, 2, Err(CalcError::Overflow)),
        (
            Op::Divide,
            i64::MIN,
            -1,
            Err(CalcError::InvalidInput(format!(
                "{} / -1 does not fit in s64",
                i64::MIN
            ))),
        ),
    ];
    for (op, a, b, expected) in cases {
        let got: Result<i64, CalcError> = sandbox.call("math#apply", (op, a, b)).await.unwrap();
        assert_eq!(got, expected, "apply({op:?}, {a}, {b})");
    }
}

#[tokio::test]
async fn summarize_takes_and_returns_records() {
    let sandbox = calculator().await;
    let series = Series {
        name: "latency".to_string(),
        values: vec![3.0, -1.5, 10.5],
    };
    let stats: Stats = sandbox.call("math#summarize", (series,)).await.unwrap();
    assert_eq!(
        stats,
        Stats {
            name: "latency".to_string(),
            count: 3,
            sum: 12.0,
            mean: Some(4.0),
            min: Some(-1.5),
            max: Some(10.5),
        }
    );

    let empty = Series {
        name: String::new(),
        values: Vec::new(),
    };
    let stats: Stats = sandbox.call("math#summarize", (empty,)).await.unwrap();
    assert_eq!(stats.count, 0);
    assert_eq!(stats.sum, 0.0);
    assert_eq!((stats.mean, stats.min, stats.max), (None, None, None));
}

#[tokio::test]
async fn options_and_tuples_round_trip() {
    let sandbox = calculator().await;
    let parsed: Option<f64> = sandbox.call("math#parse-number", (" 2.5 ",)).await.unwrap();
    assert_eq!(parsed, Some(2.5));
    let parsed: Option<f64> = sandbox.call("math#parse-number", ("two",)).await.unwrap();
    assert_eq!(parsed, None);

    let mm: Option<(i32, i32)> = sandbox
        .call("math#min-max", (vec![3i32, -7, 12, 0],))
        .await
        .unwrap();
    assert_eq!(mm, Some((-7, 12)));
    let mm: Option<(i32, i32)> = sandbox
        .call("math#min-max", (Vec::<i32>::new(),))
        .await
        .unwrap();
    assert_eq!(mm, None);
    // A borrowed slice is lowered like a `Vec`.
    let mm: Option<(i32, i32)> = sandbox
        .call("math#min-max", (&[i32::MIN, i32::MAX][..],))
        .await
        .unwrap();
    assert_eq!(mm, Some((i32::MIN, i32::MAX)));
}

#[tokio::test]
async fn world_level_functions_and_unit_results() {
    let sandbox = calculator().await;
    let version: String = sandbox.call("version", ()).await.unwrap();
    assert_eq!(version, "0.1.0");
    let first: u64 = sandbox.call("increment", ()).await.unwrap();
    let second: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!((first, second), (1, 2));
    // `clear` returns nothing: the result type is `()`.
    sandbox.call::<(), ()>("clear", ()).await.unwrap();
    let after: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!(after, 1);
}

#[tokio::test]
async fn interface_functions_answer_to_every_documented_name() {
    let sandbox = calculator().await;
    for name in [
        "example:calculator/math@0.1.0#add",
        "example:calculator/math#add",
        "math#add",
    ] {
        let sum: u32 = sandbox.call(name, (20u32, 22u32)).await.unwrap();
        assert_eq!(sum, 42, "called as {name}");
    }
}

#[tokio::test]
async fn call_dynamic_takes_and_returns_vals() {
    let sandbox = calculator().await;
    let out = sandbox
        .call_dynamic("math#add", &[Val::U32(7), Val::U32(8)])
        .await
        .unwrap();
    assert_eq!(out, vec![Val::U32(15)]);

    let series = Val::Record(vec![
        ("name".to_string(), Val::String("s".to_string())),
        (
            "values".to_string(),
            Val::List(vec![Val::Float64(1.0), Val::Float64(3.0)]),
        ),
    ]);
    let out = sandbox
        .call_dynamic("math#summarize", &[series])
        .await
        .unwrap();
    let Val::Record(fields) = &out[0] else {
        panic!("expected a record, got {out:?}")
    };
    let field = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(field("count"), Some(Val::U32(2)));
    assert_eq!(
        field("mean"),
        Some(Val::Option(Some(Box::new(Val::Float64(2.0)))))
    );

    let out = sandbox
        .call_dynamic(
            "math#apply",
            &[Val::Enum("divide".into()), Val::S64(1), Val::S64(0)],
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![Val::Result(Err(Some(Box::new(Val::Variant(
            "division-by-zero".into(),
            None
        )))))]
    );

    // A function without a result returns no values.
    let out = sandbox.call_dynamic("clear", &[]).await.unwrap();
    assert!(out.is_empty());
}

#[tokio::test]
async fn a_shared_sandbox_serialises_concurrent_calls() {
    let sandbox = std::sync::Arc::new(calculator().await);
    let mut tasks = Vec::new();
    for i in 0..8u32 {
        let sandbox = sandbox.clone();
        tasks.push(tokio::spawn(async move {
            let sum: u32 = sandbox.call("math#add", (i, 100u32)).await.unwrap();
            let _: u64 = sandbox.call("increment", ()).await.unwrap();
            sum
        }));
    }
    let mut sums = Vec::new();
    for task in tasks {
        sums.push(task.await.unwrap());
    }
    sums.sort();
    assert_eq!(sums, (100..108).collect::<Vec<u32>>());
    // Eight increments on one instance, none lost.
    let count: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!(count, 9);
}
