//! The guidelines file, `privacy.toml`: parsed and checked the same way by the macro (while
//! compiling) and by the runtime (from the copy compiled into the binary).
//!
//! ```toml
//! contract_name = "《示例小程序隐私保护指引》"
//! contract_url = "https://example.com/privacy"   # or contract_text = "…"
//! agree_buttons = ["agree-btn"]
//! # effect_delay_seconds = 300                   # default: the platform's 5 minutes
//! # banned = false                               # declared "no personal data" at review
//!
//! [[versions]]
//! published_at = 2023-07-11T00:00:00Z
//! [versions.scopes]
//! chosen_location = "to show shops near the place you pick"
//!
//! [[versions]]
//! published_at = 2023-07-13T00:00:00Z
//! [versions.scopes]
//! chosen_location = "to show shops near the place you pick"
//! werun = "to rank your steps among friends"
//!
//! [custom_scopes.health_record]
//! name_zh = "健康记录"
//! name_en = "Health records"
//! description = "blood pressure readings you enter"
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{BUILTIN_SCOPES, builtin_index};
use crate::rules;
use crate::suggest::closest;
use crate::time::parse_millis;

/// The file name looked for at the crate root.
pub const DEFAULT_FILE: &str = "privacy.toml";

/// A problem in a guidelines file, with its position (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for FileError {}

/// Where the contract is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContract {
    /// A page.
    Url(String),
    /// The text.
    Text(String),
}

/// One version of the guidelines as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVersion {
    /// Publish time, milliseconds since the Unix epoch.
    pub published_at_millis: i64,
    /// Scope id and purpose, sorted by id.
    pub scopes: Vec<(String, String)>,
    /// The line of its `published_at`.
    pub line: usize,
    /// `fresh_consent = true`: consent given to an earlier version does not carry over (a
    /// changed purpose); every user agrees again once this version is in effect.
    pub fresh_consent: bool,
}

impl FileVersion {
    /// `true` if this version declares `id`.
    pub fn declares(&self, id: &str) -> bool {
        self.scopes.iter().any(|(s, _)| s == id)
    }
}

/// A custom scope as the file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCustomScope {
    /// snake_case id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// What it is and why it is collected.
    pub description: String,
}

