//! The app's user privacy protection guidelines: the contract, its versions and what each
//! declares.
//!
//! Each version lists every scope declared as of that version (a later version may add scopes or
//! drop them). A version takes effect [`effect_delay`](GuidelinesBuilder::effect_delay) after it
//! is published (the platform's 5 minutes). A consent covers the scopes of the version in effect
//! when it was given.

use std::fmt;
use std::time::Duration;

mod builder;

pub use builder::{Compiled, CompiledVersion, GuidelinesBuilder};

use crate::clock::Timestamp;
use crate::scope::{BUILTIN_COUNT, MAX_SCOPES, Scope, ScopeSet, UnknownScopeError};

/// The platform's delay between publishing a declaration and its taking effect.
pub const DEFAULT_EFFECT_DELAY: Duration = Duration::from_secs(5 * 60);

/// The longest effect delay guidelines can have: 366 days.
pub const MAX_EFFECT_DELAY: Duration = Duration::from_secs(privacy_spec::rules::MAX_EFFECT_DELAY_SECONDS);

/// Where the privacy contract is read: the page `openPrivacyContract` opens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractLocation {
    /// A page at this URL.
    Url(String),
    /// The full text, shown by the app.
    Text(String),
}

/// A scope of the app's own, for data that no platform interface covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CustomScope {
    /// snake_case id, used like a built-in id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// What the data is and why it is collected.
    pub description: String,
}

impl CustomScope {
    /// A custom scope with its names; add a description with [`CustomScope::description`].
    pub fn new(id: impl Into<String>, name_zh: impl Into<String>, name_en: impl Into<String>) -> Self {
        CustomScope { id: id.into(), name_zh: name_zh.into(), name_en: name_en.into(), description: String::new() }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
}

/// What identifies a published version of the guidelines: its publish time and a SHA-256 digest
/// of what it declares (the contract's name, every scope's id and purpose, and the names and
/// description of the custom scopes among them).
///
/// A consent records the version it agreed to by this identity, never by its position in the
/// list, so adding or removing other versions cannot re-map a stored consent to another scope
/// set; a consent whose version is no longer in the guidelines covers nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId {
    published_at: Timestamp,
    digest: [u8; 32],
}

impl VersionId {
    /// A version's identity from its parts, as a store reads them back.
    pub fn from_parts(published_at: Timestamp, digest: [u8; 32]) -> Self {
        VersionId { published_at, digest }
    }

    /// A version's identity from its publish time and the 64 hex digits of
    /// [`digest_hex`](Self::digest_hex); `None` if the digits are not that.
    pub fn from_hex(published_at: Timestamp, digest_hex: &str) -> Option<Self> {
        VersionId::parse_hex(digest_hex).map(|digest| VersionId { published_at, digest })
    }

    /// When the version was published.
    pub fn published_at(&self) -> Timestamp {
        self.published_at
    }

    /// The SHA-256 digest of what the version declares.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The digest as 64 lowercase hex digits.
    pub fn digest_hex(&self) -> String {
        use fmt::Write;
        self.digest.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    fn of(
        contract_name: &str,
        published_at: Timestamp,
        fresh_consent: bool,
        declared: &mut [(String, String, String)],
    ) -> VersionId {
        use sha2::Digest;
        declared.sort();
        let mut h = sha2::Sha256::new();
        // Length-prefixed fields: no two different contents hash the same input.
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(b"privacy-runtime guideline version 1");
        field(contract_name.as_bytes());
        field(&published_at.unix_millis().to_le_bytes());
        for (id, purpose, custom) in declared.iter() {
            field(id.as_bytes());
            field(purpose.as_bytes());
            field(custom.as_bytes());
        }
        // Only when set, so the versions that do not ask for it keep their identity.
        if fresh_consent {
            field(b"fresh consent");
        }
        VersionId { published_at, digest: h.finalize().into() }
    }

    fn parse_hex(s: &str) -> Option<[u8; 32]> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let pair = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(out)
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sha256:{}", self.published_at, self.digest_hex())
    }
}

impl fmt::Debug for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionId({} sha256:{}…)", self.published_at, &self.digest_hex()[..12])
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct VersionIdRepr {
    published_at: Timestamp,
    sha256: String,
}

