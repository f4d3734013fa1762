//! What the compile-time check against `privacy.toml` costs: the build time of a crate with 200
//! annotated functions, with its guidelines file against the same crate without one.
//!
//! ```text
//! cargo bench -p privacy-toml-ui --bench build_time
//! python3 .ci/bench-report
//! ```
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};

const FUNCTIONS: usize = 200;
const SCOPES: [&str; 4] = ["location", "chosen_location", "werun", "phone_number"];

const GUIDELINES: &str = r#"contract_name = "《构建基准隐私保护指引》"
agree_buttons = ["agree-btn"]

[[versions]]
published_at = 2023-07-11T00:00:00Z
[versions.scopes]
location = "to find shops nearby"
chosen_location = "to show the place you pick"
werun = "to rank your steps"
phone_number = "to send delivery updates"
"#;

fn source() -> String {
    let mut s = String::from("use privacy_runtime::{privacy_scope, PrivacyError};\n\n");
    for i in 0..FUNCTIONS {
        let scope = SCOPES[i % SCOPES.len()];
        s += &format!(
            "#[privacy_scope(\"{scope}\", api = \"api{i}\")]\npub fn api{i}(#[subject] user: &str, x: u64) -> Result<u64, PrivacyError> {{\n    let _ = user;\n    Ok(x.wrapping_mul({i}))\n}}\n\n"
        );
    }
    s += "fn main() {\n    println!(\"{}\", privacy_runtime::apis().len());\n}\n";
    s
}

fn probe(name: &str, with_file: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(dir.join("src")).expect("probe dir");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nprivacy-runtime = {{ path = {:?} }}\n\n[workspace]\n",
        workspace.join("privacy-runtime").display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
    let _ = std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock"));
    std::fs::write(dir.join("src/main.rs"), source()).expect("source");
    let toml = dir.join("privacy.toml");
    if with_file {
        std::fs::write(&toml, GUIDELINES).expect("guidelines");
    } else {
        let _ = std::fs::remove_file(&toml);
    }
    assert!(build(&dir).is_some(), "{name} builds");
    dir
}

/// Rebuilds the probe crate (not its dependencies) and returns the wall time.
fn build(dir: &Path) -> Option<Duration> {
    let main = dir.join("src/main.rs");
    let f = std::fs::File::options().write(true).open(&main).ok()?;
    f.set_modified(SystemTime::now()).ok()?;
    let start = Instant::now();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("PRIVACY_TOML")
        .status()
        .ok()?;
    status.success().then(|| start.elapsed())
}

fn build_time(c: &mut Criterion) {
    let without = probe("build-probe-catalog-only", false);
    let with = probe("build-probe-privacy-toml", true);
    let mut g = c.benchmark_group("build_200_fns");
    g.sample_size(20);
    // Each timed build follows an untimed build of the other crate, so both variants run under
    // the same conditions (caches, clock, background load) instead of one after the other.
    g.bench_function("catalog_only", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    build(&with).expect("build");
                    build(&without).expect("build")
                })
                .sum()
        })
    });
    g.bench_function("with_privacy_toml", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    build(&without).expect("build");
                    build(&with).expect("build")
                })
                .sum()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(40)).warm_up_time(Duration::from_secs(3));
    targets = build_time
}
criterion_main!(benches);
