//! Compile-time diagnostics (one case a diagnostic, each pinned in a `.stderr`) and every
//! function shape the attribute accepts. The snapshots belong to the toolchain pinned in
//! rust-toolchain.toml.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
