//! Serving several versions of one plugin interface: [`plugin_versions!`](crate::plugin_versions)
//! makes an enum with one typed proxy per version, and loading it finds the
//! version a plugin was built against.
//!
//! Each version is a `#[sandbox_plugin]` trait of its own, in a package of
//! its own version (`acme:greeter@0.1.0`, `acme:greeter@0.2.0`): a plugin
//! exports its functions under its version's names, so the version it
//! implements is decided by its exports, checked function by function and
//! type by type, as a proxy's `load` checks them.

use crate::error::{Error, Result};
use crate::pool::SandboxPool;

/// The versions of a plugin interface a host serves, newest first, as
/// [`plugin_versions!`](crate::plugin_versions) declares them; [`ReloadablePool::serve_versions`](crate::ReloadablePool::serve_versions)
/// accepts a new plugin of any of them.
pub trait ServedVersions {
    /// The WIT world of each version served, newest first.
    fn worlds() -> Vec<&'static str>;

    /// The world of the first version (newest first) that the plugin in
    /// `pool` implements.
    ///
    /// # Errors
    ///
    /// [`Error::NoServedVersion`] when it implements none.
    fn served_world(pool: &SandboxPool) -> Result<&'static str>;
}

/// The version part of a world's name: `0.2.0` for
/// `acme:greeter/greeter@0.2.0`, empty without one.
#[doc(hidden)]
pub fn version_of(world: &str) -> &str {
    world.rsplit_once('@').map_or("", |(_, version)| version)
}

/// The error when no version fits: one `InterfaceMismatch` per version
/// tried, in the order tried.
#[doc(hidden)]
pub fn __none_served(interface: &str, tried: Vec<Error>) -> Error {
    let mut served = Vec::new();
    let mut problems = Vec::new();
    for error in tried {
        match error {
            Error::InterfaceMismatch {
                world, problems: p, ..
            } => {
                problems.push(format!("as `{world}`: {}", p.join(", ")));
                served.push(world);
            }
            // Any other failure of a proxy's load is returned as it is.
            other => return other,
        }
    }
    Error::NoServedVersion {
        interface: interface.to_string(),
        served,
        problems,
    }
}

/// Declares an enum with one variant per version of a plugin interface,
/// newest first, each holding that version's typed proxy:
///
/// ```text
/// wasm_sandbox::plugin_versions! {
///     /// A greeter of any version this host serves.
///     pub enum AnyGreeter {
///         V0_2(GreeterNextPlugin),
///         V0_1(GreeterPlugin),
///     }
/// }
/// ```
///
/// `AnyGreeter::load(host)` tries each version in order and returns the
/// first whose interface the plugin implements; `world()` and `version()`
/// say which one it got. A plugin that implements none fails with
/// [`Error::NoServedVersion`](crate::Error::NoServedVersion), listing
/// what each version missed. The enum implements [`ServedVersions`], for
/// [`ReloadablePool::serve_versions`](crate::ReloadablePool::serve_versions).
#[macro_export]
macro_rules! plugin_versions {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ( $($proxy:ident)::+ ) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name<H: $crate::PluginHost> {
            $(
                $(#[$vmeta])*
                #[doc = concat!("A plugin built against this version: `", stringify!($($proxy)::+), "`.")]
                $variant($($proxy)::+<H>),
            )+
        }

        impl<H: $crate::PluginHost> ::core::fmt::Debug for $name<H> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_tuple(::core::stringify!($name)).field(&self.world()).finish()
            }
        }

        #[automatically_derived]
        impl<H: $crate::PluginHost + ::core::clone::Clone> $name<H> {
            /// Loads the proxy of the newest version the plugin implements.
            ///
            /// # Errors
            ///
            /// `Error::NoServedVersion` when it implements none of them.
            pub fn load(host: H) -> $crate::Result<Self> {
                let mut tried = ::std::vec::Vec::new();
                $(
                    match <$($proxy)::+<H>>::load(::core::clone::Clone::clone(&host)) {
                        ::core::result::Result::Ok(proxy) => {
                            return ::core::result::Result::Ok($name::$variant(proxy));
                        }
                        ::core::result::Result::Err(e) => tried.push(e),
                    }
                )+
                ::core::result::Result::Err($crate::__private::none_served(
                    ::core::stringify!($name),
                    tried,
                ))
            }
        }

        #[automatically_derived]
        impl<H: $crate::PluginHost> $name<H> {
            /// The WIT world of the version this plugin implements.
            pub fn world(&self) -> &'static str {
                match self {
                    $( $name::$variant(_) => <$($proxy)::+<H>>::WORLD, )+
                }
            }

            /// The version this plugin implements (`0.2.0`).
            pub fn version(&self) -> &'static str {
                $crate::__private::version_of(self.world())
            }
        }

        #[automatically_derived]
        impl<H: $crate::PluginHost + ::core::clone::Clone> $crate::ServedVersions for $name<H> {
            fn worlds() -> ::std::vec::Vec<&'static str> {
                ::std::vec![$( <$($proxy)::+<H>>::WORLD ),+]
            }

            fn served_world(pool: &$crate::SandboxPool) -> $crate::Result<&'static str> {
                $name::<&$crate::SandboxPool>::load(pool).map(|v| v.world())
            }
        }
    };
}
