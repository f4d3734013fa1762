use privacy_runtime::{privacy_scope, PrivacyError};

// A conditional parameter cannot be forwarded to a fallback, and a conditional subject would
// leave the call without a user: both are refused at the #[cfg].
#[privacy_scope("user_info", degrade = as_text)]
fn nickname(#[subject] user: &str, #[cfg(any())] hint: &str) -> Result<String, PrivacyError> {
    Ok(user.to_owned())
}

fn as_text(user: &str) -> Result<String, PrivacyError> {
    Ok(user.to_owned())
}

#[privacy_scope("location")]
fn locate(#[cfg(all())] #[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    let _ = nickname("u1");
    let _ = locate("u1");
}
