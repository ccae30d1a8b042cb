//! The `painter` example plugin: implements `acme:shapes/painter`, a world
//! published as a WIT directory whose types come from a dependency package
//! (`acme:geometry`), through the `example_interfaces::Painter` trait.

use example_interfaces::{Painter, Palette, PaletteHost, Point, Rect};

#[derive(Default)]
struct Measure;

impl Painter for Measure {
    fn area(&self, r: Rect) -> f64 {
        let width = (r.max.x - r.min.x).max(0.0);
        let height = (r.max.y - r.min.y).max(0.0);
        width * height
    }

    fn bounds(&self, points: Vec<Point>) -> Option<Rect> {
        let first = *points.first()?;
        Some(points.iter().fold(
            Rect {
                min: first,
                max: first,
            },
            |r, p| Rect {
                min: Point {
                    x: r.min.x.min(p.x),
                    y: r.min.y.min(p.y),
                },
                max: Point {
                    x: r.max.x.max(p.x),
                    y: r.max.y.max(p.y),
                },
            },
        ))
    }

    fn name(&self) -> String {
        "measure".to_string()
    }

    fn paint(&self, name: String) -> String {
        let background = PaletteHost.pixel_at(Point { x: 0.0, y: 0.0 });
        match PaletteHost.color_of(name.clone()) {
            Some(rgb) => format!("{name}: #{rgb:06x} on #{background:06x}"),
            None => format!("{name}: no color"),
        }
    }
}

wasm_sandbox_guest::export!(Measure: example_interfaces::Painter);
