//! What the compile-time check against `privacy.toml` costs: the build time of a crate with 200
//! annotated functions, with its guidelines file against the same crate without one.
//!
//! ```text
//! cargo bench -p privacy-toml-ui --bench build_time
//! python3 .ci/bench-report
//! ```
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use privacy_toml_ui::{cargo_build, touch, write_probe};

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
    write_probe(&dir, name, &source(), with_file.then_some(GUIDELINES)).expect("probe written");
    assert!(build(&dir).is_some(), "{name} builds");
    dir
}

/// Rebuilds the probe crate (not its dependencies) and returns the wall time.
fn build(dir: &Path) -> Option<Duration> {
    touch(&dir.join("src/main.rs"), SystemTime::now()).ok()?;
    let (ok, _, took) = cargo_build(dir).ok()?;
    ok.then_some(took)
}

fn build_time(c: &mut Criterion) {
    let without = probe("build-probe-catalog-only", false);
    let with = probe("build-probe-privacy-toml", true);
    let mut g = c.benchmark_group("build_200_fns");
    g.sample_size(20);
    // Each timed build follows an untimed build of the other crate, so both variants run under
    // the same conditions (caches, clock, background load) instead of one after the other.
    let interleaved = |untimed: &Path, timed: &Path, iters: u64| -> Duration {
        (0..iters)
            .map(|_| {
                build(untimed).expect("build");
                build(timed).expect("build")
            })
            .sum()
    };
    g.bench_function("catalog_only", |b| b.iter_custom(|iters| interleaved(&with, &without, iters)));
    g.bench_function("with_privacy_toml", |b| b.iter_custom(|iters| interleaved(&without, &with, iters)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(40)).warm_up_time(Duration::from_secs(3));
    targets = build_time
}
criterion_main!(benches);
