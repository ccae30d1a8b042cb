//! Procedural macros of [wasm-sandbox](https://docs.rs/wasm-sandbox).
//!
//! Depend on `wasm-sandbox` (host) or `wasm-sandbox-guest` (plugin), which
//! re-export these macros, rather than on this crate.
//!
//! - `#[sandbox_plugin]` turns a trait into a plugin interface: a WIT world,
//!   a typed host proxy, and the plugin-side export glue.
//! - `#[host_interface]` turns a trait into functions the host offers plugins.
//! - `#[derive(PluginType)]` maps a struct or enum to a WIT record, enum or
//!   variant.
//! - `export!(MyPlugin: my_api::MyTrait)` exports a plugin type.
//!
//! Set `WASM_SANDBOX_MACROS_DEBUG=1` to write each expansion to
//! `target/wasm-sandbox-macros/<name>.rs` for reading.

// Each macro's expansion has its own module: `expand_plugin`
// (#[sandbox_plugin]), `expand_host_interface` (#[host_interface]),
// `expand_export` (export!) and `derive` (#[derive(PluginType)]). They share
// the model (`model`, `iface`, `typedef`), the WIT side (`package`, `world`,
// `bind`, `scan`, `published` for `wit = ".."`) and the code generators (`host`, `guest`).
mod args;
mod bind;
mod debug;
mod derive;
mod errors;
mod expand_export;
mod expand_host_interface;
mod expand_plugin;
mod guest;
mod host;
mod iface;
mod model;
mod package;
mod published;
mod scan;
mod typedef;
mod world;

use proc_macro::TokenStream;
use syn::parse_macro_input;

use crate::args::{HostArgs, PluginArgs};
use crate::expand_export::ExportInput;

/// Declares a plugin interface. See the crate documentation of
/// `wasm-sandbox` ("Declaring a plugin interface") for the full story.
///
/// Arguments, each at most once: `package = "ns:name@version"` and
/// `world = ".."` for the derived world, `imports(HostTrait, ..)` for the
/// host interfaces it imports; or `wit = "path"` (a `.wit` file, or a
/// directory with its dependencies in `deps/`) with `world = ".."` to check
/// the trait against published WIT instead.
#[proc_macro_attribute]
pub fn sandbox_plugin(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(args as PluginArgs);
    let item = parse_macro_input!(item as syn::ItemTrait);
    let out = expand_plugin::expand(args, &item);
    debug::dump(&item.ident.to_string(), &out);
    out.into()
}

/// Declares functions the host offers plugins. Methods may be `async fn`:
/// the host runs them as futures while the plugin waits.
///
/// Arguments, each at most once: `package = "ns:name@version"` for the
/// derived interface (`<package>/<trait-in-kebab-case>`); or `wit = "path"`
/// and `interface = ".."` to bind the trait to a published interface.
#[proc_macro_attribute]
pub fn host_interface(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(args as HostArgs);
    let item = parse_macro_input!(item as syn::ItemTrait);
    let out = expand_host_interface::expand(args, &item);
    debug::dump(&item.ident.to_string(), &out);
    out.into()
}

/// Declares what a plugin object can do: a WIT resource the plugin exports.
/// A `#[sandbox_plugin]` trait of the same crate names it as the bound of an
/// associated type (`type Counter: Counter;`). Functions: `fn new(..) ->
/// Self` is the constructor, `fn m(&self, ..)` are methods, functions
/// without `self` are static.
#[proc_macro_attribute]
pub fn plugin_resource(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as syn::ItemTrait);
    let out = expand_plugin::expand_resource(args.into(), &item);
    debug::dump(&item.ident.to_string(), &out);
    out.into()
}

/// Maps a struct or enum to a WIT record, enum or variant.
#[proc_macro_derive(PluginType)]
pub fn derive_plugin_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    derive::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Exports a plugin type: `export!(MyFilter: my_api::TextFilter)`, or with a
/// constructor, `export!(MyFilter: my_api::TextFilter = MyFilter::new())`.
#[proc_macro]
pub fn export(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as ExportInput);
    expand_export::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
