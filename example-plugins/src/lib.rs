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
//! | constant | source | WIT world |
//! |---|---|---|
//! | [`GREETER`] | `guests/greeter` | `wit/greeter/greeter.wit` |
//! | [`CALCULATOR`] | `guests/calculator` | `wit/calculator/calculator.wit` |

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
