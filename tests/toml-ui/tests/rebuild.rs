//! Editing `privacy.toml` rebuilds the crate that reads it: a plain `cargo build` after dropping a
//! scope reports the scope, and restoring the file builds again.

use std::path::Path;

use privacy_toml_ui::{cargo_build, write_later, write_probe};

const GUIDELINES: &str = r#"contract_name = "《重建测试隐私保护指引》"
agree_buttons = ["agree-btn"]

[[versions]]
published_at = 2023-07-11T00:00:00Z
[versions.scopes]
location = "to find shops nearby"
werun = "to rank your steps"
"#;

const MAIN: &str = r#"use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
fn locate(#[subject] user: &str) -> Result<(), PrivacyError> {
    let _ = user;
    Ok(())
}

#[privacy_scope("werun", api = "getWeRunData")]
fn steps(#[subject] user: &str) -> Result<u32, PrivacyError> {
    let _ = user;
    Ok(1)
}

fn main() {
    let g = privacy_runtime::guidelines!();
    println!("{} {:?} {:?}", g.contract_name(), locate("u").is_err(), steps("u").is_err());
}
"#;

#[test]
fn dropping_a_scope_from_privacy_toml_fails_the_next_build() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rebuild-probe");
    write_probe(&dir, "rebuild-probe", MAIN, Some(GUIDELINES)).expect("probe written");
    let toml = dir.join("privacy.toml");
    let build = |dir: &Path| {
        let (ok, stderr, _) = cargo_build(dir).expect("cargo runs");
        (ok, stderr)
    };

    let (ok, stderr) = build(&dir);
    assert!(ok, "the declared crate builds:\n{stderr}");

    write_later(&toml, &GUIDELINES.replace("werun = \"to rank your steps\"\n", "")).expect("edit");
    let (ok, stderr) = build(&dir);
    assert!(!ok, "dropping werun must fail the build");
    assert!(stderr.contains("scope \"werun\" is not declared by the guidelines"), "{stderr}");
    assert!(stderr.contains("errno 112"), "{stderr}");
    assert!(stderr.contains("privacy.toml"), "{stderr}");
    assert!(!stderr.contains("\"location\" is not declared"), "only werun is reported:\n{stderr}");

    write_later(&toml, GUIDELINES).expect("restore");
    let (ok, stderr) = build(&dir);
    assert!(ok, "restored, the crate builds again:\n{stderr}");
}
