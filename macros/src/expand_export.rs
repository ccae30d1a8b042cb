//! `export!(MyPlugin: my_api::MyTrait)`: exports a plugin type through the
//! export macro that `#[sandbox_plugin]` generated for the trait.

use proc_macro2::TokenStream;
use quote::quote;

use crate::guest;

/// `MyPlugin: my_api::MyTrait`, optionally followed by `= constructor`.
pub(crate) struct ExportInput {
    ty: syn::Type,
    path: syn::Path,
    ctor: Option<syn::Expr>,
}

impl syn::parse::Parse for ExportInput {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let ty: syn::Type = input.parse()?;
        input.parse::<syn::Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `export!(MyPlugin: my_api_crate::MyTrait)` (a `:` and the trait's path)",
            )
        })?;
        let path: syn::Path = input.parse()?;
        let ctor = if input.peek(syn::Token![=]) {
            input.parse::<syn::Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        if input.peek(syn::Token![;]) {
            input.parse::<syn::Token![;]>()?;
        }
        Ok(ExportInput { ty, path, ctor })
    }
}

/// Expands `export!`: on `wasm32`, a call of the trait's export macro (which
/// lives in the crate that declares the trait); elsewhere, a check that the
/// type implements the trait.
pub(crate) fn expand(input: ExportInput) -> syn::Result<TokenStream> {
    let ExportInput { ty, path, ctor } = input;
    let last = path.segments.last().expect("non-empty path");
    let mac = guest::export_macro_name(&last.ident);
    let first = path
        .segments
        .first()
        .expect("non-empty path")
        .ident
        .to_string();
    let same_crate = matches!(first.as_str(), "crate" | "self" | "super");
    if path.segments.len() < 2 || path.leading_colon.is_some() && path.segments.len() < 2 {
        return Err(syn::Error::new_spanned(
            &path,
            format!(
                "write the trait with the crate that declares it, for example \
                 `export!({}: my_api::{})`: the export glue lives in that crate",
                quote!(#ty),
                last.ident
            ),
        ));
    }
    let invoke = if same_crate {
        quote!(#mac!)
    } else {
        let krate = &path.segments.first().expect("non-empty").ident;
        let lead = path.leading_colon;
        quote!(#lead #krate::#mac!)
    };
    let ctor = ctor.map_or_else(
        || quote!(<#ty as ::core::default::Default>::default()),
        |c| quote!(#c),
    );
    Ok(quote! {
        #[cfg(target_family = "wasm")]
        #invoke(#ty, (#path), #ctor);

        // On other targets, check what can be checked: the type implements the trait.
        #[cfg(not(target_family = "wasm"))]
        const _: fn() = || {
            fn implements<T: #path>() {}
            implements::<#ty>();
        };
    })
}
