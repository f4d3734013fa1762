//! Subjects: the users whose consent is checked.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The user a consent belongs to: an integer id or a string id (an openid, say).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// An integer id.
    Int(i128),
    /// A string id.
    Str(Arc<str>),
}

/// A borrowed [`Subject`], so a guarded call can look a user up without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SubjectRef<'a> {
    /// An integer id.
    Int(i128),
    /// A string id.
    Str(&'a str),
}

impl Subject {
    /// Borrows this subject.
    #[inline]
    pub fn as_ref(&self) -> SubjectRef<'_> {
        match self {
            Subject::Int(i) => SubjectRef::Int(*i),
            Subject::Str(s) => SubjectRef::Str(s),
        }
    }
}

impl SubjectRef<'_> {
    /// An owned copy.
    pub fn to_owned(self) -> Subject {
        match self {
            SubjectRef::Int(i) => Subject::Int(i),
            SubjectRef::Str(s) => Subject::Str(Arc::from(s)),
        }
    }
}

impl PartialEq<SubjectRef<'_>> for Subject {
    #[inline]
    fn eq(&self, other: &SubjectRef<'_>) -> bool {
        self.as_ref() == *other
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Int(i) => write!(f, "Subject({i})"),
            Subject::Str(s) => write!(f, "Subject({s:?})"),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Int(i) => write!(f, "{i}"),
            Subject::Str(s) => f.write_str(s),
        }
    }
}

impl serde::Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Subject::Int(i) => match i64::try_from(*i) {
                Ok(i) => s.serialize_i64(i),
                Err(_) => s.collect_str(i),
            },
            Subject::Str(v) => s.serialize_str(v),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Subject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string subject id")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Subject, E> {
                Ok(Subject::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Subject, E> {
                Ok(Subject::Int(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Subject, E> {
                Ok(Subject::Str(v.into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value that names a subject: the type of a `#[subject]` parameter.
///
/// Implemented for strings and integers; implement it for your own user type.
///
/// ```
/// use privacy_runtime::{AsSubject, SubjectRef};
/// struct User { openid: String }
/// impl AsSubject for User {
///     fn as_subject(&self) -> SubjectRef<'_> { SubjectRef::Str(&self.openid) }
/// }
/// ```
pub trait AsSubject {
    /// This value as a subject.
    fn as_subject(&self) -> SubjectRef<'_>;
}

impl AsSubject for str {
    #[inline]
    fn as_subject(&self) -> SubjectRef<'_> {
        SubjectRef::Str(self)
    }
}
impl AsSubject for String {
    fn as_subject(&self) -> SubjectRef<'_> {
        SubjectRef::Str(self)
    }
}
impl AsSubject for Arc<str> {
    fn as_subject(&self) -> SubjectRef<'_> {
        SubjectRef::Str(self)
    }
}
impl AsSubject for Box<str> {
    fn as_subject(&self) -> SubjectRef<'_> {
        SubjectRef::Str(self)
    }
}
impl AsSubject for Cow<'_, str> {
    fn as_subject(&self) -> SubjectRef<'_> {
        SubjectRef::Str(self)
    }
}
impl AsSubject for Subject {
    fn as_subject(&self) -> SubjectRef<'_> {
        self.as_ref()
    }
}
impl AsSubject for SubjectRef<'_> {
    fn as_subject(&self) -> SubjectRef<'_> {
        *self
    }
}
impl<T: AsSubject + ?Sized> AsSubject for &T {
    #[inline]
    fn as_subject(&self) -> SubjectRef<'_> {
        (**self).as_subject()
    }
}
impl<T: AsSubject + ?Sized> AsSubject for &mut T {
    fn as_subject(&self) -> SubjectRef<'_> {
        (**self).as_subject()
    }
}
macro_rules! int_subject {
    ($($t:ty)*) => {$(
        impl AsSubject for $t {
            fn as_subject(&self) -> SubjectRef<'_> {
                SubjectRef::Int(i128::from(*self))
            }
        }
        impl From<$t> for Subject {
            fn from(v: $t) -> Subject {
                Subject::Int(i128::from(v))
            }
        }
    )*};
}
int_subject!(u8 u16 u32 u64 i8 i16 i32 i64);

impl AsSubject for usize {
    fn as_subject(&self) -> SubjectRef<'_> {
        SubjectRef::Int(*self as i128)
    }
}

impl From<&str> for Subject {
    fn from(v: &str) -> Subject {
        Subject::Str(v.into())
    }
}
impl From<String> for Subject {
    fn from(v: String) -> Subject {
        Subject::Str(v.into())
    }
}
impl From<SubjectRef<'_>> for Subject {
    fn from(v: SubjectRef<'_>) -> Subject {
        v.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_and_string_ids_never_collide() {
        assert_ne!(Subject::from(7u64), Subject::from("7"));
        assert_eq!(Subject::from(7u8), Subject::from(7i64));
    }

    #[test]
    fn serde_round_trip() {
        let s: Subject = serde_json::from_str("\"o6_bmjrPTlm6_2sgVt7hMZOPfL2M\"").unwrap();
        assert_eq!(s, Subject::from("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"));
        let n: Subject = serde_json::from_str("42").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "42");
    }
}
