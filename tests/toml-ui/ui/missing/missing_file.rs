use privacy_runtime::{privacy_scope, PrivacyError};

// PRIVACY_TOML names a file that does not exist.
#[privacy_scope("location")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {}
