//! Attribute arguments.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;

use crate::package::PackageName;

mod kw {
    syn::custom_keyword!(package);
    syn::custom_keyword!(world);
    syn::custom_keyword!(imports);
    syn::custom_keyword!(wit);
}

/// `#[sandbox_plugin(package = "..", world = "..", imports(..), wit = "..")]`
#[derive(Default)]
pub(crate) struct PluginArgs {
    pub(crate) package: Option<PackageName>,
    pub(crate) world: Option<syn::LitStr>,
    pub(crate) imports: Vec<syn::Ident>,
    pub(crate) wit: Option<syn::LitStr>,
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
        let mut args = PluginArgs::default();
        while !input.is_empty() {
            let look = input.lookahead1();
            if look.peek(kw::package) {
                input.parse::<kw::package>()?;
                input.parse::<syn::Token![=]>()?;
                let lit: syn::LitStr = input.parse()?;
                args.package = Some(package_lit(&lit)?);
            } else if look.peek(kw::world) {
                input.parse::<kw::world>()?;
                input.parse::<syn::Token![=]>()?;
                args.world = Some(input.parse()?);
            } else if look.peek(kw::wit) {
                input.parse::<kw::wit>()?;
                input.parse::<syn::Token![=]>()?;
                args.wit = Some(input.parse()?);
            } else if look.peek(kw::imports) {
                input.parse::<kw::imports>()?;
                let content;
                syn::parenthesized!(content in input);
                let list: Punctuated<syn::Ident, syn::Token![,]> =
                    content.parse_terminated(syn::Ident::parse, syn::Token![,])?;
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

/// `#[host_interface(package = "..")]`
#[derive(Default)]
pub(crate) struct HostArgs {
    pub(crate) package: Option<PackageName>,
}

impl Parse for HostArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = HostArgs::default();
        while !input.is_empty() {
            let look = input.lookahead1();
            if look.peek(kw::package) {
                input.parse::<kw::package>()?;
                input.parse::<syn::Token![=]>()?;
                let lit: syn::LitStr = input.parse()?;
                args.package = Some(package_lit(&lit)?);
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
