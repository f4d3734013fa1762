use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("user_info", degrade = as_plain_text)]
fn nickname(#[subject] user: &str, typed: String) -> Result<String, PrivacyError> {
    let _ = user;
    Ok(typed)
}

fn main() {}
