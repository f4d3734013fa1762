//! Which clients' calls are checked (the seed, part III).

use privacy_runtime::Timestamp;

/// The first base library that intercepts privacy APIs.
pub const FIRST_INTERCEPTING_SDK: [u32; 3] = [2, 32, 3];

/// The day the platform began enforcing for every app (2023-10-17); before it, only apps that
/// set `__usePrivacyCheck__` were checked.
pub fn enforced_from() -> Timestamp {
    Timestamp::utc(2023, 10, 17, 0, 0, 0)
}

/// Which clients' calls the backend checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforcement {
    /// Every call is checked, whatever the client reports: a real backend's policy, since a
    /// client's version and flags are the client's word.
    #[default]
    Strict,
    /// As the platform does, for testing a mini program against its rules: a base library below
    /// 2.32.3 is not intercepted; from 2.32.3 a call is checked when the app set
    /// `__usePrivacyCheck__`, or from 2023-10-17 on.
    Platform,
}

impl Enforcement {
    /// Whether the calls of a client reporting base library `sdk_version`, in an app that set
    /// `__usePrivacyCheck__` or not, are checked now (the clock is read only when it matters).
    pub fn intercepts(self, sdk_version: [u32; 3], use_privacy_check: bool, now: impl FnOnce() -> Timestamp) -> bool {
        match self {
            Enforcement::Strict => true,
            Enforcement::Platform => {
                sdk_version >= FIRST_INTERCEPTING_SDK && (use_privacy_check || now() >= enforced_from())
            }
        }
    }
}

/// Parses a base library version such as `3.3.4` (one to three numbers).
pub fn parse_sdk_version(s: &str) -> Option<[u32; 3]> {
    let mut v = [0u32; 3];
    let mut parts = s.split('.');
    for slot in &mut v {
        match parts.next() {
            Some(p) if !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()) => {
                *slot = p.parse().ok()?;
            }
            Some(_) => return None,
            None => break,
        }
    }
    if parts.next().is_some() || s.is_empty() {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a client reports: its base library, and whether the app set `__usePrivacyCheck__`.
    fn client(sdk: &str, check: bool) -> ([u32; 3], bool) {
        (parse_sdk_version(sdk).unwrap_or_default(), check)
    }

    fn checks(policy: Enforcement, (sdk, check): ([u32; 3], bool), now: Timestamp) -> bool {
        policy.intercepts(sdk, check, || now)
    }

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(parse_sdk_version("2.32.3"), Some([2, 32, 3]));
        assert_eq!(parse_sdk_version("3"), Some([3, 0, 0]));
        for bad in ["", "2..3", "2.32.3.1", "a.b", "2.32.x", "99999.1"] {
            assert_eq!(parse_sdk_version(bad), None, "{bad}");
        }
        assert!(parse_sdk_version("2.32.2") < Some(FIRST_INTERCEPTING_SDK));
        assert!(parse_sdk_version("2.100.0") > Some(FIRST_INTERCEPTING_SDK));
    }

    #[test]
    fn platform_policy_follows_version_flag_and_date() {
        let before = Timestamp::utc(2023, 7, 12, 0, 0, 0);
        let after = Timestamp::utc(2023, 10, 17, 0, 0, 0);
        let p = Enforcement::Platform;
        assert!(!checks(p, client("2.32.2", true), after), "old base library: never intercepted");
        assert!(!checks(p, client("2.32.3", false), before), "no flag, before the date");
        assert!(checks(p, client("2.32.3", true), before), "flag set");
        assert!(checks(p, client("3.0.0", false), after), "on the date");
        for c in [client("1.0.0", false), client("2.32.2", false)] {
            assert!(checks(Enforcement::Strict, c, before), "strict checks everyone");
        }
    }
}
