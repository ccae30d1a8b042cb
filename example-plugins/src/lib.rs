//! The example plugins, built for `wasm32-wasip2` by this crate's build
//! script, and the paths to their components.
//!
//! Depending on this crate (usually as a dev-dependency) is all it takes to
//! have the plugins built before your tests or examples run:
//!
//! ```
//! let greeter = std::path::Path::new(example_plugins::GREETER);
//! assert!(greeter.exists());
//! ```
//!
//! | constant | source | implements |
//! |---|---|---|
//! | [`GREETER`] | `guests/greeter` | `example_interfaces::Greeter` (guest SDK) |
//! | [`CALCULATOR`] | `guests/calculator` | `wit/calculator/calculator.wit` (plain `wit-bindgen`, no SDK) |
//! | [`TEXT_FILTER`] | `guests/text-filter` | `example_interfaces::TextFilter` (guest SDK, host interface) |
//! | [`TYPE_PROBE`] | `guests/type-probe` | `example_interfaces::TypeProbe` (guest SDK) |
//! | [`INTRUDER`] | `guests/intruder` | `example_interfaces::Intruder`: tries every privileged operation |
//! | [`BENCH`] | `guests/bench` | `example_interfaces::Bench`: calls of every shape and CPU-bound work, for benchmarks |
//! | [`FILE_READER`] | `guests/file-reader` | `example_interfaces::FileReader`: reads a file through WASI |
//! | [`FETCHER`] | `guests/fetcher` | `example_interfaces::Fetcher`: outbound HTTP with the guest SDK's `http` module |
//! | [`GREETER_V2`] | `guests/greeter-v2` | `example_interfaces::Greeter` again, with a new text: a hot-reload target |
//! | [`GREETER_NOSY`] | `guests/greeter-nosy` | `example_interfaces::Greeter`, also reading a file: a reload that would widen capabilities |
//! | [`BURGLAR`] | `guests/burglar` | `example_interfaces::FsScript`: calls every `wasi:filesystem/types` function directly |
//! | [`RAW_FETCHER`] | `guests/raw-fetcher` | `example_interfaces::Fetcher` again, hostile: raw `wasi:http` with the URL's scheme and authority as written |
//! | [`RESOLVER`] | `guests/resolver` | `example_interfaces::Resolver`: calls the host's `Directory`, whose functions are `async fn` on the host |
//! | [`PAINTER`] | `guests/painter` | `example_interfaces::Painter`: the `acme:shapes/painter` world, published as a WIT directory with a dependency in `deps/` |
//! | [`SWATCH`] | `guests/swatch` | `example_interfaces::Swatch`: a world derived from a trait that imports the published `acme:shapes/palette` |
//! | [`GREETER_NEXT`] | `guests/greeter-next` | `example_interfaces::GreeterNext`: version 0.2.0 of the greeter interface |
//! | [`REVIEWER`] | `guests/reviewer` | `example_interfaces::Reviewer`: reads pages, objects of the host's `Workspace`; hostile `forge` and `reuse` |
//! | [`TALLY`] | `guests/tally` | `example_interfaces::Tallies`: plugin objects (a WIT resource) the host holds handles on |
//!
//! The same interfaces implemented in Python, JavaScript and C are in
//! [`polyglot`].

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

pub mod polyglot;
