// `crate = path` for users who re-export the runtime under another name.
mod reexport {
    pub use privacy_runtime as privacy;
}

use privacy_runtime::privacy_scope;

#[privacy_scope("location", crate = crate::reexport::privacy)]
fn renamed(#[subject] user: &str) -> Result<(), privacy_runtime::PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    let _ = renamed("u");
}
