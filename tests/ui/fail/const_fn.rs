use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
const fn f() -> Result<(), PrivacyError> {
    Ok(())
}

fn main() {}
