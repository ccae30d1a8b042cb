//! Attribute arguments.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;

use crate::package::PackageName;

mod kw {
    syn::custom_keyword!(package);
    syn::custom_keyword!(world);
    syn::custom_keyword!(imports);
    syn::custom_keyword!(wit);
    syn::custom_keyword!(interface);
}

/// `#[sandbox_plugin(package = "..", world = "..", imports(..), wit = "..")]`, each
/// argument at most once.
#[derive(Default)]
pub(crate) struct PluginArgs {
    pub(crate) package: Option<PackageName>,
    pub(crate) world: Option<syn::LitStr>,
    pub(crate) imports: Vec<syn::Ident>,
    pub(crate) wit: Option<syn::LitStr>,
}

/// Parses `keyword = "string"`; gives the string and the whole argument's
/// tokens (for an error that points at the argument).
fn string_arg<K: Parse + ToTokens>(
    input: ParseStream<'_>,
) -> syn::Result<(syn::LitStr, TokenStream)> {
    let kw: K = input.parse()?;
    let eq: syn::Token![=] = input.parse()?;
    let lit: syn::LitStr = input.parse()?;
    let tokens = quote!(#kw #eq #lit);
    Ok((lit, tokens))
}

/// The error for an argument given a second time, at the repeat.
fn repeated(arg: TokenStream, name: &str, attr: &str) -> syn::Error {
    syn::Error::new_spanned(
        arg,
        format!("`{name}` is given twice: it may appear only once in {attr}; remove one"),
    )
}

fn package_lit(lit: &syn::LitStr) -> syn::Result<PackageName> {
    PackageName::parse(&lit.value()).ok_or_else(|| {
        syn::Error::new_spanned(
            lit,
            "expected a WIT package name such as \"acme:filters@1.0.0\" \
             (`namespace:name`, kebab-case, optional `@version`)",
        )
    })
}

impl Parse for PluginArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        const ATTR: &str = "#[sandbox_plugin(..)]";
        let mut args = PluginArgs::default();
        let mut seen_imports = false;
        while !input.is_empty() {
            let look = input.lookahead1();
            if look.peek(kw::package) {
                let (lit, arg) = string_arg::<kw::package>(input)?;
                if args.package.is_some() {
                    return Err(repeated(arg, "package", ATTR));
                }
                args.package = Some(package_lit(&lit)?);
            } else if look.peek(kw::world) {
                let (lit, arg) = string_arg::<kw::world>(input)?;
                if args.world.is_some() {
                    return Err(repeated(arg, "world", ATTR));
                }
                args.world = Some(lit);
            } else if look.peek(kw::wit) {
                let (lit, arg) = string_arg::<kw::wit>(input)?;
                if args.wit.is_some() {
                    return Err(repeated(arg, "wit", ATTR));
                }
                args.wit = Some(lit);
            } else if look.peek(kw::imports) {
                let kw: kw::imports = input.parse()?;
                let content;
                let parens = syn::parenthesized!(content in input);
                let list: Punctuated<syn::Ident, syn::Token![,]> =
                    content.parse_terminated(syn::Ident::parse, syn::Token![,])?;
                if seen_imports {
                    let mut arg = kw.to_token_stream();
                    parens.surround(&mut arg, |inner| list.to_tokens(inner));
                    return Err(syn::Error::new_spanned(
                        arg,
                        "`imports` is given twice: list every import in one `imports(..)`",
                    ));
                }
                seen_imports = true;
                args.imports.extend(list);
            } else {
                return Err(look.error());
            }
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        Ok(args)
    }
}

/// `#[host_interface(package = "..")]`, or `#[host_interface(wit = "..",
/// interface = "..")]` for a published interface; each at most once.
#[derive(Default)]
pub(crate) struct HostArgs {
    pub(crate) package: Option<PackageName>,
    pub(crate) wit: Option<syn::LitStr>,
    pub(crate) interface: Option<syn::LitStr>,
}

