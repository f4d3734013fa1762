//! Finding and loading the crate's guidelines file while compiling.
//!
//! The file is, in order: the path in the `PRIVACY_TOML` environment variable; the `guidelines`
//! key of `[package.metadata.privacy-runtime]` in the crate's `Cargo.toml`; `privacy.toml` at the
//! crate root. Relative paths are relative to the crate root. Without any of them, only the
//! built-in catalog is checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use privacy_spec::file::DEFAULT_FILE;
use privacy_spec::{FileError, GuidelinesFile};

/// The environment variable that overrides the guidelines path.
pub const ENV: &str = "PRIVACY_TOML";

/// The guidelines file of the crate being compiled.
#[derive(Clone)]
pub struct Loaded {
    /// The absolute path, for `include_bytes!`.
    pub absolute: String,
    /// The path for messages: relative to the crate root when the file is inside it.
    pub display: String,
    pub file: Result<Arc<GuidelinesFile>, FileError>,
}

/// Why no file could be used although one was configured.
pub struct ConfigError(pub String);

type Cache = HashMap<PathBuf, (Option<SystemTime>, Loaded)>;

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The `guidelines` key of the crate's manifest, read once per manifest version.
fn configured_in_manifest(root: &Path) -> Result<Option<String>, ConfigError> {
    type ManifestCache = HashMap<PathBuf, (Option<SystemTime>, Result<Option<String>, String>)>;
    static MANIFESTS: OnceLock<Mutex<ManifestCache>> = OnceLock::new();
    let manifest = root.join("Cargo.toml");
    let modified = std::fs::metadata(&manifest).and_then(|m| m.modified()).ok();
    let mut cache = MANIFESTS.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((m, r)) = cache.get(&manifest)
        && *m == modified
    {
        return r.clone().map_err(ConfigError);
    }
    let r = read_manifest(&manifest).map_err(|ConfigError(m)| m);
    cache.insert(manifest, (modified, r.clone()));
    r.map_err(ConfigError)
}

fn read_manifest(manifest: &Path) -> Result<Option<String>, ConfigError> {
    let Ok(text) = std::fs::read_to_string(manifest) else { return Ok(None) };
    let value: toml::Table =
        toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {}", manifest.display(), e.message().trim())))?;
    let entry = value
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("privacy-runtime"))
        .and_then(|p| p.get("guidelines"));
    match entry {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ConfigError(format!(
            "{}: [package.metadata.privacy-runtime] guidelines must be a path string such as \"privacy.toml\"",
            manifest.display()
        ))),
    }
}

/// The configured guidelines file, if there is one.
///
/// A crate's functions all ask within moments of each other: the answer is reused for a second
/// for the same crate and `PRIVACY_TOML`, without looking at the files again (a long-lived
/// expansion server, such as an IDE's, still sees an edit a second later).
pub fn load() -> Result<Option<Loaded>, ConfigError> {
    type Recent = ((Option<std::ffi::OsString>, Option<std::ffi::OsString>), Instant, Result<Option<Loaded>, String>);
    static RECENT: OnceLock<Mutex<Option<Recent>>> = OnceLock::new();
    let key = (std::env::var_os("CARGO_MANIFEST_DIR"), std::env::var_os(ENV));
    let mut recent = RECENT.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((k, at, answer)) = recent.as_ref()
        && *k == key
        && at.elapsed() < Duration::from_secs(1)
    {
        return answer.clone().map_err(ConfigError);
    }
    let answer = load_now().map_err(|ConfigError(m)| m);
    *recent = Some((key, Instant::now(), answer.clone()));
    answer.map_err(ConfigError)
}

fn load_now() -> Result<Option<Loaded>, ConfigError> {
    let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        return Ok(None);
    };
    let (path, explicit) = match std::env::var(ENV) {
        Ok(p) if !p.is_empty() => (root.join(p), true),
        _ => match configured_in_manifest(&root)? {
            Some(p) => (root.join(p), true),
            None => (root.join(DEFAULT_FILE), false),
        },
    };
    let modified = match std::fs::metadata(&path) {
        Ok(m) => m.modified().ok(),
        Err(_) if !explicit => return Ok(None),
        Err(e) => return Err(ConfigError(format!("the guidelines file {} cannot be read: {e}", path.display()))),
    };
    let mut cache = cache().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((m, loaded)) = cache.get(&path)
        && *m == modified
    {
        return Ok(Some(loaded.clone()));
    }
    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
    let absolute = canonical.display().to_string();
    let root = root.canonicalize().unwrap_or(root);
    let display = canonical.strip_prefix(&root).map_or_else(|_| absolute.clone(), |p| p.display().to_string());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError(format!("the guidelines file {} cannot be read: {e}", path.display())))?;
    let loaded = Loaded { absolute, display, file: GuidelinesFile::parse(&text).map(Arc::new) };
    cache.insert(path, (modified, loaded.clone()));
    Ok(Some(loaded))
}

/// The crate's `Cargo.toml`, as an absolute path, when there is one: its
/// `[package.metadata.privacy-runtime]` can name the guidelines file.
pub fn manifest() -> Option<String> {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let manifest = root.join("Cargo.toml");
    let manifest = manifest.canonicalize().ok()?;
    manifest.is_file().then(|| manifest.display().to_string())
}

/// `true` the first time it is asked about `path` in this compilation of this crate: the file's
/// tracking (`include_bytes!`) needs to be emitted once per crate, not once per function.
pub fn first_use_in_crate(path: &str) -> bool {
    static SEEN: OnceLock<Mutex<std::collections::HashSet<(String, String)>>> = OnceLock::new();
    let krate = std::env::var("CARGO_CRATE_NAME").unwrap_or_default()
        + "@"
        + &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    SEEN.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner).insert((krate, path.to_owned()))
}