/// A parsed and checked guidelines file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuidelinesFile {
    /// The contract's name.
    pub contract_name: String,
    /// Where it is read.
    pub contract: Option<FileContract>,
    /// Registered agree-button ids.
    pub agree_buttons: Vec<String>,
    /// Delay between publishing and taking effect, if not the platform's.
    pub effect_delay_seconds: Option<u64>,
    /// Declared "no personal data" at review.
    pub banned: bool,
    /// Versions, oldest first.
    pub versions: Vec<FileVersion>,
    /// Custom scopes, in file order of their ids (sorted).
    pub custom_scopes: Vec<FileCustomScope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    contract_name: Spanned<String>,
    contract_url: Option<String>,
    contract_text: Option<Spanned<String>>,
    #[serde(default)]
    agree_buttons: Vec<Spanned<String>>,
    effect_delay_seconds: Option<Spanned<u64>>,
    #[serde(default)]
    banned: bool,
    #[serde(default)]
    versions: Vec<RawVersion>,
    #[serde(default)]
    custom_scopes: BTreeMap<Spanned<String>, RawCustom>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    published_at: Spanned<toml::Value>,
    #[serde(default)]
    fresh_consent: bool,
    #[serde(default)]
    scopes: BTreeMap<Spanned<String>, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustom {
    name_zh: String,
    name_en: String,
    #[serde(default)]
    description: String,
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl GuidelinesFile {
    /// Parses and checks `text`.
    pub fn parse(text: &str) -> Result<GuidelinesFile, FileError> {
        let at = |offset: usize, message: String| {
            let (line, column) = position(text, offset);
            FileError { line, column, message }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim().to_owned())
        })?;

        rules::contract_name(raw.contract_name.get_ref()).map_err(|m| at(raw.contract_name.span().start, m))?;
        let contract = match (raw.contract_url, raw.contract_text) {
            (Some(_), Some(t)) => {
                return Err(at(t.span().start, "give contract_url or contract_text, not both".into()));
            }
            (Some(u), None) => Some(FileContract::Url(u)),
            (None, Some(t)) => Some(FileContract::Text(t.into_inner())),
            (None, None) => None,
        };

        let mut custom_scopes = Vec::new();
        for (i, (id, c)) in raw.custom_scopes.into_iter().enumerate() {
            let start = id.span().start;
            rules::custom_scope_id(id.get_ref()).map_err(|m| at(start, m))?;
            rules::custom_scope_count(i + 1).map_err(|m| at(start, m))?;
            custom_scopes.push(FileCustomScope {
                id: id.into_inner(),
                name_zh: c.name_zh,
                name_en: c.name_en,
                description: c.description,
            });
        }

        let effect_delay_seconds = match raw.effect_delay_seconds {
            Some(d) => {
                rules::effect_delay_seconds(*d.get_ref()).map_err(|m| at(d.span().start, m))?;
                Some(d.into_inner())
            }
            None => None,
        };

        let mut agree_buttons: Vec<String> = Vec::with_capacity(raw.agree_buttons.len());
        for b in raw.agree_buttons {
            rules::agree_button(b.get_ref(), agree_buttons.iter().map(String::as_str))
                .map_err(|m| at(b.span().start, m))?;
            agree_buttons.push(b.into_inner());
        }

        let mut versions: Vec<FileVersion> = Vec::new();
        for (i, v) in raw.versions.into_iter().enumerate() {
            let span = v.published_at.span();
            let text_value = match v.published_at.get_ref() {
                toml::Value::Datetime(d) => d.to_string(),
                toml::Value::String(s) => s.clone(),
                _ => String::new(),
            };
            let published_at_millis = parse_millis(&text_value).ok_or_else(|| {
                let missing_offset = text_value.contains(':') && parse_millis(&format!("{text_value}Z")).is_some();
                let message = if missing_offset {
                    format!("published_at = {text_value} has no offset; write {text_value}Z for UTC or add +08:00")
                } else {
                    "published_at must be a time such as 2023-07-11T08:00:00Z (with its offset) or a date such as \
                     2023-07-11, between the years 1 and 9997"
                        .to_owned()
                };
                at(span.start, message)
            })?;
            rules::published_at_millis(published_at_millis).map_err(|m| at(span.start, m))?;
            if let Some(prev) = versions.last()
                && prev.published_at_millis >= published_at_millis
            {
                return Err(at(
                    span.start,
                    format!("version {} is not published after version {}; list versions oldest first", i + 1, i),
                ));
            }
            let mut scopes = Vec::new();
            for (id, purpose) in v.scopes {
                let name = id.get_ref();
                let known = builtin_index(name).is_some() || custom_scopes.iter().any(|c| c.id == *name);
                if !known {
                    let candidates =
                        BUILTIN_SCOPES.iter().map(|s| s.id).chain(custom_scopes.iter().map(|c| c.id.as_str()));
                    let hint = match closest(name, candidates) {
                        Some(s) => format!("; did you mean `{s}`?"),
                        None => "; declare it under [custom_scopes] or use a built-in id".into(),
                    };
                    return Err(at(id.span().start, format!("unknown privacy scope `{name}`{hint}")));
                }
                scopes.push((id.into_inner(), purpose));
            }
            versions.push(FileVersion {
                published_at_millis,
                scopes,
                line: position(text, span.start).0,
                fresh_consent: v.fresh_consent,
            });
        }

        Ok(GuidelinesFile {
            contract_name: raw.contract_name.into_inner(),
            contract,
            agree_buttons,
            effect_delay_seconds,
            banned: raw.banned,
            versions,
            custom_scopes,
        })
    }

    /// `true` if some version declares `id`.
    pub fn declares(&self, id: &str) -> bool {
        self.versions.iter().any(|v| v.declares(id))
    }

    /// `true` if the newest version declares `id`: what decides whether a call can ever run once
    /// every version is in effect, and what the runtime checks at start-up.
    pub fn newest_declares(&self, id: &str) -> bool {
        self.versions.last().is_some_and(|v| v.declares(id))
    }

    /// The version that stopped declaring `id` (numbered from 1, and the version itself), when an
    /// earlier version declared it and the newest does not.
    pub fn dropped_by(&self, id: &str) -> Option<(usize, &FileVersion)> {
        if self.newest_declares(id) {
            return None;
        }
        let last = self.versions.iter().rposition(|v| v.declares(id))?;
        self.versions.get(last + 1).map(|v| (last + 2, v))
    }

    /// `true` if `id` is a custom scope of this file.
    pub fn is_custom(&self, id: &str) -> bool {
        self.custom_scopes.iter().any(|c| c.id == id)
    }

    /// Every id this file can name: built-in and custom.
    pub fn known_ids(&self) -> impl Iterator<Item = &str> {
        BUILTIN_SCOPES.iter().map(|s| s.id).chain(self.custom_scopes.iter().map(|c| c.id.as_str()))
    }

    /// The line of the newest version's `published_at`, where a missing scope would be added.
    pub fn newest_version_line(&self) -> Option<usize> {
        self.versions.last().map(|v| v.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"
contract_name = "《示例小程序隐私保护指引》"
contract_url = "https://example.com/privacy"
agree_buttons = ["agree-btn"]

[[versions]]
published_at = 2023-07-11T00:00:00Z
[versions.scopes]
chosen_location = "to show shops near the place you pick"

[[versions]]
published_at = "2023-07-13"
[versions.scopes]
chosen_location = "to show shops near the place you pick"
werun = "to rank your steps"
health_record = "to chart it"

[custom_scopes.health_record]
name_zh = "健康记录"
name_en = "Health records"
"#;

    #[test]
    fn parses_the_seed() {
        let f = GuidelinesFile::parse(SEED).unwrap();
        assert_eq!(f.contract_name, "《示例小程序隐私保护指引》");
        assert_eq!(f.versions.len(), 2);
        assert_eq!(f.versions[1].published_at_millis, 1_689_206_400_000);
        assert!(f.declares("werun") && f.declares("health_record") && !f.declares("location"));
        assert!(f.is_custom("health_record"));
        assert_eq!(f.newest_version_line(), Some(12));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let bad = SEED.replace("werun =", "wreun =");
        let e = GuidelinesFile::parse(&bad).unwrap_err();
        assert_eq!((e.line, e.column), (15, 1));
        assert_eq!(e.message, "unknown privacy scope `wreun`; did you mean `werun`?");

        let e = GuidelinesFile::parse(
            "contract_name = \"x\"\n[[versions]]\npublished_at = 2023-07-11T00:00:00Z\nscopes = 3\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 4);

        let e = GuidelinesFile::parse("contract_name = \"x\"\ncontract_nmae = \"y\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("contract_nmae"), "{}", e.message);

        let e = GuidelinesFile::parse("contract_name = \"x\"\n[[versions]]\npublished_at = \"last tuesday\"\n")
            .unwrap_err();
        assert_eq!((e.line, e.column), (3, 16));
    }

    #[test]
    fn versions_must_be_in_order() {
        let bad = SEED.replace("\"2023-07-13\"", "2023-07-01");
        let e = GuidelinesFile::parse(&bad).unwrap_err();
        assert!(e.message.contains("oldest first"), "{}", e.message);
    }

    #[test]
    fn what_the_runtime_refuses_is_refused_here_with_its_place() {
        let mut many = String::from("contract_name = \"x\"\n");
        for i in 0..=crate::rules::MAX_CUSTOM_SCOPES {
            many += &format!("[custom_scopes.c{i:03}]\nname_zh = \"z\"\nname_en = \"e\"\n");
        }
        let e = GuidelinesFile::parse(&many).unwrap_err();
        assert!(e.message.contains("custom scopes are more than"), "{}", e.message);
        assert_eq!(e.line, 2 + 3 * crate::rules::MAX_CUSTOM_SCOPES);

        let e =
            GuidelinesFile::parse("contract_name = \"x\"\neffect_delay_seconds = 9223372036854775807\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 24));
        assert!(e.message.contains("366 days"), "{}", e.message);

        let e = GuidelinesFile::parse("contract_name = \"x\"\n[[versions]]\npublished_at = \"300000000-01-01\"\n")
            .unwrap_err();
        assert_eq!((e.line, e.column), (3, 16));

        let e = GuidelinesFile::parse("contract_name = \"x\"\n[[versions]]\npublished_at = 2023-07-11T08:00:00\n")
            .unwrap_err();
        assert!(e.message.contains("2023-07-11T08:00:00Z"), "{}", e.message);

        let e = GuidelinesFile::parse("contract_name = \"x\"\nagree_buttons = [\"a\", \"b\", \"a\"]\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 28));
        let e = GuidelinesFile::parse("contract_name = \"x\"\nagree_buttons = [\" \"]\n").unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
    }

    #[test]
    fn the_version_that_dropped_a_scope_is_found() {
        let text = "contract_name = \"x\"\n\
            [[versions]]\npublished_at = 2023-07-11\n[versions.scopes]\nlocation = \"a\"\n\
            [[versions]]\npublished_at = 2023-07-12\n[versions.scopes]\nwerun = \"b\"\n\
            [[versions]]\npublished_at = 2023-07-13\n[versions.scopes]\nwerun = \"b\"\n";
        let f = GuidelinesFile::parse(text).unwrap();
        assert!(f.declares("location") && !f.newest_declares("location"));
        let (number, v) = f.dropped_by("location").unwrap();
        assert_eq!((number, v.line), (2, 7));
        assert!(f.dropped_by("werun").is_none() && f.dropped_by("address").is_none());
    }
}
