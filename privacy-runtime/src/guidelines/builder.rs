//! Building guidelines: from code (`Guidelines::builder`) and from the constants
//! `guidelines!()` compiles.

use std::time::Duration;

use super::*;

/// A scope id as given to the builder, with its purpose text.
type ScopeEntry = (String, Option<String>);

#[derive(Debug, Clone)]
struct BuilderVersion {
    published_at: Timestamp,
    scopes: Vec<ScopeEntry>,
    fresh_consent: bool,
}

/// Builds [`Guidelines`].
#[derive(Debug, Clone)]
#[must_use]
pub struct GuidelinesBuilder {
    contract_name: String,
    contract: Option<ContractLocation>,
    versions: Vec<BuilderVersion>,
    effect_delay: Duration,
    banned: bool,
    custom: Vec<CustomScope>,
    agree_buttons: Vec<String>,
}

impl GuidelinesBuilder {
    pub(super) fn new(contract_name: String) -> GuidelinesBuilder {
        GuidelinesBuilder {
            contract_name,
            contract: None,
            versions: Vec::new(),
            effect_delay: DEFAULT_EFFECT_DELAY,
            banned: false,
            custom: Vec::new(),
            agree_buttons: Vec::new(),
        }
    }

    /// The contract is a page at `url`.
    pub fn contract_url(mut self, url: impl Into<String>) -> Self {
        self.contract = Some(ContractLocation::Url(url.into()));
        self
    }

    /// The contract is this text.
    pub fn contract_text(mut self, text: impl Into<String>) -> Self {
        self.contract = Some(ContractLocation::Text(text.into()));
        self
    }

    /// Adds a version published at `published_at` that declares exactly `scopes` (built-in or
    /// custom ids). Versions must be added oldest first.
    pub fn version<I, S>(mut self, published_at: Timestamp, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let scopes = scopes.into_iter().map(|s| (s.as_ref().to_owned(), None)).collect();
        self.versions.push(BuilderVersion { published_at, scopes, fresh_consent: false });
        self
    }

    /// Adds a version like [`version`](Self::version), with a purpose text for each scope.
    pub fn version_with_purposes<I, S, P>(mut self, published_at: Timestamp, scopes: I) -> Self
    where
        I: IntoIterator<Item = (S, P)>,
        S: AsRef<str>,
        P: Into<String>,
    {
        let scopes = scopes.into_iter().map(|(s, p)| (s.as_ref().to_owned(), Some(p.into()))).collect();
        self.versions.push(BuilderVersion { published_at, scopes, fresh_consent: false });
        self
    }

    /// Marks the version added last as requiring fresh consent: once it is in effect, consent
    /// given to any earlier version covers nothing and every user is asked again, even when the
    /// version adds no scope (a purpose changed; PIPL Art. 14). Does nothing before any version.
    ///
    /// Mark a version when it is published: the mark is part of the version's identity, so
    /// marking a version already published makes the consents given to it count for nothing.
    ///
    /// ```
    /// use privacy_runtime::{Guidelines, Timestamp};
    /// let g = Guidelines::builder("《示例小程序隐私保护指引》")
    ///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
    ///     .version_with_purposes(Timestamp::utc(2024, 1, 1, 0, 0, 0), [("chosen_location", "用于推荐附近门店")])
    ///     .requires_fresh_consent()
    ///     .build()?;
    /// assert!(g.versions()[1].fresh_consent);
    /// # Ok::<(), privacy_runtime::GuidelinesError>(())
    /// ```
    pub fn requires_fresh_consent(mut self) -> Self {
        if let Some(v) = self.versions.last_mut() {
            v.fresh_consent = true;
        }
        self
    }

    /// Sets the delay between publishing and taking effect (default 5 minutes).
    pub fn effect_delay(mut self, delay: Duration) -> Self {
        self.effect_delay = delay;
        self
    }

    /// Marks the app as having declared "no personal data" at review.
    pub fn banned(mut self, banned: bool) -> Self {
        self.banned = banned;
        self
    }

    /// Declares a custom scope.
    pub fn custom_scope(mut self, scope: CustomScope) -> Self {
        self.custom.push(scope);
        self
    }

    /// Registers the id of an agree button (`<button open-type="agreePrivacyAuthorization">`).
    pub fn agree_button(mut self, id: impl Into<String>) -> Self {
        self.agree_buttons.push(id.into());
        self
    }

    /// Checks and builds the guidelines.
    pub fn build(self) -> Result<Guidelines, GuidelinesError> {
        self.check()?;
        Ok(self.assemble())
    }

