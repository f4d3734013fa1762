//! Tickets: the names of pending authorizations that a client sends back.
//!
//! A ticket is 128 bits from the operating system's randomness, so one observed ticket says
//! nothing about any other. Tests may seed a predictable sequence instead (`test-util`).

use std::fmt;

use crate::sync::{Mutex, lock};

/// Identifies one pending authorization, so a client can resolve it later. Tickets are random,
/// single use, bound to their user and expire with their authorization.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u128);

impl Ticket {
    /// Parses the 32-hex-digit form that `Display` prints (as a client sends it back).
    ///
    /// ```
    /// use privacy_runtime::Ticket;
    /// assert!(Ticket::parse("00000000000000000000000000000000").is_some());
    /// assert!(Ticket::parse("beef").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<Ticket> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(s, 16).ok().map(Ticket)
    }
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ticket({self})")
    }
}

impl serde::Serialize for Ticket {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Ticket {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ticket::parse(&s).ok_or_else(|| serde::de::Error::custom("a ticket is 32 hex digits"))
    }
}

/// The operating system could not give randomness for a ticket.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no randomness for a ticket: {0}")]
pub(crate) struct TicketError(String);

/// Where tickets come from.
pub(crate) enum TicketSource {
    /// The operating system's randomness.
    Os,
    /// A predictable sequence from a seed, for tests.
    #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
    Seeded(Box<Mutex<u128>>),
}

impl TicketSource {
    pub(crate) fn next(&self) -> Result<Ticket, TicketError> {
        match self {
            TicketSource::Os => {
                let mut bytes = [0u8; 16];
                getrandom::fill(&mut bytes).map_err(|e| TicketError(e.to_string()))?;
                Ok(Ticket(u128::from_le_bytes(bytes)))
            }
            TicketSource::Seeded(state) => {
                let mut s = lock(state);
                *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
                let mut z = *s;
                z = (z ^ (z >> 67)).wrapping_mul(0xbf58_476d_1ce4_e5b9_94d0_49bb_1331_11eb);
                z ^= z >> 61;
                Ok(Ticket(z))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_print_and_parse() {
        let t = Ticket(0xdead_beef);
        assert_eq!(t.to_string(), "000000000000000000000000deadbeef");
        assert_eq!(Ticket::parse("000000000000000000000000deadbeef"), Some(t));
        assert_eq!(Ticket::parse("+00000000000000000000000deadbeef"), None);
        assert_eq!(Ticket::parse("beef"), None);
    }

    #[test]
    fn os_tickets_differ() {
        let a = TicketSource::Os.next().unwrap();
        let b = TicketSource::Os.next().unwrap();
        assert_ne!(a, b);
    }
}
