use privacy_runtime::{privacy_scope, PrivacyError};

// loyalty_card is a custom scope of the file, but no version declares it.
#[privacy_scope("loyalty_card")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {}
