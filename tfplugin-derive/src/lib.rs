//! `#[derive(tfplugin::Model)]`: the Terraform-only facts of a model, checked by the compiler.
//!
//! Each `#[tf(...)]` attribute becomes one chain of method calls on tfplugin's typed settings
//! builders, so a misspelt flag is "no method named …" at the attribute, and a validator or
//! plan modifier is an ordinary Rust value. On a field:
//!
//! ```ignore
//! #[tf(computed, use_state_for_unknown)]     // settings.field("id").computed().use_state_for_unknown()
//! #[tf(validator = StringLength::at_least(1))]
//! #[tf(block = single)]                      // single | list | set | map
//! #[tf(nested = map)]
//! ```
//!
//! On the struct, cross-attribute rules whose names the macro checks against the fields:
//!
//! ```ignore
//! #[tf(conflicts_with(password, password_wo), hint = "…")]
//! #[tf(exactly_one_of(a, b))]
//! #[tf(also_requires(password_wo => password_wo_version))]
//! #[tf(validator = SomeBlockValidator)]
//! ```

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{parenthesized, Data, DeriveInput, Expr, Fields, Ident, Token, Type};

/// Derives `tfplugin::schema::ModelSettings` (and `NestedModel`) from `#[tf(...)]` attributes.
#[proc_macro_derive(Model, attributes(tf))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// One item of a `#[tf(...)]` list.
enum Item {
    /// `flag`
    Flag(Ident),
    /// `name = expr`
    Value(Ident, Expr),
    /// `name(a, b)` or `name(a => b, c)`: attribute names.
    Names(Ident, Vec<Ident>, Option<Vec<Ident>>),
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.call(Ident::parse_any_ident)?;
        if input.peek(Token![=]) && !input.peek(Token![=>]) {
            input.parse::<Token![=]>()?;
            return Ok(Item::Value(name, input.parse()?));
        }
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            let first = names(&content)?;
            let second = if content.peek(Token![=>]) {
                content.parse::<Token![=>]>()?;
                Some(names(&content)?)
            } else {
                None
            };
            if !content.is_empty() {
                return Err(content.error("expected attribute names, optionally `a => b, c`"));
            }
            return Ok(Item::Names(name, first, second));
        }
        Ok(Item::Flag(name))
    }
}

/// Comma-separated identifiers up to `=>` or the end.
fn names(input: ParseStream) -> syn::Result<Vec<Ident>> {
    let mut out = Vec::new();
    while !input.is_empty() && !input.peek(Token![=>]) {
        out.push(input.call(Ident::parse_any_ident)?);
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else {
            break;
        }
    }
    Ok(out)
}

/// `Ident::parse_any` without the trait import at every call.
trait ParseAnyIdent {
    fn parse_any_ident(input: ParseStream) -> syn::Result<Ident>;
}

impl ParseAnyIdent for Ident {
    fn parse_any_ident(input: ParseStream) -> syn::Result<Ident> {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    }
}

/// The attribute name Terraform sees: the field name without `r#` (models use no serde renames).
fn attribute_name(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").unwrap_or(&text).to_string()
}

fn tf_items(attrs: &[syn::Attribute]) -> syn::Result<Vec<Vec<Item>>> {
    let mut lists = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("tf")) {
        let items = attr.parse_args_with(Punctuated::<Item, Token![,]>::parse_terminated)?;
        if items.is_empty() {
            return Err(syn::Error::new(attr.span(), "empty #[tf()]"));
        }
        lists.push(items.into_iter().collect());
    }
    Ok(lists)
}

fn nesting(mode: &Expr) -> syn::Result<TokenStream2> {
    let variant = match mode {
        Expr::Path(path) if path.path.is_ident("single") => quote!(Single),
        Expr::Path(path) if path.path.is_ident("list") => quote!(List),
        Expr::Path(path) if path.path.is_ident("set") => quote!(Set),
        Expr::Path(path) if path.path.is_ident("map") => quote!(Map),
        _ => {
            return Err(syn::Error::new(
                mode.span(),
                "expected a nesting mode: single, list, set or map",
            ))
        }
    };
    Ok(quote_spanned!(mode.span()=> ::tfplugin::schema::Nesting::#variant))
}

/// One method call of a chain.
fn call(item: &Item, field_type: Option<&Type>, fields: &[Ident]) -> syn::Result<TokenStream2> {
    match item {
        Item::Flag(name) => Ok(quote_spanned!(name.span()=> .#name())),
        Item::Value(name, value) if name == "block" || name == "nested" => {
            let Some(ty) = field_type else {
                return Err(syn::Error::new(
                    name.span(),
                    "`block` and `nested` belong on a field",
                ));
            };
            let mode = nesting(value)?;
            Ok(quote_spanned!(name.span()=>
                .#name(#mode, <#ty as ::tfplugin::schema::NestedModel>::nested_settings)))
        }
        Item::Value(name, value) => Ok(quote_spanned!(name.span()=> .#name(#value))),
        Item::Names(name, first, second) => {
            if field_type.is_some() {
                return Err(syn::Error::new(
                    name.span(),
                    "rules over several attributes belong on the struct",
                ));
            }
            for named in first.iter().chain(second.iter().flatten()) {
                if !fields
                    .iter()
                    .any(|f| attribute_name(f) == attribute_name(named))
                {
                    return Err(syn::Error::new(
                        named.span(),
                        format!("`{named}` is not a field of this struct"),
                    ));
                }
            }
            let first: Vec<String> = first.iter().map(attribute_name).collect();
            match second {
                Some(second) => {
                    let second: Vec<String> = second.iter().map(attribute_name).collect();
                    Ok(quote_spanned!(name.span()=> .#name(&[#(#first),*], &[#(#second),*])))
                }
                None => Ok(quote_spanned!(name.span()=> .#name(&[#(#first),*]))),
            }
        }
    }
}

fn expand(input: DeriveInput) -> syn::Result<TokenStream2> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            Span::call_site(),
            "tfplugin::Model derives only for structs with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            data.fields.span(),
            "tfplugin::Model derives only for structs with named fields",
        ));
    };
    let field_idents: Vec<Ident> = named.named.iter().filter_map(|f| f.ident.clone()).collect();

    let mut statements = Vec::new();
    for field in &named.named {
        let Some(ident) = &field.ident else { continue };
        let name = attribute_name(ident);
        for items in tf_items(&field.attrs)? {
            let calls = items
                .iter()
                .map(|item| call(item, Some(&field.ty), &field_idents))
                .collect::<syn::Result<Vec<_>>>()?;
            statements.push(quote!(settings.field(#name) #(#calls)*;));
        }
    }
    for items in tf_items(&input.attrs)? {
        let calls = items
            .iter()
            .map(|item| call(item, None, &field_idents))
            .collect::<syn::Result<Vec<_>>>()?;
        statements.push(quote!(settings #(#calls)*;));
    }

    let name = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::tfplugin::schema::ModelSettings for #name #type_generics #where_clause {
            fn model_settings() -> ::tfplugin::schema::BlockSettings {
                #[allow(unused_mut)]
                let mut settings = ::tfplugin::schema::BlockSettings::new();
                #(#statements)*
                settings
            }
        }

        impl #impl_generics ::tfplugin::schema::NestedModel for #name #type_generics #where_clause {
            fn nested_settings() -> ::tfplugin::schema::BlockSettings {
                <Self as ::tfplugin::schema::ModelSettings>::model_settings()
            }
        }
    })
}