impl Parse for HostArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        const ATTR: &str = "#[host_interface(..)]";
        let mut args = HostArgs::default();
        while !input.is_empty() {
            let look = input.lookahead1();
            if look.peek(kw::package) {
                let (lit, arg) = string_arg::<kw::package>(input)?;
                if args.package.is_some() {
                    return Err(repeated(arg, "package", ATTR));
                }
                args.package = Some(package_lit(&lit)?);
            } else if look.peek(kw::wit) {
                let (lit, arg) = string_arg::<kw::wit>(input)?;
                if args.wit.is_some() {
                    return Err(repeated(arg, "wit", ATTR));
                }
                args.wit = Some(lit);
            } else if look.peek(kw::interface) {
                let (lit, arg) = string_arg::<kw::interface>(input)?;
                if args.interface.is_some() {
                    return Err(repeated(arg, "interface", ATTR));
                }
                args.interface = Some(lit);
            } else {
                return Err(look.error());
            }
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        Ok(args)
    }
}

impl HostArgs {
    /// Reads the arguments of the `#[host_interface]` attribute on a scanned trait.
    pub(crate) fn from_trait(t: &syn::ItemTrait) -> syn::Result<HostArgs> {
        for attr in &t.attrs {
            if attr
                .path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "host_interface")
            {
                return match &attr.meta {
                    syn::Meta::Path(_) => Ok(HostArgs::default()),
                    _ => attr.parse_args(),
                };
            }
        }
        Ok(HostArgs::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin_err(args: &str) -> String {
        match syn::parse_str::<PluginArgs>(args) {
            Ok(_) => panic!("`{args}` parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn each_argument_may_be_given_once() {
        let args: PluginArgs = syn::parse_str(
            r#"package = "acme:filters@1.0.0", world = "filter", imports(A, B), wit = "f.wit""#,
        )
        .unwrap();
        assert_eq!(args.package.unwrap().id(), "acme:filters@1.0.0");
        assert_eq!(args.world.unwrap().value(), "filter");
        assert_eq!(args.imports.len(), 2);
        assert_eq!(args.wit.unwrap().value(), "f.wit");
        let args: HostArgs = syn::parse_str(r#"package = "acme:kv@1.0.0""#).unwrap();
        assert_eq!(args.package.unwrap().id(), "acme:kv@1.0.0");
        let args: HostArgs =
            syn::parse_str(r#"wit = "wit", interface = "acme:kv/store@1.0.0""#).unwrap();
        assert_eq!(args.wit.unwrap().value(), "wit");
        assert_eq!(args.interface.unwrap().value(), "acme:kv/store@1.0.0");
    }

    #[test]
    fn a_repeated_argument_is_an_error() {
        assert_eq!(
            plugin_err(r#"world = "a", world = "b""#),
            "`world` is given twice: it may appear only once in #[sandbox_plugin(..)]; remove one"
        );
        assert_eq!(
            plugin_err(r#"package = "a:b", world = "w", package = "a:c""#),
            "`package` is given twice: it may appear only once in #[sandbox_plugin(..)]; \
             remove one"
        );
        assert_eq!(
            plugin_err(r#"wit = "a.wit", wit = "b.wit""#),
            "`wit` is given twice: it may appear only once in #[sandbox_plugin(..)]; remove one"
        );
        assert_eq!(
            plugin_err("imports(A), imports(B)"),
            "`imports` is given twice: list every import in one `imports(..)`"
        );
        assert_eq!(
            plugin_err("imports(), imports()"),
            "`imports` is given twice: list every import in one `imports(..)`"
        );
        let err = match syn::parse_str::<HostArgs>(r#"package = "a:b", package = "a:b""#) {
            Ok(_) => panic!("a repeated package parsed"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err,
            "`package` is given twice: it may appear only once in #[host_interface(..)]; \
             remove one"
        );
        for repeated in [
            r#"wit = "a", wit = "b""#,
            r#"interface = "a", interface = "b""#,
        ] {
            let err = match syn::parse_str::<HostArgs>(repeated) {
                Ok(_) => panic!("`{repeated}` parsed"),
                Err(e) => e.to_string(),
            };
            assert!(
                err.ends_with(
                    "is given twice: it may appear only once in #[host_interface(..)]; remove one"
                ),
                "{err}"
            );
        }
    }
}
