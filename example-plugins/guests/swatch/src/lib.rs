//! The `swatch` example plugin: a world derived from the
//! `example_interfaces::Swatch` trait that imports the published
//! `acme:shapes/palette` interface.

use example_interfaces::{Palette, PaletteHost, Point, Swatch};

#[derive(Default)]
struct Sampler;

impl Swatch for Sampler {
    fn swatch(&self, name: String) -> String {
        match PaletteHost.color_of(name.clone()) {
            Some(rgb) => format!("{name} #{rgb:06x}"),
            None => format!("{name} ?"),
        }
    }

    fn sample(&self, points: Vec<Point>) -> Vec<u32> {
        points.into_iter().map(|p| PaletteHost.pixel_at(p)).collect()
    }
}

wasm_sandbox_guest::export!(Sampler: example_interfaces::Swatch);
