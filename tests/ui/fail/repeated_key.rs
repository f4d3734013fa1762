use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location", api = "getLocation", api = "getFuzzyLocation")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {}
