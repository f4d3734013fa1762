//! The quickstart's privacy manifest, read back from its `--manifest` output.

use std::process::Command;

use privacy_runtime::Manifest;

fn run(arg: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart")).arg(arg).output().expect("quickstart runs");
    (out.status.success(), String::from_utf8(out.stdout).expect("utf-8 output"))
}

#[test]
fn json_manifest_lists_each_scope_with_its_apis() {
    let (ok, json) = run("--manifest");
    assert!(ok, "{json}");
    let m: Manifest = serde_json::from_str(&json).expect("the manifest parses back");
    assert_eq!(m.contract_name, "《示例小程序隐私保护指引》");
    let ids: Vec<&str> = m.scopes.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["chosen_location", "werun"]);

    let loc = &m.scopes[0];
    assert_eq!(loc.name_zh, "收集你选择的位置信息");
    assert_eq!(loc.privacy_key.as_deref(), Some("ChooseLocation"));
    assert_eq!(loc.declared_in_version, Some(1));
    assert_eq!(loc.purpose.as_deref(), Some("to show shops near the place you pick"));
    assert_eq!(loc.apis.len(), 1);
    assert_eq!(loc.apis[0].api, "chooseLocation");
    assert_eq!(loc.apis[0].module, "quickstart");
    assert!(loc.apis[0].file.ends_with("main.rs"));

    let run = &m.scopes[1];
    assert_eq!(run.declared_in_version, Some(2));
    assert_eq!(run.declared_at.map(|t| t.to_string()).as_deref(), Some("2023-07-13T00:00:00Z"));
    assert_eq!(run.apis[0].api, "getWeRunData");

    assert!(m.declared_but_unused.is_empty());
    assert!(m.used_but_undeclared.is_empty());
}

#[test]
fn markdown_manifest_has_a_row_a_scope() {
    let (ok, md) = run("--manifest=markdown");
    assert!(ok, "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| 收集")).collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(rows[1].contains("`werun`") && rows[1].contains("`getWeRunData`"), "{}", rows[1]);
}

#[test]
fn unknown_flag_is_refused_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart")).arg("--manifset").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: quickstart"));
}

#[test]
fn the_walkthrough_reaches_every_step() {
    let dir = std::env::temp_dir().join(format!("quickstart-walkthrough-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let db = dir.join("consent.db");
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart")).arg("--db").arg(&db).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    // The ledger outlives the walkthrough: `receipt` reads it back from the file.
    let receipt = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .args(["--db".as_ref(), db.as_os_str(), "receipt".as_ref(), "o6_bmjrPTlm6_2sgVt7hMZOPfL2M".as_ref()])
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(receipt.status.success(), "{}", String::from_utf8_lossy(&receipt.stderr));
    let receipt: serde_json::Value = serde_json::from_slice(&receipt.stdout).expect("the receipt is JSON");
    assert_eq!(receipt["state"], "withdrawn", "{receipt}");
    assert_eq!(receipt["consent"]["button_id"], "agree-btn", "{receipt}");
    assert!(text.contains("chooseLocation -> ok"), "{text}");
    assert!(text.contains("getWeRunData:fail privacy permission is not authorized\",\"errno\":104"), "{text}");
    assert!(text.contains("[onNeedPrivacyAuthorization] referrer = getWeRunData"), "{text}");
    assert_eq!(text.matches("\"event\":\"cleared\"").count(), 1, "{text}");
}
