// The attribute stacked with other attributes and with itself, and on two functions in one scope.
use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
#[privacy_scope("werun")]
fn both(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

#[must_use = "check it"]
#[privacy_scope("camera")]
#[allow(unused_variables)]
fn first(#[subject] user: &str) -> Result<(), PrivacyError> {
    Ok(())
}

#[privacy_scope("camera")]
fn second(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    fn local() -> Result<(), PrivacyError> {
        #[privacy_scope("email")]
        fn nested(#[subject] user: u32) -> Result<(), PrivacyError> {
            let _ = user;
            Ok(())
        }
        nested(1)
    }
    let _ = both("u");
    let _ = first("u");
    let _ = second("u");
    let _ = local();
    // Both stacked attributes registered their own entry.
    let apis = privacy_runtime::apis();
    assert_eq!(apis.iter().filter(|s| s.api() == "both").count(), 2);
}
