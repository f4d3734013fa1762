//! Parsing and validating the attribute's arguments: one argument at a time, so that every
//! problem is reported at its own token and a bad argument never hides the others.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::Parse;
use syn::{LitStr, Path};

use privacy_spec::{BUILTIN_SCOPES, GuidelinesFile, builtin_index, closest};

const KEYS: &[&str] = &["api", "degrade", "crate"];

/// The attribute's arguments, validated.
#[derive(Default)]
pub struct Args {
    /// Scope literals, in order.
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

/// An error spanning `tokens` (from the first to the last).
fn spanned(tokens: &[TokenTree], message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new_spanned(tokens.iter().cloned().collect::<TokenStream>(), message)
}

impl Args {
    /// Reads the arguments. Never fails: every problem is recorded in `errors` at its token, and
    /// the arguments that could be read are kept.
    pub fn parse(input: TokenStream) -> Args {
        let mut args = Args::default();
        let mut segment: Vec<TokenTree> = Vec::new();
        let mut tokens = input.into_iter().peekable();
        loop {
            let next = tokens.next();
            match next {
                Some(TokenTree::Punct(p)) if p.as_char() == ',' => {
                    if segment.is_empty() {
                        push(&mut args.errors, syn::Error::new(p.span(), "expected an argument before this comma"));
                    } else {
                        args.argument(std::mem::take(&mut segment));
                    }
                }
                Some(tt) => segment.push(tt),
                None => {
                    if !segment.is_empty() {
                        args.argument(segment);
                    }
                    break;
                }
            }
        }
        args
    }

    /// One argument: a scope string or `key = value`.
    fn argument(&mut self, tokens: Vec<TokenTree>) {
        match tokens.as_slice() {
            [TokenTree::Literal(_)] => match syn::parse2::<LitStr>(tokens[0].to_token_stream()) {
                Ok(lit) => self.scope(lit),
                Err(_) => {
                    push(&mut self.errors, spanned(&tokens, "a scope must be a string literal such as \"location\""))
                }
            },
            [TokenTree::Ident(key), TokenTree::Punct(eq), value @ ..] if eq.as_char() == '=' => {
                let name = key.to_string();
                if value.is_empty() {
                    push(&mut self.errors, syn::Error::new(eq.span(), format!("`{name} =` needs a value")));
                    return;
                }
                if self.key_seen(&name) {
                    push(&mut self.errors, syn::Error::new(key.span(), format!("`{name}` is given twice")));
                    return;
                }
                match name.as_str() {
                    "api" => self.api = self.value(value, "a string such as \"getLocation\""),
                    "degrade" => self.degrade = self.value(value, "the path of a fallback function"),
                    "crate" => self.krate = self.value(value, "a path such as ::my_reexport"),
                    _ => {
                        let msg = match closest(&name, KEYS.iter().copied()) {
                            Some(k) => format!("unknown key `{name}`; did you mean `{k}`?"),
                            None => format!("unknown key `{name}`; the keys are {}", KEYS.join(", ")),
                        };
                        push(&mut self.errors, syn::Error::new(key.span(), msg));
                    }
                }
            }
            [TokenTree::Ident(key)] => {
                let name = key.to_string();
                let hint = match closest(&name, BUILTIN_SCOPES.iter().map(|s| s.id)) {
                    Some(id) => format!("a scope must be a string literal: write \"{id}\""),
                    None if KEYS.contains(&name.as_str()) => format!("`{name}` needs a value: `{name} = …`"),
                    None => format!("expected a scope string or `key = value`; keys are {}", KEYS.join(", ")),
                };
                push(&mut self.errors, syn::Error::new(key.span(), hint));
            }
            [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
                // A scope passed through a `macro_rules!` fragment.
                self.argument(g.stream().into_iter().collect());
            }
            _ if tokens.iter().all(|t| matches!(t, TokenTree::Literal(_))) => {
                let listed: Vec<String> = tokens.iter().map(ToString::to_string).collect();
                push(
                    &mut self.errors,
                    spanned(&tokens, format!("scopes are separated by commas: write {}", listed.join(", "))),
                );
            }
            _ => push(
                &mut self.errors,
                spanned(&tokens, "expected a scope string such as \"location\" or `key = value`"),
            ),
        }
    }

    /// The value of `key = value`, or `None` with the error recorded at the value.
    fn value<T: Parse>(&mut self, value: &[TokenTree], what: &str) -> Option<T> {
        let stream: TokenStream = value.iter().cloned().collect();
        match syn::parse2::<T>(stream) {
            Ok(v) => Some(v),
            Err(_) => {
                let hint = match value {
                    [TokenTree::Ident(i)] if what.starts_with("a string") => {
                        format!("expected {what}: write \"{i}\" with quotes")
                    }
                    _ => format!("expected {what}"),
                };
                push(&mut self.errors, spanned(value, hint));
                None
            }
        }
    }

    fn key_seen(&self, name: &str) -> bool {
        match name {
            "api" => self.api.is_some(),
            "degrade" => self.degrade.is_some(),
            "crate" => self.krate.is_some(),
            _ => false,
        }
    }

    fn scope(&mut self, lit: LitStr) {
        let id = lit.value();
        if self.scopes.iter().any(|s| s.value() == id) {
            push(&mut self.errors, syn::Error::new(lit.span(), format!("scope \"{id}\" is listed twice")));
            return;
        }
        self.scopes.push(lit);
    }

    /// Checks every scope against the catalog and, when there is one, the guidelines file, whose
    /// newest version decides (as it does at start-up). Returns the custom scopes.
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
                    (!f.newest_declares(&id)).then(|| not_declared(&id, f, path))
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
    if let Some((number, version)) = file.dropped_by(id) {
        return format!(
            "scope \"{id}\" was dropped by version {number} of the guidelines (published_at on line {} of {path}): \
             the newest version does not declare it, so once it is in effect calls fail with errno 112 \
             (api scope is not declared in the privacy agreement); declare it again in the newest version's \
             [versions.scopes] or remove it here",
            version.line
        );
    }
    let place = match file.newest_version_line() {
        Some(line) => {
            format!("to the [versions.scopes] table of the newest version (published_at on line {line}) of {path}")
        }
        None => format!("to a [[versions]] entry of {path}"),
    };
    format!(
        "scope \"{id}\" is not declared by the guidelines, so calls would fail with errno 112 \
         (api scope is not declared in the privacy agreement); add `{id} = \"<why you collect it>\"` {place}"
    )
}
