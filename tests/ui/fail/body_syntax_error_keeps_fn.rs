use privacy_runtime::{privacy_scope, PrivacyError};

// A body that does not parse: the compiler reports the body's own error, and the call below
// still finds the function.
#[privacy_scope("location")]
fn get_location(#[subject] user: &str) -> Result<(f64, f64), PrivacyError> {
    let _ = user;
    let x = ;
    Ok((0.0, 0.0))
}

fn main() {
    let _ = get_location("u1");
}
