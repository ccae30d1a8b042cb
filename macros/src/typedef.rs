//! Reading a `#[derive(PluginType)]` struct or enum into a [`TypeDef`].

use std::collections::HashMap;

use crate::errors::Errors;
use crate::model::{
    Case, Field, Payload, Position, TypeDef, TypeKind, classify, docs, to_wit_name,
};

/// Parses and checks a `PluginType` definition.
pub(crate) fn parse(input: &syn::DeriveInput) -> syn::Result<TypeDef> {
    let mut errors = Errors::default();
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "a PluginType cannot be generic: every WIT type has one concrete shape; \
             declare a separate type for each instantiation",
        ));
    }
    let wit = match to_wit_name(&input.ident) {
        Ok(w) => w,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let kind = match &input.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(named) => {
                if named.named.is_empty() {
                    errors.push(syn::Error::new_spanned(
                        &input.ident,
                        "a PluginType struct needs at least one field (WIT records cannot be empty)",
                    ));
                }
                TypeKind::Record(fields(named.named.iter(), &mut errors))
            }
            syn::Fields::Unnamed(_) => {
                errors.push(syn::Error::new_spanned(
                    &s.fields,
                    "tuple structs are not supported: WIT records have named fields; \
                     give the fields names",
                ));
                TypeKind::Record(Vec::new())
            }
            syn::Fields::Unit => {
                errors.push(syn::Error::new_spanned(
                    &input.ident,
                    "unit structs are not supported: WIT records need at least one field",
                ));
                TypeKind::Record(Vec::new())
            }
        },
        syn::Data::Enum(e) => {
            if e.variants.is_empty() {
                errors.push(syn::Error::new_spanned(
                    &input.ident,
                    "a PluginType enum needs at least one variant",
                ));
            }
            let mut cases = Vec::new();
            let mut seen: HashMap<String, syn::Ident> = HashMap::new();
            for v in &e.variants {
                if let Some((_, d)) = &v.discriminant {
                    errors.push(syn::Error::new_spanned(
                        d,
                        "explicit discriminants are not supported: WIT enum cases are numbered in order",
                    ));
                }
                let wit = match to_wit_name(&v.ident) {
                    Ok(w) => w,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                if let Some(prev) = seen.insert(wit.clone(), v.ident.clone()) {
                    errors.push(syn::Error::new_spanned(
                        &v.ident,
                        format!(
                            "`{}` and `{prev}` both become `{wit}` in WIT; rename one",
                            v.ident
                        ),
                    ));
                }
                let payload = match &v.fields {
                    syn::Fields::Unit => Payload::None,
                    syn::Fields::Unnamed(u) => {
                        let mut tys = Vec::new();
                        for f in &u.unnamed {
                            match classify(&f.ty, Position::Field) {
                                Ok((t, _)) => tys.push((t, f.ty.clone())),
                                Err(e) => errors.push(e),
                            }
                        }
                        if tys.len() == 1 {
                            let (t, r) = tys.pop().expect("one element");
                            Payload::Single(t, Box::new(r))
                        } else {
                            Payload::Tuple(tys)
                        }
                    }
                    syn::Fields::Named(n) => {
                        if n.named.is_empty() {
                            Payload::None
                        } else {
                            Payload::Struct(fields(n.named.iter(), &mut errors))
                        }
                    }
                };
                cases.push(Case {
                    ident: v.ident.clone(),
                    wit,
                    payload,
                    docs: docs(&v.attrs),
                });
            }
            if cases.iter().all(|c| matches!(c.payload, Payload::None)) {
                TypeKind::Enum(cases)
            } else {
                TypeKind::Variant(cases)
            }
        }
        syn::Data::Union(u) => {
            errors.push(syn::Error::new_spanned(
                u.union_token,
                "unions are not supported; use an enum (a WIT variant)",
            ));
            TypeKind::Record(Vec::new())
        }
    };
    errors.finish()?;
    Ok(TypeDef {
        ident: input.ident.clone(),
        wit,
        kind,
        docs: docs(&input.attrs),
    })
}

fn fields<'a>(iter: impl Iterator<Item = &'a syn::Field>, errors: &mut Errors) -> Vec<Field> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    for f in iter {
        let ident = f.ident.clone().expect("named field");
        let wit = match to_wit_name(&ident) {
            Ok(w) => w,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(prev) = seen.insert(wit.clone(), ident.clone()) {
            errors.push(syn::Error::new_spanned(
                &ident,
                format!("`{ident}` and `{prev}` both become `{wit}` in WIT; rename one"),
            ));
        }
        match classify(&f.ty, Position::Field) {
            Ok((ty, _)) => out.push(Field {
                ident,
                wit,
                ty,
                rust: f.ty.clone(),
                docs: docs(&f.attrs),
            }),
            Err(e) => errors.push(e),
        }
    }
    out
}