impl serde::Serialize for VersionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        VersionIdRepr { published_at: self.published_at, sha256: self.digest_hex() }.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for VersionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = VersionIdRepr::deserialize(d)?;
        let digest =
            VersionId::parse_hex(&r.sha256).ok_or_else(|| serde::de::Error::custom("sha256 must be 64 hex digits"))?;
        Ok(VersionId { published_at: r.published_at, digest })
    }
}

/// One published version of the guidelines.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GuidelineVersion {
    /// What identifies this version in stored consents.
    pub id: VersionId,
    /// 1 for the first version, counting up: its place in the current list, for people to read.
    /// Stored consents use [`id`](Self::id).
    pub number: u32,
    /// When it was published.
    pub published_at: Timestamp,
    /// Every scope declared as of this version.
    pub declared: ScopeSet,
    /// The purpose given for each scope, where one was given.
    pub purposes: Vec<(Scope, String)>,
    /// Consent given to an earlier version does not carry over: once this version is in effect,
    /// every user agrees again, even to scopes they had agreed to (a changed purpose; PIPL
    /// Art. 14). Set with [`GuidelinesBuilder::requires_fresh_consent`] or `fresh_consent = true`.
    pub fresh_consent: bool,
}

/// The guidelines of one app. Build with [`Guidelines::builder`].
#[derive(Debug, Clone)]
pub struct Guidelines {
    /// What the newest version declares: read on every consented call once every version is in
    /// effect, so kept inline rather than behind the versions' allocation.
    latest: ScopeSet,
    /// Unique per build in this process (kept by clones, which declare the same), so that a call
    /// site can remember how it resolved its custom scopes here.
    uid: u64,
    contract_name: String,
    contract: Option<ContractLocation>,
    versions: Vec<GuidelineVersion>,
    effect_delay: Duration,
    banned: bool,
    custom: Vec<CustomScope>,
    agree_buttons: Vec<String>,
}

/// A problem in guidelines being built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuidelinesError {
    /// A version names a scope that is neither built in nor declared as custom.
    #[error("guideline version {version}: {source}")]
    UnknownScope {
        /// The version's number.
        version: u32,
        /// Which id, and the closest known one.
        source: UnknownScopeError,
    },
    /// Versions must be published in order.
    #[error(
        "guideline version {version} is published at {published_at}, not after version {} ({previous}); list versions oldest first",
        version - 1
    )]
    OutOfOrder {
        /// The version's number.
        version: u32,
        /// Its publish time.
        published_at: Timestamp,
        /// The previous version's publish time.
        previous: Timestamp,
    },
    /// A custom scope reuses an id.
    #[error("custom scope `{0}` is declared twice or shadows a built-in scope; give it another id")]
    DuplicateCustomScope(String),
    /// A custom scope id is not snake_case.
    #[error(
        "custom scope id `{0}` must be snake_case: lowercase ASCII letters, digits and `_`, starting with a letter"
    )]
    BadCustomScopeId(String),
    /// More custom scopes than a scope set holds.
    #[error("{0} custom scopes are more than the {max} supported; merge some of them", max = MAX_SCOPES - BUILTIN_COUNT)]
    TooManyCustomScopes(usize),
    /// An effect delay longer than [`MAX_EFFECT_DELAY`].
    #[error("an effect delay of {0:?} is longer than the {max} days allowed; the platform's is 5 minutes", max = MAX_EFFECT_DELAY.as_secs() / 86_400)]
    EffectDelayTooLong(Duration),
    /// A publish time outside the years 1 to 9997.
    #[error("guideline version {version} is published at {published_at}, outside the years 1 to 9997")]
    PublishedOutOfRange {
        /// The version's number.
        version: u32,
        /// Its publish time.
        published_at: Timestamp,
    },
    /// An agree-button id that is empty, too long, or registered twice.
    #[error("{0}")]
    BadAgreeButton(String),
    /// The contract has no name.
    #[error("the privacy contract needs a name such as 《示例小程序隐私保护指引》")]
    MissingContractName,
    /// The guidelines file could not be read.
    #[cfg(feature = "toml")]
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Where and what.
        source: privacy_spec::FileError,
    },
}

