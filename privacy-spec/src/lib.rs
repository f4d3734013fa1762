//! The declarative side of `privacy-runtime`, shared by the `#[privacy_scope]` macro (which checks
//! scopes while compiling) and the runtime (which enforces them): the catalog of built-in privacy
//! types and the helpers that turn a misspelt id into a suggestion.
//!
//! Users never depend on this crate directly; `privacy-runtime` re-exports what they need.

pub mod catalog;
pub mod suggest;

pub use catalog::{BUILTIN_SCOPES, BuiltinScope, builtin_index};
pub use suggest::closest;
