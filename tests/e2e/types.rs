//! Every supported type round-trips host -> plugin -> host through the typed
//! proxy, with edge values.

use example_interfaces::{Color, Everything, Fault, Shape, TypeProbePlugin};
use wasm_sandbox::WasmSandbox;

async fn probe() -> TypeProbePlugin<WasmSandbox> {
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TYPE_PROBE)
        .build()
        .await
        .expect("the type-probe plugin loads");
    TypeProbePlugin::load(sandbox).expect("it implements TypeProbe")
}

#[tokio::test]
async fn integers_at_their_limits() {
    let p = probe().await;
    for v in [false, true] {
        assert_eq!(p.echo_bool(v).await.unwrap(), v);
    }
    for v in [0, 1, u8::MAX] {
        assert_eq!(p.echo_u8(v).await.unwrap(), v);
    }
    for v in [0, u16::MAX] {
        assert_eq!(p.echo_u16(v).await.unwrap(), v);
    }
    for v in [0, u32::MAX] {
        assert_eq!(p.echo_u32(v).await.unwrap(), v);
    }
    for v in [0, 1, u64::MAX - 1, u64::MAX] {
        assert_eq!(p.echo_u64(v).await.unwrap(), v);
    }
    for v in [i8::MIN, -1, 0, i8::MAX] {
        assert_eq!(p.echo_s8(v).await.unwrap(), v);
    }
    for v in [i16::MIN, i16::MAX] {
        assert_eq!(p.echo_s16(v).await.unwrap(), v);
    }
    for v in [i32::MIN, -1, i32::MAX] {
        assert_eq!(p.echo_s32(v).await.unwrap(), v);
    }
    for v in [i64::MIN, -1, 0, i64::MAX] {
        assert_eq!(p.echo_s64(v).await.unwrap(), v);
    }
}

#[tokio::test]
async fn floats_including_nan_and_infinities() {
    let p = probe().await;
    for v in [
        0.0,
        -0.0,
        1.5,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let back = p.echo_f64(v).await.unwrap();
        assert_eq!(back.to_bits(), v.to_bits(), "{v}");
    }
    assert!(p.echo_f64(f64::NAN).await.unwrap().is_nan());
    for v in [0.0f32, -2.5, f32::MAX, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(p.echo_f32(v).await.unwrap().to_bits(), v.to_bits(), "{v}");
    }
    assert!(p.echo_f32(f32::NAN).await.unwrap().is_nan());
}

#[tokio::test]
async fn chars_and_strings_including_non_ascii() {
    let p = probe().await;
    for c in ['a', '\0', 'é', '日', '🦀', '\u{10FFFF}'] {
        assert_eq!(p.echo_char(c).await.unwrap(), c);
    }
    for s in [
        "",
        "plain",
        "Zoë — naïve café",
        "日本語のテキスト",
        "emoji 🦀🚀",
        "nul\0inside",
    ] {
        assert_eq!(p.echo_string(s.to_string()).await.unwrap(), s);
        assert_eq!(p.echo_str(s).await.unwrap(), s);
    }
    let long = "xyz✓".repeat(50_000);
    assert_eq!(p.echo_string(long.clone()).await.unwrap(), long);
}

#[tokio::test]
async fn byte_lists_up_to_a_mebibyte() {
    let p = probe().await;
    assert!(p.echo_bytes(Vec::new()).await.unwrap().is_empty());
    let mib: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let back = p.echo_bytes(mib.clone()).await.unwrap();
    assert_eq!(back.len(), mib.len());
    assert!(back == mib);
    // The plugin really saw every byte, and can produce a mebibyte itself.
    let expected: u64 = mib.iter().map(|b| u64::from(*b)).sum();
    assert_eq!(p.sum_bytes(mib).await.unwrap(), expected);
    let made = p.make_bytes(1024 * 1024).await.unwrap();
    assert_eq!(made.len(), 1024 * 1024);
    assert_eq!(&made[..4], &[0, 1, 2, 3]);
    assert_eq!(made[256], 0);
}

