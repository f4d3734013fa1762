//! The fuzz target's checks (fuzz/src/oracle.rs) over its corpus and over inputs that once broke
//! a promise: whatever the compile-time check of a guidelines file accepts, the runtime accepts
//! and builds the same way, and no input panics or wraps.

#[path = "../../fuzz/src/oracle.rs"]
mod oracle;

use std::path::Path;

#[test]
fn every_corpus_file_keeps_the_promises() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/guidelines_file");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracle::check(text);
            seen += 1;
        }
    }
    assert!(seen >= 10, "the corpus at {} has only {seen} files", dir.display());
}

#[test]
fn inputs_that_once_broke_a_promise() {
    let base = "contract_name = \"x\"\n";
    for text in [
        // A publish time past the calendar: a panic in debug builds, a wrong time in release.
        format!("{base}[[versions]]\npublished_at = \"300000000-07-11T00:00:00Z\"\n"),
        // A delay that overflowed the time it takes effect.
        format!("{base}effect_delay_seconds = 9223372036854775807\n"),
        // More custom scopes than a scope set holds: compiled, then refused at start-up.
        (0..=100)
            .fold(base.to_owned(), |s, i| s + &format!("[custom_scopes.c{i}]\nname_zh = \"z\"\nname_en = \"e\"\n")),
        // An agree button twice and an empty one.
        format!("{base}agree_buttons = [\"a\", \"a\"]\n"),
        format!("{base}agree_buttons = [\"\"]\n"),
        // The latest publish time with the longest delay.
        format!(
            "{base}effect_delay_seconds = 31622400\n[[versions]]\npublished_at = 9997-12-31T23:59:59.999Z\n[versions.scopes]\nwerun = \"\"\n"
        ),
    ] {
        oracle::check(&text);
    }
}