impl Guidelines {
    /// Starts guidelines for the contract called `contract_name` (for example
    /// `《示例小程序隐私保护指引》`).
    pub fn builder(contract_name: impl Into<String>) -> GuidelinesBuilder {
        GuidelinesBuilder::new(contract_name.into())
    }

    /// Guidelines from the text of a `privacy.toml` read at run time (its format is in the
    /// README); `path` names the file in errors. Most programs use
    /// [`guidelines!`](crate::guidelines!) instead, which builds the guidelines from the file that
    /// `#[privacy_scope]` checked, while compiling. Needs the `toml` feature.
    #[cfg(feature = "toml")]
    pub fn from_toml(path: &str, text: &str) -> Result<Guidelines, GuidelinesError> {
        let file = privacy_spec::GuidelinesFile::parse(text)
            .map_err(|source| GuidelinesError::File { path: path.to_owned(), source })?;
        Self::from_file(&file)
    }

    /// Guidelines from a parsed guidelines file. Needs the `toml` feature.
    #[cfg(feature = "toml")]
    pub fn from_file(file: &privacy_spec::GuidelinesFile) -> Result<Guidelines, GuidelinesError> {
        let mut b = Guidelines::builder(file.contract_name.clone()).banned(file.banned);
        b = match &file.contract {
            Some(privacy_spec::file::FileContract::Url(u)) => b.contract_url(u.clone()),
            Some(privacy_spec::file::FileContract::Text(t)) => b.contract_text(t.clone()),
            None => b,
        };
        if let Some(secs) = file.effect_delay_seconds {
            b = b.effect_delay(Duration::from_secs(secs));
        }
        for c in &file.custom_scopes {
            b = b.custom_scope(CustomScope::new(&c.id, &c.name_zh, &c.name_en).description(&c.description));
        }
        for id in &file.agree_buttons {
            b = b.agree_button(id.clone());
        }
        for v in &file.versions {
            let at = Timestamp::from_unix_millis(v.published_at_millis);
            b = b.version_with_purposes(at, v.scopes.iter().map(|(id, p)| (id.as_str(), p.clone())));
            if v.fresh_consent {
                b = b.requires_fresh_consent();
            }
        }
        b.build()
    }

    /// The contract's name, as `getPrivacySetting` returns it.
    pub fn contract_name(&self) -> &str {
        &self.contract_name
    }

