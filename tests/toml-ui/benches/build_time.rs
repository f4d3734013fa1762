//! What `#[privacy_scope]` costs at build time, against `#[tracing::instrument]`: the rebuild of a
//! library crate of 1,000 functions (500 sync, 500 `async`, one-line bodies, the same signatures
//! throughout) in three variants that differ only in the attribute on each function:
//!
//! - `bare`: no attribute;
//! - `tracing`: `#[tracing::instrument(skip_all)]`;
//! - `privacy`: `#[privacy_scope("…")]` with `#[subject]` on the user parameter, the scope rotating
//!   among four built-in ids that the crate's `privacy.toml` declares, so the check against the
//!   file is part of what is measured.
//!
//! Target: a rebuild of `privacy` takes at most half the time of `tracing`.
//!
//! Each crate depends on `privacy-runtime` (for `PrivacyError`; the `tracing` one on `tracing`
//! too) and has the same `privacy.toml`. It is built once before measuring (its dependencies with
//! it, in a target directory the variants share), then rebuilt in the debug profile by touching its
//! `src/lib.rs`: one `cargo build --offline` per rebuild, timed from outside.
//!
//! The rebuilds go in rounds of bare, tracing, privacy, so every rebuild follows one of another
//! variant and all three run under the same conditions: a change in the machine's load over the
//! run reaches all three alike instead of the one measured at that moment. 30 rounds after one
//! that is not counted (about two and a half minutes here, once the probes' dependencies are
//! built); `-- --rounds N` for another number. The medians go to
//! `target/criterion/build_1000_fns/report.json` for `.ci/bench-report`.
//!
//! The cost of the file check alone (the same crate with and without `privacy.toml`, which this
//! bench measured before, at 200 functions) is left out: it would take a fourth rebuild a round, a
//! third more time, for a difference that measurement put within a rebuild's run-to-run spread.
//!
//! ```text
//! cargo bench -p privacy-toml-ui --bench build_time
//! python3 .ci/bench-report
//! ```
#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use privacy_toml_ui::{cargo_build_in, touch, write_crate};

const FUNCTIONS: usize = 1000;
const ROUNDS: usize = 30;
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

#[derive(Clone, Copy)]
enum Variant {
    Bare,
    Tracing,
    Privacy,
}

/// The order of a round.
const VARIANTS: [Variant; 3] = [Variant::Bare, Variant::Tracing, Variant::Privacy];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "bare",
            Variant::Tracing => "tracing",
            Variant::Privacy => "privacy",
        }
    }

    fn source(self) -> String {
        let privacy = matches!(self, Variant::Privacy);
        let mut s = String::from(if privacy {
            "use privacy_runtime::{PrivacyError, privacy_scope};\n"
        } else {
            "use privacy_runtime::PrivacyError;\n"
        });
        for i in 0..FUNCTIONS {
            let attribute = match self {
                Variant::Bare => String::new(),
                Variant::Tracing => "#[tracing::instrument(skip_all)]\n".to_owned(),
                Variant::Privacy => format!("#[privacy_scope(\"{}\")]\n", SCOPES[i % SCOPES.len()]),
            };
            let subject = if privacy { "#[subject] " } else { "" };
            let asyncness = if i < FUNCTIONS / 2 { "" } else { "async " };
            write!(
                s,
                "\n{attribute}pub {asyncness}fn f{i}({subject}user: &str, x: u64) -> Result<u64, PrivacyError> {{\n    \
                 let _ = user;\n    Ok(x.wrapping_mul({i}))\n}}\n"
            )
            .expect("write to a String");
        }
        s
    }

    fn dependencies(self) -> &'static str {
        match self {
            Variant::Tracing => "tracing = { version = \"0.1\", features = [\"attributes\"] }\n",
            _ => "",
        }
    }
}

struct Probe {
    dir: PathBuf,
    target: PathBuf,
    rlib: PathBuf,
}