    /// Every rule of `privacy_spec::rules`, the ones the guidelines file is checked against
    /// while compiling, plus what only code can get wrong (duplicate custom ids, unknown scopes).
    fn check(&self) -> Result<(), GuidelinesError> {
        use privacy_spec::rules;
        if rules::contract_name(&self.contract_name).is_err() {
            return Err(GuidelinesError::MissingContractName);
        }
        if rules::custom_scope_count(self.custom.len()).is_err() {
            return Err(GuidelinesError::TooManyCustomScopes(self.custom.len()));
        }
        if self.effect_delay > MAX_EFFECT_DELAY {
            return Err(GuidelinesError::EffectDelayTooLong(self.effect_delay));
        }
        for (i, id) in self.agree_buttons.iter().enumerate() {
            rules::agree_button(id, self.agree_buttons[..i].iter().map(String::as_str))
                .map_err(GuidelinesError::BadAgreeButton)?;
        }
        for (i, c) in self.custom.iter().enumerate() {
            if rules::custom_scope_id(&c.id).is_err() {
                return Err(if Scope::parse_builtin(&c.id).is_ok() {
                    GuidelinesError::DuplicateCustomScope(c.id.clone())
                } else {
                    GuidelinesError::BadCustomScopeId(c.id.clone())
                });
            }
            if self.custom[..i].iter().any(|o| o.id == c.id) {
                return Err(GuidelinesError::DuplicateCustomScope(c.id.clone()));
            }
        }
        let mut previous: Option<Timestamp> = None;
        for (i, BuilderVersion { published_at, scopes, .. }) in self.versions.iter().enumerate() {
            let version = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if rules::published_at_millis(published_at.unix_millis()).is_err() {
                return Err(GuidelinesError::PublishedOutOfRange { version, published_at: *published_at });
            }
            if let Some(prev) = previous.filter(|p| p >= published_at) {
                return Err(GuidelinesError::OutOfOrder { version, published_at: *published_at, previous: prev });
            }
            previous = Some(*published_at);
            for (id, _) in scopes {
                if Scope::parse_builtin(id).is_err() && !self.custom.iter().any(|c| c.id == *id) {
                    let known = Scope::builtins()
                        .filter_map(|s| s.builtin_info().map(|i| i.id))
                        .chain(self.custom.iter().map(|c| c.id.as_str()));
                    return Err(GuidelinesError::UnknownScope { version, source: UnknownScopeError::new(id, known) });
                }
            }
        }
        Ok(())
    }

    /// The guidelines, from a builder that [`check`](Self::check) accepts (or whose contents the
    /// compiler checked against the same rules): nothing here can fail.
    fn assemble(self) -> Guidelines {
        static UIDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut g = Guidelines {
            latest: ScopeSet::EMPTY,
            uid: UIDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            contract_name: self.contract_name,
            contract: self.contract,
            versions: Vec::with_capacity(self.versions.len()),
            effect_delay: self.effect_delay,
            banned: self.banned,
            custom: self.custom,
            agree_buttons: self.agree_buttons,
        };
        for (i, BuilderVersion { published_at, scopes, fresh_consent }) in self.versions.into_iter().enumerate() {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let mut declared = ScopeSet::EMPTY;
            let mut purposes = Vec::new();
            let mut content = Vec::with_capacity(scopes.len());
            for (id, purpose) in scopes {
                let Ok(scope) = g.scope(&id) else { continue };
                if declared.contains(scope) {
                    continue;
                }
                declared = declared.with(scope);
                let custom = g
                    .custom_scope(scope)
                    .map(|c| format!("{}\n{}\n{}", c.name_zh, c.name_en, c.description))
                    .unwrap_or_default();
                content.push((id, purpose.clone().unwrap_or_default(), custom));
                if let Some(p) = purpose {
                    purposes.push((scope, p));
                }
            }
            let id = VersionId::of(&g.contract_name, published_at, fresh_consent, &mut content);
            g.versions.push(GuidelineVersion { id, number, published_at, declared, purposes, fresh_consent });
        }
        g.latest = g.versions.last().map_or(ScopeSet::EMPTY, |v| v.declared);
        g
    }
}

/// One version as [`guidelines!`](crate::guidelines!) compiles it: publish time, whether it
/// requires fresh consent, and (scope id, purpose). Not a public API.
#[doc(hidden)]
pub type CompiledVersion<'a> = (i64, bool, &'a [(&'a str, &'a str)]);

/// Guidelines as [`guidelines!`](crate::guidelines!) compiles them: the checked contents of the
/// guidelines file, as constants. Not a public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Compiled<'a> {
    /// The contract's name.
    pub contract_name: &'a str,
    /// The contract's page.
    pub contract_url: Option<&'a str>,
    /// The contract's text.
    pub contract_text: Option<&'a str>,
    /// Agree-button ids.
    pub agree_buttons: &'a [&'a str],
    /// The effect delay, when the file gives one.
    pub effect_delay_seconds: Option<u64>,
    /// Declared "no personal data".
    pub banned: bool,
    /// Custom scopes: id, Chinese name, English name, description.
    pub custom_scopes: &'a [[&'a str; 4]],
    /// Versions, oldest first: publish time, whether it requires fresh consent, and
    /// (scope id, purpose).
    pub versions: &'a [CompiledVersion<'a>],
}

impl Guidelines {
    /// The guidelines of a file the compiler checked. Not a public API: use
    /// [`guidelines!`](crate::guidelines!).
    #[doc(hidden)]
    pub fn __from_compiled(c: &Compiled<'_>) -> Guidelines {
        let mut b = Guidelines::builder(c.contract_name).banned(c.banned);
        b.contract = match (c.contract_url, c.contract_text) {
            (Some(u), _) => Some(ContractLocation::Url(u.to_owned())),
            (None, Some(t)) => Some(ContractLocation::Text(t.to_owned())),
            (None, None) => None,
        };
        if let Some(secs) = c.effect_delay_seconds {
            b.effect_delay = Duration::from_secs(secs);
        }
        b.custom = c
            .custom_scopes
            .iter()
            .map(|[id, zh, en, description]| CustomScope::new(*id, *zh, *en).description(*description))
            .collect();
        b.agree_buttons = c.agree_buttons.iter().map(|s| (*s).to_owned()).collect();
        b.versions = c
            .versions
            .iter()
            .map(|(at, fresh_consent, scopes)| BuilderVersion {
                published_at: Timestamp::from_unix_millis(*at),
                scopes: scopes.iter().map(|(id, p)| ((*id).to_owned(), Some((*p).to_owned()))).collect(),
                fresh_consent: *fresh_consent,
            })
            .collect();
        b.assemble()
    }
}
