//! The privacy manifest: what the program's code really touches, from the registry and the
//! guidelines, ready for the administration console's declaration form.

use std::fmt::Write as _;

use crate::clock::Timestamp;
use crate::guidelines::Guidelines;
use crate::registry::{CallSite, undeclared_scopes};

/// One API that touches a scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ManifestApi {
    /// The API name.
    pub api: String,
    /// Its module.
    pub module: String,
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// `true` for an async fn.
    pub is_async: bool,
}

impl From<&CallSite> for ManifestApi {
    fn from(s: &CallSite) -> Self {
        ManifestApi {
            api: s.api().to_owned(),
            module: s.module_path().to_owned(),
            file: s.file().to_owned(),
            line: s.line(),
            is_async: s.is_async(),
        }
    }
}

/// One declared scope and the APIs that use it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ManifestScope {
    /// The scope id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The platform's key, for built-in scopes.
    pub privacy_key: Option<String>,
    /// `true` for a custom scope of the app.
    pub custom: bool,
    /// The guideline version from which it has been declared.
    pub declared_in_version: Option<u32>,
    /// That version's publish time.
    pub declared_at: Option<Timestamp>,
    /// The purpose text given for it.
    pub purpose: Option<String>,
    /// Every API that uses it.
    pub apis: Vec<ManifestApi>,
}

/// A scope that code uses and the guidelines do not declare.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct UndeclaredUse {
    /// The scope id.
    pub scope: String,
    /// The APIs that use it.
    pub apis: Vec<ManifestApi>,
}

/// The program's privacy surface.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Manifest {
    /// The contract's name.
    pub contract_name: String,
    /// Every scope the newest guideline version declares, in catalog order.
    pub scopes: Vec<ManifestScope>,
    /// Warnings: declared scopes that no API uses (over-declaration).
    pub declared_but_unused: Vec<String>,
    /// Errors: scopes that APIs use and the guidelines do not declare (calls fail with 112).
    pub used_but_undeclared: Vec<UndeclaredUse>,
}

impl Manifest {
    /// The manifest of `sites` (usually [`apis()`](crate::apis)) under `guidelines`.
    pub fn build(guidelines: &Guidelines, sites: &[&'static CallSite]) -> Manifest {
        let mut scopes = Vec::new();
        for scope in guidelines.latest_declared().iter() {
            let id = guidelines.scope_id(scope).unwrap_or_default().to_owned();
            let (name_zh, name_en, privacy_key) = match (scope.builtin_info(), guidelines.custom_scope(scope)) {
                (Some(b), _) => (b.name_zh.to_owned(), b.name_en.to_owned(), Some(b.privacy_key.to_owned())),
                (None, Some(c)) => (c.name_zh.clone(), c.name_en.clone(), None),
                (None, None) => (String::new(), String::new(), None),
            };
            let since = guidelines.declared_since(scope);
            let apis =
                sites.iter().filter(|s| s.scope_ids().contains(&id.as_str())).map(|s| ManifestApi::from(*s)).collect();
            scopes.push(ManifestScope {
                custom: scope.is_custom(),
                declared_in_version: since.map(|v| v.number),
                declared_at: since.map(|v| v.published_at),
                purpose: guidelines.purpose(scope).filter(|p| !p.is_empty()).map(str::to_owned),
                id,
                name_zh,
                name_en,
                privacy_key,
                apis,
            });
        }
        let declared_but_unused = scopes.iter().filter(|s| s.apis.is_empty()).map(|s| s.id.clone()).collect();
        let used_but_undeclared = undeclared_scopes(guidelines, sites)
            .into_iter()
            .map(|u| UndeclaredUse { scope: u.scope, apis: u.apis.iter().map(|s| ManifestApi::from(*s)).collect() })
            .collect();
        Manifest {
            contract_name: guidelines.contract_name().to_owned(),
            scopes,
            declared_but_unused,
            used_but_undeclared,
        }
    }

    /// `true` when code uses scopes the guidelines do not declare.
    pub fn has_errors(&self) -> bool {
        !self.used_but_undeclared.is_empty()
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, numbers and vectors cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The manifest as Markdown, one row a scope, ready to paste into the console's form.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Privacy manifest: {}\n", self.contract_name);
        md.push_str(
            "| 隐私信息类型 | Privacy type | Declared since | 用途 / Purpose | APIs |\n|---|---|---|---|---|\n",
        );
        for s in &self.scopes {
            let since = match (s.declared_in_version, s.declared_at) {
                (Some(v), Some(at)) => format!("version {v} ({at})"),
                _ => String::new(),
            };
            let apis = s.apis.iter().map(|a| format!("`{}` ({}:{})", a.api, a.file, a.line)).collect::<Vec<_>>();
            let apis = if apis.is_empty() { "(none)".to_owned() } else { apis.join("<br>") };
            let _ = writeln!(
                md,
                "| {} | {} (`{}`) | {since} | {} | {apis} |",
                s.name_zh,
                s.name_en,
                s.id,
                s.purpose.as_deref().unwrap_or("")
            );
        }
        if !self.declared_but_unused.is_empty() {
            md.push_str("\n## Warning: declared but never used\n\n");
            for id in &self.declared_but_unused {
                let _ = writeln!(
                    md,
                    "- `{id}`: no annotated function uses it; drop it from the guidelines or check the code"
                );
            }
        }
        if !self.used_but_undeclared.is_empty() {
            md.push_str("\n## Error: used but not declared (calls fail with errno 112)\n\n");
            for u in &self.used_but_undeclared {
                let apis = u.apis.iter().map(|a| format!("`{}` ({}:{})", a.api, a.file, a.line)).collect::<Vec<_>>();
                let _ = writeln!(md, "- `{}`: {}", u.scope, apis.join(", "));
            }
        }
        md
    }
}
