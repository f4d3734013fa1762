//! The declarative side of `privacy-runtime`, shared by the `#[privacy_scope]` macro (which checks
//! scopes while compiling) and the runtime (which enforces them): the catalog of built-in privacy
//! types, the rules guidelines follow, the guidelines file format (feature `file`), and the
//! helpers that turn a misspelt id into a suggestion.
//!
//! Users never depend on this crate directly; `privacy-runtime` re-exports what they need.

pub mod catalog;
#[cfg(feature = "file")]
pub mod file;
pub mod rules;
pub mod suggest;
pub mod time;

pub use catalog::{BUILTIN_SCOPES, BuiltinScope, builtin_index};
#[cfg(feature = "file")]
pub use file::{FileError, GuidelinesFile};
pub use suggest::closest;
