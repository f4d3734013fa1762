use privacy_runtime::{privacy_scope, PrivacyError};

// Every malformed argument is reported at its own token, all of them at once.
#[privacy_scope("location", api = , degrade = 3, "werun" "camera", crate, , api = "x")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    let _ = f("u1");
}
