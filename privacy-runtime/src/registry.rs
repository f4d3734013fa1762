//! The registry of guarded APIs: every `#[privacy_scope]` function, gathered at link time with no
//! list kept by hand.

use std::fmt;
use std::sync::OnceLock;

use crate::guidelines::Guidelines;
use crate::scope::{Scope, ScopeSet};

/// One `#[privacy_scope]` function: its API name, scopes and where it is written.
///
/// Built as a constant by the macro; the runtime lists them with [`apis`].
pub struct CallSite {
    api: &'static str,
    builtin: ScopeSet,
    custom: &'static [&'static str],
    scopes: &'static [&'static str],
    module_path: &'static str,
    file: &'static str,
    line: u32,
    is_async: bool,
    /// The scopes of a site with custom scopes, as resolved in the first guidelines that knew
    /// them all (by [`Guidelines::uid`]).
    resolved: OnceLock<(u64, ScopeSet)>,
}

impl CallSite {
    /// A call site; `builtin` and `custom` split the scope ids as the macro validated them.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        api: &'static str,
        builtin: &'static [&'static str],
        custom: &'static [&'static str],
        scopes: &'static [&'static str],
        module_path: &'static str,
        file: &'static str,
        line: u32,
        is_async: bool,
    ) -> CallSite {
        CallSite {
            api,
            builtin: ScopeSet::from_builtin_ids(builtin),
            custom,
            scopes,
            module_path,
            file,
            line,
            is_async,
            resolved: OnceLock::new(),
        }
    }

    /// The API name used in errMsg and as the event's `referrer`.
    #[inline]
    pub fn api(&self) -> &'static str {
        self.api
    }

    /// The scope ids, as written in the attribute.
    pub fn scope_ids(&self) -> &'static [&'static str] {
        self.scopes
    }

    /// The module the function is in.
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The source file.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the attribute.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// `true` for an `async fn`.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// The scopes this API needs under `guidelines`; `None` when a custom scope is unknown there.
    #[inline]
    pub fn required(&self, guidelines: &Guidelines) -> Option<ScopeSet> {
        if self.custom.is_empty() {
            return Some(self.builtin);
        }
        match self.resolved.get() {
            Some(&(uid, set)) if uid == guidelines.uid() => Some(set),
            _ => self.resolve(guidelines),
        }
    }

    /// Looks the custom scopes up by id, and remembers the answer for the first guidelines that
    /// declare them all (a program has one set of guidelines; tests with several resolve again).
    #[cold]
    fn resolve(&self, guidelines: &Guidelines) -> Option<ScopeSet> {
        let set = self
            .custom
            .iter()
            .try_fold(self.builtin, |set, id| guidelines.custom_scope_by_id(id).map(|s| set.with(s)))?;
        let _ = self.resolved.set((guidelines.uid(), set));
        Some(set)
    }
}

impl fmt::Debug for CallSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallSite")
            .field("api", &self.api)
            .field("scopes", &self.scopes)
            .field("module_path", &self.module_path)
            .field("location", &format_args!("{}:{}", self.file, self.line))
            .field("is_async", &self.is_async)
            .finish()
    }
}

/// The link-time slice every `#[privacy_scope]` function adds its call site to.
///
/// Entries are added by [`__privacy_site!`](crate::__privacy_site), through the declarative macro
/// that linkme generates beside the slice (the one its `#[distributed_slice(PRIVACY_APIS)]`
/// element attribute expands to), not through that attribute: the attribute is a proc-macro call
/// per entry and adds a type check that an entry written by hand needs and ours does not (its type
/// is `CallSite` by construction). On a crate of 1,000 guarded functions the attribute was most
/// of a rebuild's time (BENCHMARKS.md). The macro is generated with the slice, by the same linkme
/// in the same build, so the two cannot disagree; a linkme whose macro took other input would fail
/// to compile `privacy-runtime`'s own tests, not misplace an entry.
#[doc(hidden)]
#[linkme::distributed_slice]
pub static PRIVACY_APIS: [CallSite];

/// Every `#[privacy_scope]` function linked into this program, sorted by API name, module and
/// line.
pub fn apis() -> Vec<&'static CallSite> {
    let mut v: Vec<&'static CallSite> = PRIVACY_APIS.iter().collect();
    v.sort_by_key(|s| (s.api, s.module_path, s.line));
    v
}

/// A scope that registered APIs use but the guidelines do not declare.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UndeclaredScope {
    /// The scope id.
    pub scope: String,
    /// The APIs that use it.
    pub apis: Vec<&'static CallSite>,
}

impl fmt::Display for UndeclaredScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scope `{}` is used by ", self.scope)?;
        for (i, s) in self.apis.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{} ({}:{})", s.api, s.file, s.line)?;
        }
        write!(f, " but not declared in the newest guideline version; calls will fail with errno 112")
    }
}

/// The startup check: every scope that `sites` use and the newest version of `guidelines` does
/// not declare, each with the APIs that use it. Empty when all is declared.
pub fn undeclared_scopes(guidelines: &Guidelines, sites: &[&'static CallSite]) -> Vec<UndeclaredScope> {
    let declared = guidelines.latest_declared();
    let mut out: Vec<UndeclaredScope> = Vec::new();
    for site in sites {
        for id in site.scopes {
            let ok = guidelines.scope(id).is_ok_and(|s: Scope| declared.contains(s));
            if ok {
                continue;
            }
            match out.iter_mut().find(|u| u.scope == *id) {
                Some(u) => u.apis.push(site),
                None => out.push(UndeclaredScope { scope: (*id).to_owned(), apis: vec![site] }),
            }
        }
    }
    out.sort_by(|a, b| a.scope.cmp(&b.scope));
    out
}
