//! Emitting the guarded function: the signature as written, the check spliced in front of the
//! body's own statements, and a registry entry.
//!
//! Only the signature is parsed: the body's tokens go through untouched behind the check (a body
//! that does not parse is reported by the compiler, at its own token, and the function is still
//! there for its callers and the IDE). With a problem in the arguments or the signature, the
//! function is emitted as written (less `#[subject]`) next to the errors.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Block, Expr, FnArg, Ident, Pat, ReturnType, Signature, Stmt, Type, Visibility};

use crate::args::Args;
use crate::config;

/// A function as written: its signature parsed, its body as tokens.
struct MaybeFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: Group,
}

/// What the item turned out to be.
enum Item {
    Fn(Box<MaybeFn>),
    /// A signature without a body (a trait's declaration).
    Declaration,
    /// Anything else, with the span to point at.
    Other(Span),
    /// Not even a signature: the compiler reports the item's own syntax error.
    Unparsed,
}

/// Splits the item into the part before its body, parsed, and the body, kept as tokens: parsing
/// only the signature is what keeps the attribute cheap on a crate of many functions.
fn parse_item(item: TokenStream) -> Item {
    let mut head: Vec<TokenTree> = item.clone().into_iter().collect();
    let body = match head.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => Some(g.clone()),
        // A body passed through a `macro_rules!` `$body:block` fragment.
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::None => {
            match g.stream().into_iter().collect::<Vec<_>>().as_slice() {
                [TokenTree::Group(b)] if b.delimiter() == Delimiter::Brace => Some(b.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    if body.is_some() {
        head.pop();
    }
    let signature = |input: ParseStream<'_>| {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let semi: Option<syn::Token![;]> = input.parse()?;
        Ok((attrs, vis, sig, semi.is_some()))
    };
    match (signature.parse2(head.into_iter().collect()), body) {
        (Ok((attrs, vis, sig, false)), Some(body)) => Item::Fn(Box::new(MaybeFn { attrs, vis, sig, body })),
        (Ok((_, _, _, true)), None) => Item::Declaration,
        _ => match syn::parse2::<syn::Item>(item) {
            Ok(other) => Item::Other(item_keyword_span(&other)),
            Err(_) => Item::Unparsed,
        },
    }
}

impl MaybeFn {
    /// The function with `body` (or its own tokens when `body` is `None`) in its braces.
    fn emit(&self, body: Option<TokenStream>) -> TokenStream {
        let MaybeFn { attrs, vis, sig, body: own } = self;
        let body = match body {
            Some(tokens) => {
                let mut g = Group::new(Delimiter::Brace, tokens);
                g.set_span(own.span());
                g
            }
            None => own.clone(),
        };
        quote!(#(#attrs)* #vis #sig #body)
    }
}

/// The body's inner attributes (`#![…]`, which must stay first) and the rest of its tokens.
fn inner_attributes(body: &Group) -> (TokenStream, TokenStream) {
    let trees: Vec<TokenTree> = body.stream().into_iter().collect();
    let mut split = 0;
    while let [TokenTree::Punct(pound), TokenTree::Punct(bang), TokenTree::Group(g), ..] = &trees[split..] {
        if pound.as_char() != '#' || bang.as_char() != '!' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        split += 3;
    }
    let mut trees = trees.into_iter();
    let inner = trees.by_ref().take(split).collect();
    (inner, trees.collect())
}

pub fn privacy_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut args = Args::parse(args);
    args.require_scopes(Span::call_site());

    let mut func = match parse_item(item.clone()) {
        Item::Fn(f) => f,
        Item::Declaration => {
            args.push_error(syn::Error::new(
                Span::call_site(),
                "#[privacy_scope] applies to functions and methods with a body (put it on the impl's method, not the trait's declaration)",
            ));
            return with_errors(args.errors, item);
        }
        Item::Other(span) => {
            args.push_error(syn::Error::new(span, "#[privacy_scope] applies to functions and methods with a body"));
            return with_errors(args.errors, item);
        }
        Item::Unparsed => return with_errors(args.errors, item),
    };

    let krate = match &args.krate {
        Some(p) => quote!(#p),
        None => quote!(::privacy_runtime),
    };
    let private = quote!(#krate::__private);
    let (tracked, custom) = check_against_file(&mut args, &private);

    if let Some(c) = &func.sig.constness {
        args.push_error(syn::Error::new(
            c.span,
            "#[privacy_scope] cannot guard a `const fn`: its check runs at run time",
        ));
    }
    let ret_span = check_return(&func.sig, &mut args);
    // Stacked attributes: the first to expand takes `#[subject]` off the parameter and names it
    // in its registry entry, where the next one reads it (whatever name it is imported under).
    let subject = take_subject(&mut func.sig, &mut args).or_else(|| subject_of_earlier_guard(&func.body));
    let forwarded = if args.degrade.is_some() { forwarded_args(&func.sig, &mut args) } else { Vec::new() };

    if let Some(e) = args.errors.take() {
        // The function as written (less `#[subject]`), so its callers report nothing of their own.
        let e = e.into_compile_error();
        let f = func.emit(None);
        return quote!(#e #f);
    }

    let fn_name = &func.sig.ident;
    let api = match &args.api {
        Some(lit) => lit.to_token_stream(),
        None => fn_name.to_string().to_token_stream(),
    };
    let scopes = &args.scopes;
    let builtin = scopes.iter().filter(|l| !custom.iter().any(|c| c.value() == l.value()));
    // A boxed `async move` block (an `#[async_trait]` method seen after async-trait rewrote it)
    // is checked inside the block, where it can await. Only such a body is parsed.
    let mut boxed = (func.sig.asyncness.is_none() && returns_pin(&func.sig))
        .then(|| Block::parse_within.parse2(func.body.stream()).ok())
        .flatten()
        .filter(|stmts| boxed_async_block(&mut stmts.clone()).is_some());
    let is_async = func.sig.asyncness.is_some() || boxed.is_some();
    // The user's names, re-created with the expansion's hygiene: the same binding, but code the
    // lints know the attribute wrote (`_user` used here is not the user's doing).
    let ours = |i: &Ident| Ident::new(&i.to_string(), i.span().resolved_at(Span::call_site()));
    let subject_expr = match &subject {
        Some(ident) => {
            let id = ours(ident);
            quote_spanned!(ident.span()=> #private::Some(#private::subject_of(&#id)))
        }
        None => quote!(#private::AMBIENT),
    };
    // The registry entry, in a block of its own inside the check's argument: one fixed name that
    // stacked attributes do not share, and no number that shifts when a function is added above.
    let site = Ident::new("__PRIVACY_SITE", Span::mixed_site());
    let marker = subject.as_ref().map(|s| quote!(; subject = #s));
    let site_ref = quote! {
        {
            #private::__privacy_site!(#site, #api, [#(#builtin),*], [#(#custom),*], [#(#scopes),*], #is_async #marker);
            &#site
        },
        #subject_expr
    };
    // Spanned at the return type, so "this type cannot carry a refusal" points there.
    let err = Ident::new("__privacy_error", ret_span);
    let refuse = respan(quote!(#private::refuse(#err)), ret_span);

    let check = match &args.degrade {
        None if is_async => quote! {
            if let #private::Err(#err) = #private::check_async(#site_ref).await {
                return #refuse;
            }
        },
        None => quote! {
            if let #private::Err(#err) = #private::check(#site_ref) {
                return #refuse;
            }
        },
        Some(path) => {
            let forwarded = forwarded.iter().map(ours);
            // `degrade = Self::f` and `degrade = f` name the same method.
            let mut path = path.clone();
            if path.segments.len() > 1 && path.segments.first().is_some_and(|s| s.ident == "Self") {
                path.segments = path.segments.into_iter().skip(1).collect();
            }
            let call = if func.sig.receiver().is_some() {
                // In an `#[async_trait]` body, `self` has been moved into async-trait's `__self`.
                let receiver = boxed
                    .as_ref()
                    .and_then(|stmts| async_trait_self(stmts))
                    .unwrap_or_else(|| Ident::new("self", Span::call_site()));
                quote_spanned!(path.span()=> Self::#path(#receiver, #(#forwarded),*))
            } else {
                quote_spanned!(path.span()=> #path(#(#forwarded),*))
            };
            let (call, check) = if is_async {
                (quote!(#call.await), quote!(#private::check_or_degrade_async(#site_ref).await))
            } else {
                (call, quote!(#private::check_or_degrade(#site_ref)))
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
    let guard = quote! {
        #tracked
        #check
    };
    // The check and the body's statements in one block: no block nested in a block, so nothing
    // for `unused_braces` to warn about in the user's code.
    let body = match boxed.as_mut().and_then(|stmts| boxed_async_block(stmts)) {
        Some(block) => {
            let own = std::mem::take(&mut block.stmts);
            let (items, own): (Vec<Stmt>, Vec<Stmt>) = split_leading_items(own);
            block.stmts = vec![Stmt::Expr(Expr::Verbatim(quote!(#(#items)* #guard #(#own)*)), None)];
            let stmts = boxed.unwrap_or_default();
            quote!(#(#stmts)*)
        }
        None => {
            let (inner, rest) = inner_attributes(&func.body);
            let (items, rest) = leading_items(rest);
            quote!(#inner #items #guard #rest)
        }
    };
    func.emit(Some(body))
}

/// The subject an earlier `#[privacy_scope]` on the same function took off its parameter, read
/// from the registry entry that attribute wrote at the start of the body.
fn subject_of_earlier_guard(body: &Group) -> Option<Ident> {
    fn scan(stream: TokenStream, depth: u8) -> Option<Ident> {
        let trees: Vec<TokenTree> = stream.into_iter().take(24).collect();
        for (i, tree) in trees.iter().enumerate() {
            match (tree, trees.get(i + 1), trees.get(i + 2)) {
                (TokenTree::Ident(name), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(args)))
                    if name == "__privacy_site" && bang.as_char() == '!' =>
                {
                    let inside: Vec<TokenTree> = args.stream().into_iter().collect();
                    return inside.windows(3).find_map(|w| match w {
                        [TokenTree::Ident(k), TokenTree::Punct(eq), TokenTree::Ident(subject)]
                            if k == "subject" && eq.as_char() == '=' =>
                        {
                            Some(subject.clone())
                        }
                        _ => None,
                    });
                }
                (TokenTree::Group(g), _, _) if depth > 0 => {
                    if let Some(found) = scan(g.stream(), depth - 1) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    }
    scan(body.stream(), 3)
}

/// Items are visible in the whole block: the body's leading ones go in front of the check, so
/// that a body starting with `use …;` or a nested `fn` does not read as items after statements.
/// Only a body that starts like an item is parsed.
fn leading_items(rest: TokenStream) -> (TokenStream, TokenStream) {
    const ITEM_STARTS: &[&str] = &[
        "use",
        "fn",
        "struct",
        "enum",
        "union",
        "const",
        "static",
        "impl",
        "trait",
        "type",
        "mod",
        "extern",
        "macro_rules",
        "pub",
    ];
    let starts_like_item = match rest.clone().into_iter().next() {
        Some(TokenTree::Ident(i)) => ITEM_STARTS.iter().any(|k| i == k),
        Some(TokenTree::Punct(p)) => p.as_char() == '#',
        _ => false,
    };
    if !starts_like_item {
        return (TokenStream::new(), rest);
    }
    match Block::parse_within.parse2(rest.clone()) {
        Ok(stmts) => {
            let (items, stmts) = split_leading_items(stmts);
            (quote!(#(#items)*), quote!(#(#stmts)*))
        }
        Err(_) => (TokenStream::new(), rest),
    }
}

/// The leading `Stmt::Item`s of `stmts`, and the rest.
fn split_leading_items(mut stmts: Vec<Stmt>) -> (Vec<Stmt>, Vec<Stmt>) {
    let n = stmts.iter().take_while(|s| matches!(s, Stmt::Item(_))).count();
    let rest = stmts.split_off(n);
    (stmts, rest)
}

/// async-trait's `let __self = self;` in the boxed block, when the method has a receiver.
fn async_trait_self(stmts: &[Stmt]) -> Option<Ident> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = stmts.last() else { return None };
    let Some(Expr::Async(a)) = call.args.first() else { return None };
    a.block.stmts.iter().find_map(|s| match s {
        Stmt::Local(syn::Local { pat: Pat::Ident(p), .. }) if p.ident == "__self" => Some(p.ident.clone()),
        _ => None,
    })
}

/// Checks the scopes against the guidelines file (or the catalog). Returns the tokens that make
/// the crate rebuild when the file changes, and the custom scopes.
fn check_against_file(args: &mut Args, private: &TokenStream) -> (TokenStream, Vec<syn::LitStr>) {
    let loaded = match config::load() {
        Ok(l) => l,
        Err(config::ConfigError(msg)) => {
            args.push_error(syn::Error::new(Span::call_site(), msg));
            None
        }
    };
    let mut tracked = TokenStream::new();
    let custom = match &loaded {
        Some(l) => {
            let (display, absolute) = (&l.display, &l.absolute);
            // Recompiles this crate whenever the file changes (once per crate is enough).
            if config::first_use_in_crate(absolute) {
                tracked = quote!(const _: &[u8] = #private::include_bytes!(#absolute););
            }
            match &l.file {
                Ok(file) => args.validate_scopes(Some((file, display))),
                Err(e) => {
                    args.push_error(syn::Error::new(
                        Span::call_site(),
                        format!("{}:{}:{}: {}", display, e.line, e.column, e.message),
                    ));
                    Vec::new()
                }
            }
        }
        None => args.validate_scopes(None),
    };
    let env_name = config::ENV;
    // Recompiles this crate whenever the variable that names the file changes.
    if config::first_use_in_crate(env_name) {
        tracked = quote!(#tracked const _: #private::Option<&str> = #private::option_env!(#env_name););
        // ... and whenever the manifest changes, which can name another file.
        if let Some(manifest) = config::manifest() {
            tracked = quote!(#tracked const _: &[u8] = #private::include_bytes!(#manifest););
        }
    }
    (tracked, custom)
}

/// `errors` (if any) followed by the item exactly as written.
fn with_errors(errors: Option<syn::Error>, item: TokenStream) -> TokenStream {
    let e = errors.map(syn::Error::into_compile_error);
    quote!(#e #item)
}

/// `true` when the function returns a `Pin<…>`: the boxed future of an `#[async_trait]` method.
fn returns_pin(sig: &Signature) -> bool {
    match &sig.output {
        ReturnType::Type(_, ty) => {
            matches!(unwrap_type(ty), Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Pin"))
        }
        ReturnType::Default => false,
    }
}

/// The type inside invisible groups (a `$t:ty` fragment of a `macro_rules!`) and parentheses.
fn unwrap_type(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => unwrap_type(&g.elem),
        Type::Paren(p) => unwrap_type(&p.elem),
        other => other,
    }
}

/// The block to check in, when the body's last statement is `Box::pin(async move { … })`, the
/// body that `#[async_trait]` gives a method: inside the `async move`, the block that async-trait
/// made of the method's own body (`let __ret: T = { … };`), which runs after the parameters are
/// moved into the future; or, without it, the `async move` block itself.
fn boxed_async_block(stmts: &mut [Stmt]) -> Option<&mut Block> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = stmts.last_mut() else { return None };
    let Expr::Path(f) = &*call.func else { return None };
    let mut segments = f.path.segments.iter().rev();
    let is_box_pin =
        segments.next().is_some_and(|s| s.ident == "pin") && segments.next().is_some_and(|s| s.ident == "Box");
    if !is_box_pin || call.args.len() != 1 {
        return None;
    }
    let Some(Expr::Async(a)) = call.args.first_mut() else { return None };
    let own = a.block.stmts.iter().position(|s| match s {
        Stmt::Local(l) => {
            let named_ret = match &l.pat {
                Pat::Type(t) => matches!(&*t.pat, Pat::Ident(i) if i.ident == "__ret"),
                Pat::Ident(i) => i.ident == "__ret",
                _ => false,
            };
            named_ret && l.init.as_ref().is_some_and(|i| matches!(&*i.expr, Expr::Block(_)))
        }
        _ => false,
    });
    match own {
        Some(i) => match &mut a.block.stmts[i] {
            Stmt::Local(syn::Local { init: Some(init), .. }) => match &mut *init.expr {
                Expr::Block(b) => Some(&mut b.block),
                _ => None,
            },
            _ => None,
        },
        None => Some(&mut a.block),
    }
}

/// `tokens` with every span set to `span`, so a type error in generated code points at the
/// user's tokens that caused it.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut ng = Group::new(g.delimiter(), respan(g.stream(), span));
                ng.set_span(span);
                tt = TokenTree::Group(ng);
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
fn check_return(sig: &Signature, args: &mut Args) -> Span {
    match &sig.output {
        ReturnType::Default => {
            args.push_error(syn::Error::new(
                sig.ident.span(),
                "a #[privacy_scope] function must return `Result<T, E>` with `E: From<PrivacyError>`, so a refused call can return its error",
            ));
            Span::call_site()
        }
        ReturnType::Type(_, ty) => {
            if !matches!(unwrap_type(ty), Type::Path(_)) {
                args.push_error(syn::Error::new_spanned(
                    ty,
                    "a #[privacy_scope] function must return `Result<T, E>` with `E: From<PrivacyError>`; this return type is not a `Result`",
                ));
            }
            ty.span()
        }
    }
}

/// Finds the `#[subject]` parameter and removes the attribute.
fn take_subject(sig: &mut Signature, args: &mut Args) -> Option<Ident> {
    let mut found: Option<Ident> = None;
    for input in &mut sig.inputs {
        let (attrs, pat) = match input {
            FnArg::Typed(t) => (&mut t.attrs, Some(&*t.pat)),
            FnArg::Receiver(r) => (&mut r.attrs, None),
        };
        let Some(pos) = attrs.iter().position(|a| a.path().is_ident("subject")) else { continue };
        let attr_span = attrs[pos].span();
        attrs.remove(pos);
        if let Some(cfg) = attrs.iter().find(|a| a.path().is_ident("cfg")) {
            args.push_error(syn::Error::new_spanned(
                cfg,
                "the #[subject] parameter cannot be conditional: without it the call has no user to check",
            ));
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
fn forwarded_args(sig: &Signature, args: &mut Args) -> Vec<Ident> {
    let mut out = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(t) = input {
            if let Some(cfg) = t.attrs.iter().find(|a| a.path().is_ident("cfg")) {
                args.push_error(syn::Error::new_spanned(
                    cfg,
                    "with `degrade`, a parameter cannot be conditional: it is passed to the fallback, which must take it whether or not it is compiled in",
                ));
                continue;
            }
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

/// `guidelines!()` and `guidelines!(crate = path)`: the guidelines file, checked, as constants.
pub fn guidelines(input: TokenStream) -> syn::Result<TokenStream> {
    let krate = if input.is_empty() {
        quote!(::privacy_runtime)
    } else {
        let parser = |stream: ParseStream<'_>| {
            stream.parse::<syn::Token![crate]>()?;
            stream.parse::<syn::Token![=]>()?;
            stream.parse::<syn::Path>()
        };
        let path = parser.parse2(input)?;
        quote!(#path)
    };
    let loaded = config::load().map_err(|config::ConfigError(msg)| syn::Error::new(Span::call_site(), msg))?;
    let Some(loaded) = loaded else {
        let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "no guidelines file: create {root}/privacy.toml (its format is in the privacy-runtime docs), \
                 name another in [package.metadata.privacy-runtime] guidelines, or build Guidelines with Guidelines::builder"
            ),
        ));
    };
    let (display, absolute) = (&loaded.display, &loaded.absolute);
    let file = match &loaded.file {
        Ok(f) => f,
        Err(e) => {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("{}:{}:{}: {}", display, e.line, e.column, e.message),
            ));
        }
    };
    let private = quote!(#krate::__private);
    let some = |v: Option<&String>| match v {
        Some(s) => quote!(#private::Some(#s)),
        None => quote!(#private::None),
    };
    let (url, text) = match &file.contract {
        Some(privacy_spec::file::FileContract::Url(u)) => (some(Some(u)), some(None)),
        Some(privacy_spec::file::FileContract::Text(t)) => (some(None), some(Some(t))),
        None => (some(None), some(None)),
    };
    let name = &file.contract_name;
    let buttons = &file.agree_buttons;
    let delay = match file.effect_delay_seconds {
        Some(s) => quote!(#private::Some(#s)),
        None => quote!(#private::None),
    };
    let banned = file.banned;
    let custom = file.custom_scopes.iter().map(|c| {
        let (id, zh, en, d) = (&c.id, &c.name_zh, &c.name_en, &c.description);
        quote!([#id, #zh, #en, #d])
    });
    let versions = file.versions.iter().map(|v| {
        let (at, fresh) = (v.published_at_millis, v.fresh_consent);
        let scopes = v.scopes.iter().map(|(id, purpose)| quote!((#id, #purpose)));
        quote!((#at, #fresh, &[#(#scopes),*]))
    });
    let env_name = config::ENV;
    Ok(quote! {{
        // Rebuilds when the file, or the variable that names it, changes.
        const _: &[u8] = #private::include_bytes!(#absolute);
        const _: #private::Option<&str> = #private::option_env!(#env_name);
        static GUIDELINES: #private::Compiled<'static> = #private::Compiled {
            contract_name: #name,
            contract_url: #url,
            contract_text: #text,
            agree_buttons: &[#(#buttons),*],
            effect_delay_seconds: #delay,
            banned: #banned,
            custom_scopes: &[#(#custom),*],
            versions: &[#(#versions),*],
        };
        #krate::Guidelines::__from_compiled(&GUIDELINES)
    }})
}
