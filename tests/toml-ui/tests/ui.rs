//! Diagnostics that depend on the guidelines file. The file is named by `PRIVACY_TOML`, relative
//! to the crate that trybuild compiles, so the fixtures are copied next to it.
//!
//! One test in this binary: it sets the process environment between runs.

use std::path::{Path, PathBuf};

fn project_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; trybuild builds in <target>/tests/trybuild/<crate>.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_path_buf();
    target.join("tests").join("trybuild").join(env!("CARGO_PKG_NAME"))
}

fn with_guidelines(file: &str, run: impl FnOnce()) {
    // SAFETY: this binary has a single test, so no other thread reads the environment meanwhile.
    unsafe { std::env::set_var("PRIVACY_TOML", file) };
    run();
    // SAFETY: as above.
    unsafe { std::env::remove_var("PRIVACY_TOML") };
}

#[test]
fn ui_with_a_guidelines_file() {
    let project = project_dir();
    std::fs::create_dir_all(&project).expect("trybuild project dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/fixtures");
    for (from, to) in [("privacy.toml", "ui-privacy.toml"), ("malformed.toml", "ui-malformed.toml")] {
        std::fs::copy(fixtures.join(from), project.join(to)).expect("fixture copied");
    }

    with_guidelines("ui-privacy.toml", || {
        let t = trybuild::TestCases::new();
        t.pass("ui/pass/*.rs");
        t.compile_fail("ui/fail/*.rs");
    });
    with_guidelines("ui-malformed.toml", || trybuild::TestCases::new().compile_fail("ui/malformed/*.rs"));
    // ui/files/<name>.rs against ui/fixtures/<name>.toml: each file breaks one rule the runtime
    // checks when the program starts.
    let mut cases: Vec<_> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/files"))
        .expect("ui/files")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    cases.sort();
    for case in cases {
        let name = case.file_stem().and_then(|s| s.to_str()).expect("case name").to_owned();
        let toml = format!("ui-{name}.toml");
        std::fs::copy(fixtures.join(format!("{name}.toml")), project.join(&toml)).expect("fixture copied");
        with_guidelines(&toml, || trybuild::TestCases::new().compile_fail(format!("ui/files/{name}.rs")));
    }
    with_guidelines("no-such-file.toml", || trybuild::TestCases::new().compile_fail("ui/missing/*.rs"));
}
