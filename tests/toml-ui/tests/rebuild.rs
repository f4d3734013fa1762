//! Editing `privacy.toml` rebuilds the crate that reads it: a plain `cargo build` after dropping a
//! scope reports the scope, and restoring the file builds again.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

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
    let g = privacy_runtime::guidelines!().expect("guidelines load");
    println!("{} {:?} {:?}", g.contract_name(), locate("u").is_err(), steps("u").is_err());
}
"#;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Writes `text` and moves its mtime past anything a build wrote, so no clock granularity hides
/// the edit.
fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    let f = std::fs::File::options().write(true).open(path).expect("open");
    f.set_modified(SystemTime::now() + Duration::from_secs(2)).expect("set mtime");
}

fn build(dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("PRIVACY_TOML")
        .output()
        .expect("cargo runs");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn dropping_a_scope_from_privacy_toml_fails_the_next_build() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rebuild-probe");
    std::fs::create_dir_all(dir.join("src")).expect("probe dir");
    let runtime = workspace().join("privacy-runtime");
    let manifest = format!(
        "[package]\nname = \"rebuild-probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nprivacy-runtime = {{ path = {:?} }}\n\n[workspace]\n",
        runtime.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
    let _ = std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock"));
    std::fs::write(dir.join("src/main.rs"), MAIN).expect("main.rs");
    let toml = dir.join("privacy.toml");

    write(&toml, GUIDELINES);
    let (ok, stderr) = build(&dir);
    assert!(ok, "the declared crate builds:\n{stderr}");

    write(&toml, &GUIDELINES.replace("werun = \"to rank your steps\"\n", ""));
    let (ok, stderr) = build(&dir);
    assert!(!ok, "dropping werun must fail the build");
    assert!(stderr.contains("scope \"werun\" is not declared by any version"), "{stderr}");
    assert!(stderr.contains("errno 112"), "{stderr}");
    assert!(stderr.contains("privacy.toml"), "{stderr}");
    assert!(!stderr.contains("\"location\" is not declared"), "only werun is reported:\n{stderr}");

    write(&toml, GUIDELINES);
    let (ok, stderr) = build(&dir);
    assert!(ok, "restored, the crate builds again:\n{stderr}");
}
