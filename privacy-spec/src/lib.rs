//! The declarative side of `privacy-runtime`, shared by the `#[privacy_scope]` macro (which checks
//! scopes while compiling) and the runtime (which enforces them): the catalog of built-in privacy
//! types, the guidelines file format, and the helpers that turn a misspelt id into a suggestion.
//!
//! Users never depend on this crate directly; `privacy-runtime` re-exports what they need.

pub mod catalog;
pub mod file;
pub mod suggest;
pub mod time;

pub use catalog::{BUILTIN_SCOPES, BuiltinScope, builtin_index};
pub use file::{FileError, GuidelinesFile};
pub use suggest::closest;
