//! The `#[privacy_scope]` attribute of `privacy-runtime`.
//!
//! This crate parses and validates; the runtime decides. Depend on `privacy-runtime`, which
//! re-exports the attribute and documents it.

mod args;
mod config;
mod expand;

use proc_macro::TokenStream;

/// Declares that a function touches personal data of the named scopes, and checks the caller's
/// consent before its body runs. See the `privacy-runtime` crate for the full documentation.
#[proc_macro_attribute]
pub fn privacy_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::privacy_scope(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The crate's guidelines file, compiled into the binary: the same file `#[privacy_scope]`
/// checks. Expands to a `Result<Guidelines, GuidelinesError>`. See the `privacy-runtime` crate.
#[proc_macro]
pub fn guidelines(input: TokenStream) -> TokenStream {
    expand::guidelines(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
