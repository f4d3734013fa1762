//! Helpers for the tests and benchmarks that build a small crate of their own against
//! `privacy-runtime` (the UI cases themselves live under `ui/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// The workspace root.
pub fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize().unwrap_or(here)
}

/// Writes a binary crate `name` into `dir` that depends on this workspace's `privacy-runtime`,
/// with `main` as its `src/main.rs` and, when given, `guidelines` as its `privacy.toml`.
pub fn write_probe(dir: &Path, name: &str, main: &str, guidelines: Option<&str>) -> std::io::Result<()> {
    write_crate(dir, name, "src/main.rs", main, "", guidelines)
}

/// Writes a crate `name` into `dir` that depends on this workspace's `privacy-runtime` and on
/// `extra_dependencies` (lines of a `[dependencies]` table; the lock file is a copy of the
/// workspace's, so a dependency the workspace does not have needs a `cargo fetch` first), with `source` as its `file` (`src/main.rs` for a binary, `src/lib.rs` for a library)
/// and, when given, `guidelines` as its `privacy.toml`.
pub fn write_crate(
    dir: &Path,
    name: &str,
    file: &str,
    source: &str,
    extra_dependencies: &str,
    guidelines: Option<&str>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    let runtime = workspace().join("privacy-runtime");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nprivacy-runtime = {{ path = {:?} }}\n{extra_dependencies}\n[workspace]\n",
        runtime.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    // The workspace's lock file lets the probe build offline with the same versions.
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock"))?;
    std::fs::write(dir.join(file), source)?;
    let toml = dir.join("privacy.toml");
    match guidelines {
        Some(text) => write_later(&toml, text),
        None => match std::fs::remove_file(&toml) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}

/// Writes `text` to `path` and moves its modification time past anything a build wrote, so no
/// clock granularity hides the edit from cargo.
pub fn write_later(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)?;
    touch(path, SystemTime::now() + Duration::from_secs(2))
}

/// Sets the modification time of `path`.
pub fn touch(path: &Path, when: SystemTime) -> std::io::Result<()> {
    std::fs::File::options().write(true).open(path)?.set_modified(when)
}

/// `cargo build --offline` of the probe in `dir` (its own target directory, `PRIVACY_TOML`
/// unset): success, stderr and wall time.
pub fn cargo_build(dir: &Path) -> std::io::Result<(bool, String, Duration)> {
    cargo_build_in(dir, &dir.join("target"))
}

/// [`cargo_build`] with `target` as the target directory (probes that share one build their
/// common dependencies once).
pub fn cargo_build_in(dir: &Path, target: &Path) -> std::io::Result<(bool, String, Duration)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let start = Instant::now();
    let out = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("PRIVACY_TOML")
        .output()?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned(), start.elapsed()))
}