impl Probe {
    fn new(root: &Path, variant: Variant) -> Probe {
        let name = format!("build-probe-{}", variant.name());
        let dir = root.join(variant.name());
        let source = variant.source();
        write_crate(&dir, &name, "src/lib.rs", &source, variant.dependencies(), Some(GUIDELINES))
            .expect("probe written");
        let target = root.join("target");
        let rlib = target.join("debug").join(format!("lib{}.rlib", name.replace('-', "_")));
        let probe = Probe { dir, target, rlib };
        // The lock file is the workspace's; `tracing` is not in it (it would put a second syn in
        // the workspace's tree), so it is resolved and downloaded here, once, from the registry.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let fetched = std::process::Command::new(cargo)
            .args(["fetch", "--quiet"])
            .current_dir(&probe.dir)
            .status()
            .expect("cargo runs");
        assert!(fetched.success(), "the {} probe's dependencies are fetched", variant.name());
        let (ok, stderr, _) = cargo_build_in(&probe.dir, &probe.target).expect("cargo runs");
        assert!(ok, "the {} probe builds:\n{stderr}", variant.name());
        probe
    }

    /// Touches `src/lib.rs`, rebuilds the crate (not its dependencies) and returns the wall time.
    fn rebuild(&self) -> Duration {
        let touched = SystemTime::now();
        touch(&self.dir.join("src/lib.rs"), touched).expect("touch src/lib.rs");
        let (ok, stderr, took) = cargo_build_in(&self.dir, &self.target).expect("cargo runs");
        assert!(ok, "{} rebuilds:\n{stderr}", self.dir.display());
        let written = std::fs::metadata(&self.rlib).and_then(|m| m.modified()).expect("the rlib is there");
        assert!(written >= touched, "{} was not rebuilt", self.rlib.display());
        took
    }
}

/// The median of `xs` (sorted in place).
fn median(xs: &mut [Duration]) -> Duration {
    xs.sort();
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2 }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names another benchmark skips this one.
    let mut args = std::env::args().skip(1);
    let mut rounds = ROUNDS;
    while let Some(a) = args.next() {
        if a == "--rounds" {
            rounds = args.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0).expect("--rounds takes a count");
        } else if !a.starts_with('-') && !"build_time".contains(a.as_str()) {
            return;
        }
    }

    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let root = target_dir.join("build-1000-fns");
    eprintln!("building the three probe crates and their dependencies in {}", root.display());
    let probes: Vec<Probe> = VARIANTS.iter().map(|&v| Probe::new(&root, v)).collect();
    for p in &probes {
        p.rebuild();
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); VARIANTS.len()];
    for round in 1..=rounds {
        for (p, t) in probes.iter().zip(&mut times) {
            t.push(p.rebuild());
        }
        let last: Vec<String> = times.iter().map(|t| format!("{:.2?}", t[round - 1])).collect();
        eprintln!("round {round} of {rounds}: {}", last.join(", "));
    }

    let mut json = format!("{{\"functions\": {FUNCTIONS}, \"rounds\": {rounds}");
    let mut medians = Vec::new();
    for (v, t) in VARIANTS.iter().zip(&times) {
        let ms: Vec<String> = t.iter().map(|d| format!("{:.1}", d.as_secs_f64() * 1e3)).collect();
        let m = median(&mut t.clone());
        medians.push(m);
        write!(
            json,
            ", \"{}\": {{\"median_ms\": {:.1}, \"ms\": [{}]}}",
            v.name(),
            m.as_secs_f64() * 1e3,
            ms.join(", ")
        )
        .expect("write to a String");
        eprintln!("{:>8}: median {m:.2?} over {rounds} rebuilds", v.name());
    }
    json += "}\n";
    let (bare, tracing, privacy) = (medians[0].as_secs_f64(), medians[1].as_secs_f64(), medians[2].as_secs_f64());
    eprintln!("privacy/tracing {:.2} (target <= 0.5), privacy/bare {:.2}", privacy / tracing, privacy / bare);

    let dir = target_dir.parent().expect("CARGO_TARGET_TMPDIR is <target>/tmp").join("criterion/build_1000_fns");
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("report.json"), json));
    if let Err(e) = written {
        eprintln!("could not write the report to {}: {e}", dir.display());
        std::process::exit(1);
    }
    eprintln!("wrote {}", dir.join("report.json").display());
}
