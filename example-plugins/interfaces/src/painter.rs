//! `Painter`: a trait for a third-party world published as a WIT directory
//! (`wit/third-party/shapes/`) whose types come from a dependency package
//! in its `deps/` (`acme:geometry`), the layout `wasm-tools` and `wkg` use.

use wasm_sandbox_guest::{PluginType, host_interface, sandbox_plugin};

// ANCHOR: painter
/// `acme:geometry/types.point`, a type of the dependency package.
#[derive(PluginType, Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// `x: f64`
    pub x: f64,
    /// `y: f64`
    pub y: f64,
}

/// `acme:geometry/types.rect`
#[derive(PluginType, Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// `min: point`
    pub min: Point,
    /// `max: point`
    pub max: Point,
}

/// The `painter` world of `acme:shapes@1.2.0`, read from its directory.
#[sandbox_plugin(wit = "../../wit/third-party/shapes", world = "painter")]
pub trait Painter {
    /// `canvas.area`
    fn area(&self, r: Rect) -> f64;
    /// `canvas.bounds`
    fn bounds(&self, points: Vec<Point>) -> Option<Rect>;
    /// `name: func() -> string`
    fn name(&self) -> String;
    /// `paint: func(name: string) -> string`
    fn paint(&self, name: String) -> String;
}
// ANCHOR_END: painter

// ANCHOR: palette
/// The `palette` interface of the same published package: the host
/// implements it, the painter imports it as `acme:shapes/palette@1.2.0`.
#[host_interface(wit = "../../wit/third-party/shapes", interface = "palette")]
pub trait Palette {
    /// `color-of: func(name: string) -> option<u32>`
    fn color_of(&self, name: String) -> Option<u32>;
    /// `pixel-at: func(at: point) -> u32`
    fn pixel_at(&self, at: Point) -> u32;
}
// ANCHOR_END: palette

/// The `greeter` world of a package nested in `wit/third-party/catalog.wit`,
/// a file with several packages: selected by its full name. The `greeter`
/// example plugin implements it.
#[sandbox_plugin(
    wit = "../../wit/third-party/catalog.wit",
    world = "example-interfaces:greeter/greeter@0.1.0"
)]
pub trait CatalogGreeter {
    /// `plugin.greet`
    fn greet(&self, name: String) -> String;
}

// ANCHOR: swatch
/// A plugin trait of our own whose world imports the published `palette`:
/// the world's WIT nests the published packages it was read with.
#[sandbox_plugin(imports(Palette))]
pub trait Swatch {
    /// `name` and its color, from the host's palette.
    fn swatch(&self, name: String) -> String;
    /// The colors of the canvas at each point.
    fn sample(&self, points: Vec<Point>) -> Vec<u32>;
}
// ANCHOR_END: swatch
