use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    let _ = privacy_runtime::guidelines!();
}
