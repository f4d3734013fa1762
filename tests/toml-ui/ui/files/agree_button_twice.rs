use privacy_runtime::{privacy_scope, PrivacyError};

// What the runtime would refuse when the program starts is refused while compiling, at its
// place in the file.
#[privacy_scope("location")]
fn f(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    let _ = f("u1");
}
