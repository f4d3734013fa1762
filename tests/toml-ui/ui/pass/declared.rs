// Built-in and custom scopes that the guidelines file declares, and the file compiled in.
use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
fn locate(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

#[privacy_scope("health_record", api = "readHealthRecord")]
fn health(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

fn main() {
    let guidelines = privacy_runtime::guidelines!();
    assert_eq!(guidelines.contract_name(), "《界面测试隐私保护指引》");
    let report = privacy_runtime::undeclared_scopes(&guidelines, &privacy_runtime::apis());
    assert!(report.is_empty(), "{report:?}");
    let _ = (locate("u"), health("u"));
}