    /// Where the contract can be read.
    pub fn contract(&self) -> Option<&ContractLocation> {
        self.contract.as_ref()
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[GuidelineVersion] {
        &self.versions
    }

    /// The delay between publishing and taking effect.
    pub fn effect_delay(&self) -> Duration {
        self.effect_delay
    }

    /// `true` when the app declared at review that it collects no personal data: every privacy
    /// call fails with `privacy api banned`.
    #[inline]
    pub fn is_banned(&self) -> bool {
        self.banned
    }

    /// The app's custom scopes.
    pub fn custom_scopes(&self) -> &[CustomScope] {
        &self.custom
    }

    /// The registered agree-button ids.
    pub fn agree_buttons(&self) -> &[String] {
        &self.agree_buttons
    }

    /// `true` if `id` is a registered agree button.
    pub fn is_agree_button(&self, id: &str) -> bool {
        self.agree_buttons.iter().any(|b| b == id)
    }

    /// Resolves a built-in or custom scope id.
    pub fn scope(&self, id: &str) -> Result<Scope, UnknownScopeError> {
        if let Ok(s) = Scope::parse_builtin(id) {
            return Ok(s);
        }
        match self.custom.iter().position(|c| c.id == id) {
            Some(i) => Scope::custom(i).ok_or_else(|| UnknownScopeError::new(id, [])),
            None => Err(UnknownScopeError::new(id, self.known_ids())),
        }
    }

    /// The custom scope `id`, without building an error when there is none.
    pub(crate) fn custom_scope_by_id(&self, id: &str) -> Option<Scope> {
        self.custom.iter().position(|c| c.id == id).and_then(Scope::custom)
    }

    /// Unique per build in this process.
    #[inline]
    pub(crate) fn uid(&self) -> u64 {
        self.uid
    }

    /// The id of a scope: the catalog's for a built-in, the app's for a custom one.
    pub fn scope_id(&self, scope: Scope) -> Option<&str> {
        match scope.builtin_info() {
            Some(info) => Some(info.id),
            None => self.custom.get(usize::from(scope.bit()) - BUILTIN_COUNT).map(|c| c.id.as_str()),
        }
    }

    /// The custom scope entry of `scope`, if it is custom.
    pub fn custom_scope(&self, scope: Scope) -> Option<&CustomScope> {
        usize::from(scope.bit()).checked_sub(BUILTIN_COUNT).and_then(|i| self.custom.get(i))
    }

    fn known_ids(&self) -> impl Iterator<Item = &str> {
        Scope::builtins()
            .filter_map(|s| s.builtin_info().map(|i| i.id))
            .chain(self.custom.iter().map(|c| c.id.as_str()))
    }

    /// The index of the version in effect at `t` (published at least the effect delay earlier).
    pub fn version_in_effect(&self, t: Timestamp) -> Option<&GuidelineVersion> {
        self.versions.iter().rev().find(|v| v.published_at.plus(self.effect_delay) <= t)
    }

    /// What a consent to the version `id` covers at `t`: the scopes that version declares, or
    /// nothing when the guidelines no longer hold it or a later version requiring fresh consent
    /// is in effect. The second value is when that answer ends (such a version takes effect).
    pub(crate) fn consent_cover(&self, id: &VersionId, t: Timestamp) -> (ScopeSet, Option<Timestamp>) {
        let Some(agreed) = self.version_by_id(id) else { return (ScopeSet::EMPTY, None) };
        let mut until = None;
        for later in self.versions.iter().filter(|v| v.fresh_consent && v.published_at > agreed.published_at) {
            let effect = later.published_at.plus(self.effect_delay);
            if effect <= t {
                return (ScopeSet::EMPTY, None);
            }
            until = Some(until.map_or(effect, |u: Timestamp| u.min(effect)));
        }
        (agreed.declared, until)
    }

    /// The scopes callable at `t`: those of the version in effect.
    pub fn in_effect(&self, t: Timestamp) -> ScopeSet {
        self.version_in_effect(t).map_or(ScopeSet::EMPTY, |v| v.declared)
    }

    /// The version numbered `number` in the current list.
    pub fn version(&self, number: u32) -> Option<&GuidelineVersion> {
        number.checked_sub(1).and_then(|i| self.versions.get(i as usize))
    }

    /// The version with this identity, if the guidelines still hold it.
    pub fn version_by_id(&self, id: &VersionId) -> Option<&GuidelineVersion> {
        self.versions.iter().find(|v| v.id == *id)
    }

    /// The time from which no version is still waiting to take effect.
    pub(crate) fn settled_at(&self) -> Timestamp {
        self.versions.last().map_or(Timestamp::EPOCH, |v| v.published_at.plus(self.effect_delay))
    }

    /// The scopes that the newest version declares.
    #[inline]
    pub fn latest_declared(&self) -> ScopeSet {
        self.latest
    }

    /// The version in which `scope` was declared most recently without a gap, if the newest
    /// version declares it.
    pub fn declared_since(&self, scope: Scope) -> Option<&GuidelineVersion> {
        let mut since = None;
        for v in &self.versions {
            if v.declared.contains(scope) {
                since = since.or(Some(v));
            } else {
                since = None;
            }
        }
        since
    }

    /// The purpose text given for `scope` in the newest version that declares it.
    pub fn purpose(&self, scope: Scope) -> Option<&str> {
        self.versions.iter().rev().flat_map(|v| v.purposes.iter()).find(|(s, _)| *s == scope).map(|(_, p)| p.as_str())
    }
}

impl fmt::Display for Guidelines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} versions)", self.contract_name, self.versions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Guidelines {
        Guidelines::builder("《示例小程序隐私保护指引》")
            .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
            .version(Timestamp::utc(2023, 7, 13, 0, 0, 0), ["chosen_location", "werun"])
            .build()
            .unwrap()
    }

    #[test]
    fn declaration_takes_effect_after_the_delay() {
        let g = seed();
        let published = Timestamp::utc(2023, 7, 13, 0, 0, 0);
        assert!(!g.in_effect(published.plus(Duration::from_secs(299))).contains(Scope::WERUN));
        assert!(g.in_effect(published.plus(Duration::from_secs(300))).contains(Scope::WERUN));
        assert_eq!(g.in_effect(Timestamp::utc(2023, 7, 10, 0, 0, 0)), ScopeSet::EMPTY);
        assert_eq!(g.version_in_effect(Timestamp::utc(2023, 7, 12, 0, 0, 0)).map(|v| v.number), Some(1));
    }

    #[test]
    fn unknown_scope_in_a_version_is_named() {
        let err = Guidelines::builder("x").version(Timestamp::EPOCH, ["wereun"]).build().unwrap_err();
        assert_eq!(err.to_string(), "guideline version 1: unknown privacy scope `wereun`; did you mean `werun`?");
    }

    #[test]
    fn versions_must_be_in_order_and_custom_ids_valid() {
        let t = Timestamp::utc(2023, 7, 11, 0, 0, 0);
        let err = Guidelines::builder("x").version(t, ["werun"]).version(t, ["werun"]).build().unwrap_err();
        assert!(matches!(err, GuidelinesError::OutOfOrder { version: 2, .. }));
        let err = Guidelines::builder("x").custom_scope(CustomScope::new("location", "", "")).build().unwrap_err();
        assert_eq!(err, GuidelinesError::DuplicateCustomScope("location".into()));
        let err = Guidelines::builder("x").custom_scope(CustomScope::new("Health", "", "")).build().unwrap_err();
        assert_eq!(err, GuidelinesError::BadCustomScopeId("Health".into()));
    }

    #[test]
    fn custom_scopes_resolve_after_builtins() {
        let g = Guidelines::builder("x")
            .custom_scope(CustomScope::new("health_record", "健康记录", "Health records"))
            .version(Timestamp::EPOCH, ["health_record"])
            .build()
            .unwrap();
        let s = g.scope("health_record").unwrap();
        assert!(s.is_custom());
        assert_eq!(g.scope_id(s), Some("health_record"));
        assert!(g.versions()[0].declared.contains(s));
        assert_eq!(g.scope("health_recrod").unwrap_err().suggestion(), Some("health_record"));
    }

    #[test]
    fn version_identity_is_content_not_position() {
        let g = seed();
        let first = g.versions()[0].id;
        // Another version inserted before it: same identity, found by identity.
        let inserted = Guidelines::builder("《示例小程序隐私保护指引》")
            .version(Timestamp::utc(2023, 7, 1, 0, 0, 0), ["location"])
            .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
            .build()
            .unwrap();
        assert_eq!(inserted.versions()[1].id, first);
        assert_eq!(inserted.version_by_id(&first).map(|v| v.number), Some(2));
        // Same time, another purpose or contract: another version.
        let purpose = Guidelines::builder("《示例小程序隐私保护指引》")
            .version_with_purposes(Timestamp::utc(2023, 7, 11, 0, 0, 0), [("chosen_location", "ads")])
            .build()
            .unwrap();
        assert_ne!(purpose.versions()[0].id, first);
        let renamed = Guidelines::builder("《另一个指引》")
            .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
            .build()
            .unwrap();
        assert_eq!(renamed.version_by_id(&first), None);
        // Order of listing does not matter.
        let a = Guidelines::builder("x").version(Timestamp::EPOCH, ["werun", "location"]).build().unwrap();
        let b = Guidelines::builder("x").version(Timestamp::EPOCH, ["location", "werun"]).build().unwrap();
        assert_eq!(a.versions()[0].id, b.versions()[0].id);
        let json = serde_json::to_value(first).unwrap();
        assert_eq!(json["published_at"], "2023-07-11T00:00:00Z");
        assert_eq!(serde_json::from_value::<VersionId>(json).unwrap(), first);
    }

    #[test]
    fn declared_since_tracks_the_unbroken_run() {
        let g = seed();
        assert_eq!(g.declared_since(Scope::WERUN).map(|v| v.number), Some(2));
        assert_eq!(g.declared_since(Scope::CHOSEN_LOCATION).map(|v| v.number), Some(1));
        assert_eq!(g.declared_since(Scope::LOCATION), None);
    }
}
