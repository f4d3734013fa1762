//! Privacy scopes: the platform's privacy types as typed values, and sets of them.
//!
//! Every built-in type of [`privacy_spec::BUILTIN_SCOPES`] has a fixed bit; custom scopes that an
//! app declares in its [`Guidelines`](crate::Guidelines) take the bits after them. A
//! [`ScopeSet`] is a bitset, so "does this consent cover that call" is two ANDs and a compare.

use std::fmt;

pub use privacy_spec::BuiltinScope;
use privacy_spec::{BUILTIN_SCOPES, builtin_index};

/// The number of built-in privacy types.
pub const BUILTIN_COUNT: usize = BUILTIN_SCOPES.len();
/// The most scopes one app can know: built-ins plus custom ones.
pub const MAX_SCOPES: usize = privacy_spec::rules::MAX_SCOPES;

/// One privacy scope: a built-in privacy type or a custom scope of the app.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(u8);

macro_rules! builtin_consts {
    ($($name:ident = $id:literal;)*) => {
        impl Scope {
            $(
                #[doc = concat!("The built-in scope `", $id, "`.")]
                pub const $name: Scope = Scope::builtin_const($id);
            )*
        }
    };
}

builtin_consts! {
    USER_INFO = "user_info";
    LOCATION = "location";
    CHOSEN_LOCATION = "chosen_location";
    ADDRESS = "address";
    INVOICE = "invoice";
    WERUN = "werun";
    PHONE_NUMBER = "phone_number";
    LICENSE_PLATE = "license_plate";
    CHOSEN_MEDIA = "chosen_media";
    CHOSEN_FILE = "chosen_file";
    MICROPHONE = "microphone";
    CAMERA = "camera";
    BLUETOOTH = "bluetooth";
    ALBUM_WRITE = "album_write";
    CONTACTS_WRITE = "contacts_write";
    CALENDAR_WRITE = "calendar_write";
    ACCELEROMETER = "accelerometer";
    COMPASS = "compass";
    DEVICE_MOTION = "device_motion";
    GYROSCOPE = "gyroscope";
    CLIPBOARD = "clipboard";
    DEVICE_INFO = "device_info";
    ID_NUMBER = "id_number";
    ORDER_INFO = "order_info";
    PUBLISHED_CONTENT = "published_content";
    FOLLOWED_ACCOUNTS = "followed_accounts";
    OPERATION_LOG = "operation_log";
    EMAIL = "email";
}

impl Scope {
    /// The built-in scope with this id, evaluated at compile time; a wrong id fails the build.
    #[doc(hidden)]
    pub const fn builtin_const(id: &str) -> Scope {
        match builtin_index(id) {
            #[allow(clippy::cast_possible_truncation)]
            Some(i) => Scope(i as u8),
            None => panic!("not a built-in privacy scope"),
        }
    }

    /// Parses the id of a built-in scope. Custom scopes are resolved by
    /// [`Guidelines::scope`](crate::Guidelines::scope), which knows them.
    ///
    /// ```
    /// use privacy_runtime::Scope;
    /// assert_eq!(Scope::parse_builtin("werun"), Ok(Scope::WERUN));
    /// let err = Scope::parse_builtin("locaton").unwrap_err();
    /// assert_eq!(err.suggestion(), Some("location"));
    /// ```
    pub fn parse_builtin(id: &str) -> Result<Scope, UnknownScopeError> {
        match builtin_index(id) {
            #[allow(clippy::cast_possible_truncation)]
            Some(i) => Ok(Scope(i as u8)),
            None => Err(UnknownScopeError::new(id, BUILTIN_SCOPES.iter().map(|s| s.id))),
        }
    }

    /// Every built-in scope, in bit order.
    pub fn builtins() -> impl Iterator<Item = Scope> {
        #[allow(clippy::cast_possible_truncation)]
        (0..BUILTIN_COUNT).map(|i| Scope(i as u8))
    }

