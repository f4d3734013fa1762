use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location", "werun")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {}
