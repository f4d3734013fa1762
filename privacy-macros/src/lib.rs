//! The `#[privacy_scope]` attribute. Use it through `privacy-runtime`, which re-exports it.
use proc_macro::TokenStream;

/// Placeholder until the attribute lands.
#[proc_macro_attribute]
pub fn privacy_scope(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
