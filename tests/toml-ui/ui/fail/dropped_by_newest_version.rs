use privacy_runtime::{privacy_scope, PrivacyError};

// The first version declares phone_number, the newest does not: the newest version decides, as
// it does when the program starts, and the error names the version that dropped it.
#[privacy_scope("location", "phone_number")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    let _ = f("u1");
}
