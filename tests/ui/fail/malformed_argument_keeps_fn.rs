use privacy_runtime::{privacy_scope, PrivacyError};

// A malformed argument is reported at its token; the function is still there, so its callers
// report nothing of their own.
#[privacy_scope("location", api = getLocation)]
fn get_location(#[subject] user: &str) -> Result<(f64, f64), PrivacyError> {
    let _ = user;
    Ok((0.0, 0.0))
}

fn main() {
    let _ = get_location("u1");
}
