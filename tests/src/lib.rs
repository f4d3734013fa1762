//! Workspace-level tests live under `tests/`; this library holds guarded functions that the tests
//! reach only through the registry.

/// A module that nothing calls into.
pub mod unreferenced_in_library {
    use privacy_runtime::{PrivacyError, privacy_scope};

    /// Never called anywhere.
    #[privacy_scope("email", api = "library.neverCalled")]
    pub fn never_called(#[subject] user: &str) -> Result<(), PrivacyError> {
        let _ = user;
        Ok(())
    }
}
