use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
fn f(#[subject] user: &str, #[subject] other: &str) -> Result<(), PrivacyError> {
    let _ = (user, other);
    Ok(())
}

fn main() {}
