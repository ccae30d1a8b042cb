//! `#[sandbox_plugin(wit = "..")]` with WIT as it is published: a directory
//! with its dependencies in `deps/`, and a file with several packages,
//! driven against real plugins.

use example_interfaces::{
    CatalogGreeterPlugin, PainterPlugin, Palette, PaletteHost, Point, Rect, SwatchPlugin,
};
use wasm_sandbox::{Capability, Error, SecurityPolicy, WasmSandbox};

/// The host's palette: two named colors, and a canvas whose pixel is its
/// coordinates packed.
struct Colors;

impl Palette for Colors {
    fn color_of(&self, name: String) -> Option<u32> {
        match name.as_str() {
            "red" => Some(0xff0000),
            "teal" => Some(0x008080),
            _ => None,
        }
    }

    fn pixel_at(&self, at: Point) -> u32 {
        ((at.x as u32) << 8) | at.y as u32 | 0x10_00_00
    }
}

fn p(x: f64, y: f64) -> Point {
    Point { x, y }
}

async fn painter() -> WasmSandbox {
    WasmSandbox::builder()
        .source(example_plugins::PAINTER)
        .host_interface(PaletteHost::new(Colors))
        .security_policy(
            SecurityPolicy::strict().allow(Capability::Custom(PaletteHost::CAPABILITY.to_string())),
        )
        .build()
        .await
        .expect("the painter plugin loads")
}

#[tokio::test]
async fn a_world_from_a_wit_directory_with_a_dependency_package_runs_through_its_proxy() {
    let sandbox = painter().await;
    let plugin = PainterPlugin::load(&sandbox).unwrap();
    let r = Rect {
        min: p(1.0, 1.0),
        max: p(4.0, 3.0),
    };
    assert_eq!(plugin.area(r).await.unwrap(), 6.0);
    // An inverted rectangle has no area.
    let inverted = Rect {
        min: r.max,
        max: r.min,
    };
    assert_eq!(plugin.area(inverted).await.unwrap(), 0.0);
    assert_eq!(plugin.bounds(Vec::new()).await.unwrap(), None);
    assert_eq!(
        plugin
            .bounds(vec![p(2.0, -1.0), p(-3.0, 5.0), p(0.5, 0.5)])
            .await
            .unwrap(),
        Some(Rect {
            min: p(-3.0, -1.0),
            max: p(2.0, 5.0),
        })
    );
    assert_eq!(plugin.name().await.unwrap(), "measure");
    // The exports carry the published names, versions included.
    let names: Vec<&str> = sandbox.list_exports().iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            "name",
            "paint",
            "acme:shapes/canvas@1.2.0#area",
            "acme:shapes/canvas@1.2.0#bounds"
        ]
    );
}

#[tokio::test]
async fn a_host_interface_bound_to_a_published_interface_is_imported_under_its_published_name() {
    assert_eq!(PaletteHost::IMPORT, "acme:shapes/palette@1.2.0");
    assert_eq!(PaletteHost::CAPABILITY, "acme:shapes/palette");
    let sandbox = painter().await;
    let plugin = PainterPlugin::load(&sandbox).unwrap();
    // `paint` calls both host functions; `pixel-at` takes a record of the
    // dependency package.
    assert_eq!(
        plugin.paint("teal").await.unwrap(),
        "teal: #008080 on #100000"
    );
    assert_eq!(plugin.paint("mauve").await.unwrap(), "mauve: no color");
    // Without the palette the plugin does not load, and the error names it.
    let err = WasmSandbox::builder()
        .source(example_plugins::PAINTER)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingImport { import, .. } if import == "acme:shapes/palette@1.2.0"),
        "{err:?}"
    );
}

#[test]
fn the_world_constant_is_one_self_contained_file_with_the_dependency_nested() {
    let text = example_interfaces::PAINTER_WIT;
    assert!(text.starts_with("package acme:shapes@1.2.0;"), "{text}");
    assert!(text.contains("package acme:geometry@0.3.0 {"), "{text}");
    // Documentation survives the round trip.
    assert!(
        text.contains("Plane geometry shared by several acme packages."),
        "{text}"
    );
    // A plugin author in another language gets a file that stands alone.
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("painter.wit", text).unwrap();
    let world = resolve.select_world(&[pkg], Some("painter")).unwrap();
    let world = &resolve.worlds[world];
    assert_eq!(world.exports.len(), 3);
    assert_eq!(world.imports.len(), 2, "geometry types and the palette");
}

#[tokio::test]
async fn a_world_of_a_nested_package_is_selected_by_its_full_name() {
    // `catalog.wit`'s own package is `acme:catalog`; the trait names the
    // `greeter` world of a package nested in the same file.
    let text = example_interfaces::CATALOG_GREETER_WIT;
    assert!(
        text.starts_with("package example-interfaces:greeter@0.1.0;"),
        "{text}"
    );
    assert!(text.contains("package acme:catalog@1.0.0 {"), "{text}");
    let sandbox = WasmSandbox::builder()
        .source(example_plugins::GREETER)
        .build()
        .await
        .unwrap();
    let plugin = CatalogGreeterPlugin::load(&sandbox).unwrap();
    assert_eq!(plugin.greet("Ada").await.unwrap(), "Hello, Ada!");
}

#[tokio::test]
async fn a_derived_world_imports_a_published_host_interface_with_its_packages_nested() {
    let text = example_interfaces::SWATCH_WIT;
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("swatch.wit", text).unwrap();
    let world = resolve.select_world(&[pkg], None).unwrap();
    let imports: Vec<String> = resolve.worlds[world]
        .imports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .collect();
    assert!(
        imports.contains(&"acme:shapes/palette@1.2.0".to_string()),
        "{imports:?}\n{text}"
    );
    // The published packages appear once each.
    assert_eq!(
        text.matches("package acme:geometry@0.3.0 {").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("package acme:shapes@1.2.0 {").count(),
        1,
        "{text}"
    );

    let sandbox = WasmSandbox::builder()
        .source(example_plugins::SWATCH)
        .host_interface(PaletteHost::new(Colors))
        .security_policy(
            SecurityPolicy::strict().allow(Capability::Custom(PaletteHost::CAPABILITY.to_string())),
        )
        .build()
        .await
        .unwrap();
    let plugin = SwatchPlugin::load(&sandbox).unwrap();
    assert_eq!(plugin.swatch("red").await.unwrap(), "red #ff0000");
    assert_eq!(plugin.swatch("plaid").await.unwrap(), "plaid ?");
    assert_eq!(
        plugin.sample(&[p(1.0, 2.0), p(0.0, 0.0)]).await.unwrap(),
        [0x10_01_02, 0x10_00_00]
    );
}
