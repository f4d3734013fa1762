use privacy_runtime::{privacy_scope, PrivacyError};

// A type error in the body points at the user's code, not at the attribute.
#[privacy_scope("location")]
fn f(#[subject] user: &str) -> Result<u8, PrivacyError> {
    let _ = user;
    Ok("not a number")
}

fn main() {
    // The call finds the function: the only error is the body's.
    let _ = f("u1");
}
