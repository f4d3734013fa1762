//! Parsing and validating the attribute's arguments.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Path, Token};

use privacy_spec::{BUILTIN_SCOPES, GuidelinesFile, builtin_index, closest};

const KEYS: &[&str] = &["api", "degrade", "crate"];

/// The attribute's arguments, validated.
pub struct Args {
    /// Scope literals, in order; all of them valid built-in ids.
    pub scopes: Vec<LitStr>,
    pub api: Option<LitStr>,
    pub degrade: Option<Path>,
    pub krate: Option<Path>,
    /// Every problem found, reported together.
    pub errors: Option<syn::Error>,
}

fn push(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args { scopes: Vec::new(), api: None, degrade: None, krate: None, errors: None };
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                args.check_scope(&lit, &mut seen);
                args.scopes.push(lit);
            } else if input.peek(Ident) || input.peek(Token![crate]) {
                let key: Ident = if input.peek(Token![crate]) {
                    let k: Token![crate] = input.parse()?;
                    Ident::new("crate", k.span)
                } else {
                    input.parse()?
                };
                if !input.peek(Token![=]) {
                    let hint = match closest(&key.to_string(), BUILTIN_SCOPES.iter().map(|s| s.id)) {
                        Some(id) => format!("a scope must be a string literal: write \"{id}\""),
                        None => format!("expected a scope string or `key = value`; keys are {}", KEYS.join(", ")),
                    };
                    push(&mut args.errors, syn::Error::new(key.span(), hint));
                    skip_to_comma(input)?;
                    continue;
                }
                input.parse::<Token![=]>()?;
                let name = key.to_string();
                if args.key_seen(&name) {
                    push(&mut args.errors, syn::Error::new(key.span(), format!("`{name}` is given twice")));
                }
                match name.as_str() {
                    "api" => {
                        args.api = Some(parse_or_record(input, &mut args.errors, "a string such as \"getLocation\"")?)
                    }
                    "degrade" => {
                        args.degrade =
                            Some(parse_or_record(input, &mut args.errors, "the path of a fallback function")?)
                    }
                    "crate" => {
                        args.krate = Some(parse_or_record(input, &mut args.errors, "a path such as ::my_reexport")?)
                    }
                    _ => {
                        let msg = match closest(&name, KEYS.iter().copied()) {
                            Some(k) => format!("unknown key `{name}`; did you mean `{k}`?"),
                            None => format!("unknown key `{name}`; the keys are {}", KEYS.join(", ")),
                        };
                        push(&mut args.errors, syn::Error::new(key.span(), msg));
                        skip_to_comma(input)?;
                    }
                }
            } else {
                let bad: proc_macro2::TokenTree = input.parse()?;
                push(
                    &mut args.errors,
                    syn::Error::new_spanned(&bad, "a scope must be a string literal such as \"location\""),
                );
                skip_to_comma(input)?;
                continue;
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

fn unknown<'a>(id: &str, known: impl Iterator<Item = &'a str>, file: Option<&str>) -> String {
    let known: Vec<&str> = known.collect();
    let custom = match file {
        Some(path) => format!("; a custom scope must be declared under [custom_scopes] in {path}"),
        None => "; custom scopes need a privacy.toml that declares them".to_owned(),
    };
    match closest(id, known.iter().copied()) {
        Some(s) => format!("unknown privacy scope \"{id}\"; did you mean \"{s}\"?"),
        None => format!("unknown privacy scope \"{id}\"; the known scopes are: {}{custom}", known.join(", ")),
    }
}

fn not_declared(id: &str, file: &GuidelinesFile, path: &str) -> String {
    let place = match file.newest_version_line() {
        Some(line) => {
            format!("to the [versions.scopes] table of the newest version (published_at on line {line}) of {path}")
        }
        None => format!("to a [[versions]] entry of {path}"),
    };
    format!(
        "scope \"{id}\" is not declared by any version of the guidelines, so calls would fail with errno 112 \
         (api scope is not declared in the privacy agreement); add `{id} = \"<why you collect it>\"` {place}"
    )
}

fn parse_or_record<T: Parse>(input: ParseStream<'_>, errors: &mut Option<syn::Error>, what: &str) -> syn::Result<T> {
    input.parse::<T>().map_err(|e| {
        let e = syn::Error::new(e.span(), format!("expected {what}"));
        push(errors, e.clone());
        e
    })
}

fn skip_to_comma(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

impl Args {
    fn key_seen(&self, name: &str) -> bool {
        match name {
            "api" => self.api.is_some(),
            "degrade" => self.degrade.is_some(),
            "crate" => self.krate.is_some(),
            _ => false,
        }
    }

    fn check_scope(&mut self, lit: &LitStr, seen: &mut Vec<String>) {
        let id = lit.value();
        if seen.contains(&id) {
            push(&mut self.errors, syn::Error::new(lit.span(), format!("scope \"{id}\" is listed twice")));
            return;
        }
        seen.push(id);
    }

    /// Checks every scope against the catalog and, when there is one, the guidelines file.
    /// Returns the custom scopes (declared by the file).
    pub fn validate_scopes(&mut self, file: Option<(&GuidelinesFile, &str)>) -> Vec<LitStr> {
        let mut custom = Vec::new();
        for lit in self.scopes.clone() {
            let id = lit.value();
            let builtin = builtin_index(&id).is_some();
            let error = match file {
                None if builtin => None,
                None => Some(unknown(&id, BUILTIN_SCOPES.iter().map(|s| s.id), None)),
                Some((f, path)) if builtin || f.is_custom(&id) => {
                    if !builtin {
                        custom.push(lit.clone());
                    }
                    (!f.declares(&id)).then(|| not_declared(&id, f, path))
                }
                Some((f, path)) => Some(unknown(&id, f.known_ids(), Some(path))),
            };
            if let Some(msg) = error {
                push(&mut self.errors, syn::Error::new(lit.span(), msg));
            }
        }
        custom
    }

    /// Adds the error for an empty scope list.
    pub fn require_scopes(&mut self, span: Span) {
        if self.scopes.is_empty() && self.errors.is_none() {
            push(
                &mut self.errors,
                syn::Error::new(
                    span,
                    "#[privacy_scope] needs at least one scope, such as #[privacy_scope(\"location\")]",
                ),
            );
        }
    }

    pub fn push_error(&mut self, e: syn::Error) {
        push(&mut self.errors, e);
    }
}