#[tokio::test]
async fn slices_lists_options_results_and_tuples() {
    let p = probe().await;
    assert_eq!(p.echo_slice(&[]).await.unwrap(), Vec::<u32>::new());
    assert_eq!(
        p.echo_slice(&[1, u32::MAX]).await.unwrap(),
        vec![1, u32::MAX]
    );

    let lists = vec![
        vec![],
        vec!["a".to_string(), String::new()],
        vec!["ü".to_string()],
    ];
    assert_eq!(p.echo_lists(lists.clone()).await.unwrap(), lists);
    assert!(p.echo_lists(Vec::new()).await.unwrap().is_empty());

    for v in [None, Some(None), Some(Some(0)), Some(Some(u64::MAX))] {
        assert_eq!(p.echo_option(v).await.unwrap(), v);
    }
    for v in [Ok(i64::MIN), Err(String::new()), Err("bad ✗".to_string())] {
        assert_eq!(p.echo_result(v.clone()).await.unwrap(), v);
    }
    for v in [
        Ok(()),
        Err(Fault::Missing("key".to_string())),
        Err(Fault::OutOfRange { value: i64::MIN }),
    ] {
        assert_eq!(p.echo_unit_result(v.clone()).await.unwrap(), v);
    }
    let t = (u8::MAX, "tuple".to_string(), f64::NEG_INFINITY);
    assert_eq!(p.echo_tuple(t.clone()).await.unwrap(), t);
}

#[tokio::test]
async fn records_variants_and_enums() {
    let p = probe().await;
    let everything = Everything {
        flag: true,
        byte: u8::MAX,
        short: u16::MAX,
        word: u32::MAX,
        long: u64::MAX,
        tiny: i8::MIN,
        small: i16::MIN,
        int: i32::MIN,
        big: i64::MIN,
        single: f32::MIN_POSITIVE,
        double: -1e300,
        letter: '🦀',
        text: "rëcord".to_string(),
        bytes: vec![0, 255, 128],
        maybe: Some(String::new()),
        shapes: vec![
            Shape::Point,
            Shape::Circle(0.5),
            Shape::Rect(1.0, -2.0),
            Shape::Labeled {
                label: "tag".to_string(),
                color: Color::Green,
            },
        ],
        pair: (Color::Blue, 7),
    };
    assert_eq!(p.echo_record(everything.clone()).await.unwrap(), everything);
    let empty = Everything {
        maybe: None,
        shapes: Vec::new(),
        bytes: Vec::new(),
        text: String::new(),
        ..everything
    };
    assert_eq!(p.echo_record(empty.clone()).await.unwrap(), empty);

    for shape in [
        Shape::Point,
        Shape::Circle(f64::INFINITY),
        Shape::Rect(0.0, 0.0),
        Shape::Labeled {
            label: String::new(),
            color: Color::Red,
        },
    ] {
        assert_eq!(p.echo_variant(shape.clone()).await.unwrap(), shape);
    }
    for color in [Color::Red, Color::Green, Color::Blue] {
        assert_eq!(p.echo_enum(color).await.unwrap(), color);
    }
}

#[tokio::test]
async fn deep_nesting_round_trips() {
    let p = probe().await;
    let nested = vec![
        None,
        Some(Vec::new()),
        Some(vec![
            Ok(Shape::Labeled {
                label: "deep".to_string(),
                color: Color::Blue,
            }),
            Err(Color::Green),
            Ok(Shape::Rect(3.0, 4.0)),
        ]),
    ];
    assert_eq!(p.echo_nested(nested.clone()).await.unwrap(), nested);
    let many: Vec<_> = (0..2000)
        .map(|i| {
            Some(vec![if i % 2 == 0 {
                Ok(Shape::Circle(f64::from(i)))
            } else {
                Err(Color::Red)
            }])
        })
        .collect();
    assert_eq!(p.echo_nested(many.clone()).await.unwrap(), many);
}

#[tokio::test]
async fn several_arguments_of_different_kinds() {
    let p = probe().await;
    let text = p
        .describe("shapes", vec![Shape::Point, Shape::Circle(1.0)], Some(9))
        .await
        .unwrap();
    assert_eq!(text, "shapes: 2 shapes, limit Some(9)");
    let text = p.describe("", Vec::new(), None).await.unwrap();
    assert_eq!(text, ": 0 shapes, limit None");
}

#[tokio::test]
async fn plugin_types_also_work_with_dynamic_typed_calls() {
    // ANCHOR: dynamic
    // `#[derive(PluginType)]` implements wasmtime's traits, so the types work
    // with `WasmSandbox::call` too.
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::TYPE_PROBE)
        .build()
        .await
        .unwrap();
    let shape = Shape::Labeled {
        label: "dyn".to_string(),
        color: Color::Green,
    };
    let back: Shape = sandbox
        .call("plugin#echo-variant", (shape.clone(),))
        .await
        .unwrap();
    assert_eq!(back, shape);
    let back: Color = sandbox
        .call("plugin#echo-enum", (Color::Blue,))
        .await
        .unwrap();
    assert_eq!(back, Color::Blue);
    // ANCHOR_END: dynamic
}
