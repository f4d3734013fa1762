//! Emitting the guarded function: the signature as written, a check before the body, and a
//! registry entry.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

use crate::args::Args;
use crate::config;

pub fn privacy_scope(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut args: Args = syn::parse2(args)?;
    args.require_scopes(Span::call_site());
    let krate = match &args.krate {
        Some(p) => quote!(#p),
        None => quote!(::privacy_runtime),
    };
    let private = quote!(#krate::__private);
    let loaded = match config::load() {
        Ok(l) => l,
        Err(config::ConfigError(msg)) => {
            args.push_error(syn::Error::new(Span::call_site(), msg));
            None
        }
    };
    let mut tracked = TokenStream::new();
    let mut custom = Vec::new();
    match &loaded {
        Some(l) => {
            let (display, absolute) = (&l.display, &l.absolute);
            // Recompiles this crate whenever the file changes (once per crate is enough).
            if config::first_use_in_crate(absolute) {
                tracked = quote!(
                    const _: &[u8] = #private::include_bytes!(#absolute);
                );
            }
            match &l.file {
                Ok(file) => custom = args.validate_scopes(Some((file, display))),
                Err(e) => args.push_error(syn::Error::new(
                    Span::call_site(),
                    format!("{}:{}:{}: {}", display, e.line, e.column, e.message),
                )),
            }
        }
        None => custom = args.validate_scopes(None),
    }
    let env_name = config::ENV;
    // Recompiles this crate whenever the variable that names the file changes.
    if config::first_use_in_crate(env_name) {
        tracked = quote!(#tracked const _: #private::Option<&str> = #private::option_env!(#env_name););
    }

    let mut func: ItemFn = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => f,
        Ok(other) => {
            let e = syn::Error::new(
                item_keyword_span(&other),
                "#[privacy_scope] applies to functions and methods with a body",
            );
            args.push_error(e);
            return Err(args.errors.unwrap_or_else(|| syn::Error::new(Span::call_site(), "invalid item")));
        }
        Err(_) => {
            // A trait method without a body, or something that is not an item at all.
            let e = syn::Error::new(
                Span::call_site(),
                "#[privacy_scope] applies to functions and methods with a body (put it on the impl's method, not the trait's declaration)",
            );
            args.push_error(e);
            return Err(args.errors.unwrap_or_else(|| syn::Error::new(Span::call_site(), "invalid item")));
        }
    };

    if let Some(c) = &func.sig.constness {
        args.push_error(syn::Error::new(
            c.span,
            "#[privacy_scope] cannot guard a `const fn`: its check runs at run time",
        ));
    }
    let ret_span = check_return(&func.sig, &mut args);

    let stacked = func.attrs.iter().any(|a| a.path().segments.last().is_some_and(|s| s.ident == "privacy_scope"));
    let subject = take_subject(&mut func, stacked, &mut args);
    let forwarded = if args.degrade.is_some() { forwarded_args(&func, &mut args) } else { Vec::new() };

    if let Some(e) = args.errors.take() {
        // The function as written (less `#[subject]`), so its callers do not report errors of
        // their own.
        let e = e.into_compile_error();
        return Ok(quote!(#e #func));
    }

    let fn_name = &func.sig.ident;
    let api = match &args.api {
        Some(lit) => quote!(#lit),
        None => {
            let s = fn_name.to_string();
            quote!(#s)
        }
    };
    let scopes = &args.scopes;
    let builtin: Vec<&syn::LitStr> = scopes.iter().filter(|l| !custom.iter().any(|c| c.value() == l.value())).collect();
    let is_async = func.sig.asyncness.is_some();
    let subject_expr = match &subject {
        Some(ident) => quote_spanned!(ident.span()=> #private::Some(#private::subject_of(&#ident))),
        None => quote!(#private::AMBIENT),
    };
    let site = Ident::new("__PRIVACY_SITE", Span::mixed_site());
    // Spanned at the return type, so "this type cannot carry a refusal" points there.
    let err = Ident::new("__privacy_error", ret_span);
    let refuse = respan(quote!(#private::refuse(#err)), ret_span);
    let linkme_path = quote!(#private::linkme);

    let check = match &args.degrade {
        None if is_async => quote! {
            if let #private::Err(#err) = #private::check_async(&#site, #subject_expr).await {
                return #refuse;
            }
        },
        None => quote! {
            if let #private::Err(#err) = #private::check(&#site, #subject_expr) {
                return #refuse;
            }
        },
        Some(path) => {
            let has_self = func.sig.receiver().is_some();
            let call = if has_self {
                quote_spanned!(path.span()=> Self::#path(self, #(#forwarded),*))
            } else {
                quote_spanned!(path.span()=> #path(#(#forwarded),*))
            };
            let (call, check) = if is_async {
                (quote!(#call.await), quote!(#private::check_or_degrade_async(&#site, #subject_expr).await))
            } else {
                (call, quote!(#private::check_or_degrade(&#site, #subject_expr)))
            };
            quote! {
                match #check {
                    #private::Ok(true) => {}
                    #private::Ok(false) => return #call,
                    #private::Err(#err) => return #refuse,
                }
            }
        }
    };

    let block = &func.block;
    let new_block = quote! {{
        {
            #[#linkme_path::distributed_slice(#private::PRIVACY_APIS)]
            #[linkme(crate = #linkme_path)]
            static #site: #private::CallSite = #private::CallSite::new(
                #api,
                &[#(#builtin),*],
                &[#(#custom),*],
                &[#(#scopes),*],
                #private::module_path!(),
                #private::file!(),
                #private::line!(),
                #is_async,
            );
            #tracked
            #check
        }
        #block
    }};
    func.block = syn::parse2(new_block)?;
    Ok(quote!(#func))
}

/// `tokens` with every span set to `span`, so a type error in generated code points at the
/// user's tokens that caused it.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut ng = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                ng.set_span(span);
                tt = proc_macro2::TokenTree::Group(ng);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

fn item_keyword_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Struct(i) => i.struct_token.span,
        syn::Item::Enum(i) => i.enum_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Trait(i) => i.trait_token.span,
        syn::Item::Mod(i) => i.mod_token.span,
        syn::Item::Const(i) => i.const_token.span,
        syn::Item::Static(i) => i.static_token.span,
        syn::Item::Type(i) => i.type_token.span,
        other => other.span(),
    }
}

/// The span the refusal's type errors point at; records an error for return types that cannot
/// be a `Result`.
fn check_return(sig: &syn::Signature, args: &mut Args) -> Span {
    match &sig.output {
        ReturnType::Default => {
            args.push_error(syn::Error::new(
                sig.ident.span(),
                "a #[privacy_scope] function must return `Result<T, E>` with `E: From<PrivacyError>`, so a refused call can return its error",
            ));
            Span::call_site()
        }
        ReturnType::Type(_, ty) => {
            let ok = matches!(**ty, Type::Path(_));
            if !ok {
                args.push_error(syn::Error::new_spanned(
                    ty,
                    "a #[privacy_scope] function must return `Result<T, E>` with `E: From<PrivacyError>`; this return type is not a `Result`",
                ));
            }
            ty.span()
        }
    }
}

/// Finds the `#[subject]` parameter and removes the attribute (unless another
/// `#[privacy_scope]` below still needs to see it).
fn take_subject(func: &mut ItemFn, keep_attr: bool, args: &mut Args) -> Option<Ident> {
    let mut found: Option<Ident> = None;
    for input in &mut func.sig.inputs {
        let (attrs, pat) = match input {
            FnArg::Typed(t) => (&mut t.attrs, Some(&*t.pat)),
            FnArg::Receiver(r) => (&mut r.attrs, None),
        };
        let Some(pos) = attrs.iter().position(|a| a.path().is_ident("subject")) else { continue };
        let attr_span = attrs[pos].span();
        if !keep_attr {
            attrs.remove(pos);
        }
        match pat {
            Some(Pat::Ident(p)) if found.is_none() => found = Some(p.ident.clone()),
            Some(Pat::Ident(_)) => args.push_error(syn::Error::new(
                attr_span,
                "only one parameter can be the #[subject]; remove this one or the other",
            )),
            _ => args.push_error(syn::Error::new(
                attr_span,
                "#[subject] goes on a parameter bound to a plain name, such as `#[subject] user: &str`",
            )),
        }
    }
    found
}

/// The argument names forwarded to a `degrade` fallback.
fn forwarded_args(func: &ItemFn, args: &mut Args) -> Vec<Ident> {
    let mut out = Vec::new();
    for input in &func.sig.inputs {
        if let FnArg::Typed(t) = input {
            match &*t.pat {
                Pat::Ident(p) => out.push(p.ident.clone()),
                other => args.push_error(syn::Error::new_spanned(
                    other,
                    "with `degrade`, every parameter must be a plain name so it can be passed to the fallback",
                )),
            }
        }
    }
    out
}

/// `guidelines!()` and `guidelines!(crate = path)`.
pub fn guidelines(input: TokenStream) -> syn::Result<TokenStream> {
    let krate = if input.is_empty() {
        quote!(::privacy_runtime)
    } else {
        let parser = |stream: syn::parse::ParseStream<'_>| {
            stream.parse::<syn::Token![crate]>()?;
            stream.parse::<syn::Token![=]>()?;
            stream.parse::<syn::Path>()
        };
        let path = syn::parse::Parser::parse2(parser, input)?;
        quote!(#path)
    };
    let loaded = config::load().map_err(|config::ConfigError(msg)| syn::Error::new(Span::call_site(), msg))?;
    let Some(loaded) = loaded else {
        let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "no guidelines file: create {root}/privacy.toml (its format is in the privacy-runtime README), \
                 name another in [package.metadata.privacy-runtime] guidelines, or build Guidelines with Guidelines::builder"
            ),
        ));
    };
    let (display, absolute) = (&loaded.display, &loaded.absolute);
    if let Err(e) = &loaded.file {
        return Err(syn::Error::new(Span::call_site(), format!("{}:{}:{}: {}", display, e.line, e.column, e.message)));
    }
    let env_name = config::ENV;
    Ok(quote! {{
        const _: #krate::__private::Option<&str> = #krate::__private::option_env!(#env_name);
        #krate::Guidelines::from_toml(#display, #krate::__private::include_str!(#absolute))
    }})
}