    /// The catalog entry of a built-in scope; `None` for a custom scope.
    pub fn builtin_info(self) -> Option<&'static BuiltinScope> {
        BUILTIN_SCOPES.get(usize::from(self.0))
    }

    /// `true` for a custom scope declared by the app.
    pub fn is_custom(self) -> bool {
        usize::from(self.0) >= BUILTIN_COUNT
    }

    /// The bit of this scope in a [`ScopeSet`].
    pub fn bit(self) -> u8 {
        self.0
    }

    pub(crate) fn custom(index: usize) -> Option<Scope> {
        let bit = BUILTIN_COUNT + index;
        #[allow(clippy::cast_possible_truncation)]
        (bit < MAX_SCOPES).then_some(Scope(bit as u8))
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.builtin_info() {
            Some(info) => write!(f, "Scope({})", info.id),
            None => write!(f, "Scope(custom #{})", usize::from(self.0) - BUILTIN_COUNT),
        }
    }
}

/// A set of scopes, as a 128-bit bitset.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u128);

impl ScopeSet {
    /// The empty set.
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// This set with `scope` added.
    #[must_use]
    pub const fn with(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 | (1u128 << scope.0))
    }

    /// The set of the built-in scopes named by `ids`, at compile time; a wrong id fails the build.
    #[doc(hidden)]
    pub const fn from_builtin_ids(ids: &[&str]) -> ScopeSet {
        let mut set = ScopeSet::EMPTY;
        let mut i = 0;
        while i < ids.len() {
            set = set.with(Scope::builtin_const(ids[i]));
            i += 1;
        }
        set
    }

    /// `true` when `scope` is in the set.
    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & (1u128 << scope.0) != 0
    }

    /// `true` when every scope of `self` is in `other`.
    #[inline]
    pub const fn is_subset(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Scopes in either set.
    #[must_use]
    pub const fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    /// Scopes in both sets.
    #[must_use]
    #[inline]
    pub const fn intersection(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    /// Scopes of `self` that are not in `other`.
    #[must_use]
    pub const fn difference(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & !other.0)
    }

    /// `true` for the empty set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of scopes in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The scopes of the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        #[allow(clippy::cast_possible_truncation)]
        (0..MAX_SCOPES as u8).map(Scope).filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(ScopeSet::EMPTY, ScopeSet::with)
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// An id that names no scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown privacy scope `{input}`{}", match suggestion {
    Some(s) => format!("; did you mean `{s}`?"),
    None => "; see privacy_runtime::Scope::builtins() for the built-in ids".to_owned(),
})]
pub struct UnknownScopeError {
    input: String,
    suggestion: Option<String>,
}

impl UnknownScopeError {
    pub(crate) fn new<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Self {
        UnknownScopeError {
            input: input.to_owned(),
            suggestion: privacy_spec::closest(input, known).map(str::to_owned),
        }
    }

    /// The id that was not found.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The closest known id, when one is close enough to be a typo.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_catalog() {
        assert_eq!(Scope::USER_INFO.builtin_info().map(|s| s.id), Some("user_info"));
        assert_eq!(Scope::EMAIL.builtin_info().map(|s| s.id), Some("email"));
        assert_eq!(Scope::builtins().count(), 28);
    }

    #[test]
    fn set_algebra() {
        let a = ScopeSet::EMPTY.with(Scope::LOCATION).with(Scope::WERUN);
        let b = ScopeSet::from_builtin_ids(&["location"]);
        assert!(b.is_subset(a));
        assert!(!a.is_subset(b));
        assert_eq!(a.difference(b), ScopeSet::EMPTY.with(Scope::WERUN));
        assert_eq!(a.intersection(b), b);
        assert_eq!(a.len(), 2);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![Scope::LOCATION, Scope::WERUN]);
    }

    #[test]
    fn unknown_scope_names_the_closest() {
        let err = Scope::parse_builtin("chosen_locaton").unwrap_err();
        assert_eq!(err.suggestion(), Some("chosen_location"));
        assert_eq!(err.to_string(), "unknown privacy scope `chosen_locaton`; did you mean `chosen_location`?");
        assert_eq!(Scope::parse_builtin("qqqqqqqqqq").unwrap_err().suggestion(), None);
    }
}
