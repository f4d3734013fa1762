use privacy_runtime::{privacy_scope, PrivacyError};

struct Session;

#[privacy_scope("location")]
fn f(#[subject] session: Session) -> Result<(), PrivacyError> {
    let _ = session;
    Ok(())
}

fn main() {}
