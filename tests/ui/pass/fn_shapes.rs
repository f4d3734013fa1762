// Sync and async free functions of every visibility, unsafe and extern fns.
use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
pub fn public(#[subject] user: &str) -> Result<u8, PrivacyError> {
    let _ = user;
    Ok(1)
}

#[privacy_scope("location")]
pub(crate) async fn crate_visible(#[subject] user: String) -> Result<u8, PrivacyError> {
    let _ = user;
    Ok(2)
}

mod inner {
    #[privacy_scope("camera", "microphone")]
    pub(super) fn in_module(#[subject] id: u64) -> Result<(), privacy_runtime::PrivacyError> {
        let _ = id;
        Ok(())
    }
    use privacy_runtime::privacy_scope;
}

#[privacy_scope("clipboard")]
unsafe fn dangerous() -> Result<(), PrivacyError> {
    Ok(())
}

#[privacy_scope("clipboard")]
extern "C" fn c_abi() -> Result<(), PrivacyError> {
    Ok(())
}

/// Docs stay.
#[privacy_scope("address", api = "chooseAddress")]
#[inline]
#[allow(clippy::needless_return)]
fn with_docs_and_attrs() -> Result<(), PrivacyError> {
    return Ok(());
}

fn main() {
    let _ = public("u");
    let _ = crate_visible(String::new());
    let _ = inner::in_module(1);
    let _ = unsafe { dangerous() };
    let _ = c_abi();
    let _ = with_docs_and_attrs();
}
