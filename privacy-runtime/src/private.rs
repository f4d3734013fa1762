//! The only paths that `#[privacy_scope]` expansions name. Not a public API.

use std::future::Future;

use crate::context;
use crate::error::{PrivacyError, PrivacyErrorKind};
use crate::gate::Gate;
use crate::scope::ScopeSet;
use crate::subject::Subject;

pub use crate::__privacy_site;
pub use crate::guidelines::{Compiled, CompiledVersion};
pub use crate::registry::{CallSite, PRIVACY_APIS};
pub use crate::subject::{AsSubject, SubjectRef};
pub use core::option::Option::{self, None, Some};
pub use core::result::Result::{self, Err, Ok};
pub use core::{file, include_bytes, include_str, line, module_path, option_env};
pub use linkme;

/// The return type of a guarded function: a `Result` whose error converts from
/// [`PrivacyError`].
#[diagnostic::on_unimplemented(
    message = "a #[privacy_scope] function must return `Result<T, E>` with `E: From<PrivacyError>`; `{Self}` is not such a type",
    label = "this return type cannot carry a refused privacy call",
    note = "add `impl From<privacy_runtime::PrivacyError> for YourError`, or return `Result<T, privacy_runtime::PrivacyError>`"
)]
pub trait GuardedReturn {
    /// The refusal as this type.
    fn refused(error: PrivacyError) -> Self;
}

impl<T, E: From<PrivacyError>> GuardedReturn for Result<T, E> {
    #[inline]
    fn refused(error: PrivacyError) -> Self {
        Err(E::from(error))
    }
}

/// The value a guarded function returns when its call is refused.
#[inline]
pub fn refuse<R: GuardedReturn>(error: PrivacyError) -> R {
    R::refused(error)
}

/// Names the subject's type to the compiler, so a `#[subject]` parameter of a type that is
/// not a subject fails at the parameter.
///
/// The checks take the parameter by reference (two registers) and make the subject of it in
/// line, never through memory, where a copy of the 32-byte `SubjectRef` stalls; the concrete
/// type is known where the check is inlined, so the call is direct.
#[inline(always)]
pub fn subject_of<S: AsSubject>(s: &S) -> &dyn AsSubject {
    s
}

/// The subject of a function without a `#[subject]` parameter: the ambient one.
pub const AMBIENT: Option<&'static dyn AsSubject> = None;

/// What a call needs after the hot path said no: the gate, the user and the scopes, owned, so
/// that the slow path (which runs the listener and the prompt) holds no thread-local borrow.
struct Slow {
    gate: Gate,
    subject: Subject,
    required: Option<ScopeSet>,
}

/// The hot path of every check: `Ok(None)` when the user's consent snapshot already allows the
/// call; otherwise what the slow path needs (`required` is `None` when a custom scope is unknown
/// to the gate). Only the runtime's own code runs while the context is borrowed.
#[inline]
fn fast_or_slow(site: &CallSite, subject: Option<SubjectRef<'_>>) -> Result<Option<Slow>, PrivacyError> {
    context::with_current(|gate| {
        let Some(gate) = gate else {
            return Err(PrivacyError::new(site.api(), PrivacyErrorKind::NoGate));
        };
        let decide = |s: SubjectRef<'_>| match site.required(gate.guidelines()) {
            Some(required) if gate.fast_allows(required, s) => None,
            required => Some(Slow { gate: gate.clone(), subject: s.to_owned(), required }),
        };
        match subject {
            Some(s) => Ok(decide(s)),
            None => context::with_ambient(|s| match s {
                Some(s) => Ok(decide(s)),
                None => Err(PrivacyError::new(site.api(), PrivacyErrorKind::NoSubject)),
            }),
        }
    })
}

/// The check before a sync guarded body.
///
/// The inlined part is the consented call of a global gate with an explicit subject; scoped
/// gates, the ambient subject and every undecided call take the out-of-line path (which repeats
/// the cheap snapshot check rather than grow the inlined part: measured slower when it did not).
/// Always in line, so the subject is never passed through memory (a copy that stalls).
// Forced in line only where it pays: a debug build inlines nothing, so it does not grow
// every guarded function (which is what a rebuild compiles).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub fn check(site: &'static CallSite, subject: Option<&dyn AsSubject>) -> Result<(), PrivacyError> {
    if let (Some(gate), Some(s)) = (context::global_only(), subject)
        && let Some(required) = site.required(gate.guidelines())
        && gate.fast_allows(required, s.as_subject())
    {
        return Ok(());
    }
    check_out_of_line(site, subject.map(|s| s.as_subject()))
}

#[inline(never)]
fn check_out_of_line(site: &'static CallSite, subject: Option<SubjectRef<'_>>) -> Result<(), PrivacyError> {
    // The consented call of a scoped gate or of the ambient subject, answered under the context's
    // borrow with nothing to move out; everything else takes the cold path.
    let allowed =
        |gate: &Gate, s: SubjectRef<'_>| site.required(gate.guidelines()).is_some_and(|r| gate.fast_allows(r, s));
    let consented = context::with_current(|gate| {
        gate.is_some_and(|gate| match subject {
            Some(s) => allowed(gate, s),
            None => context::with_ambient(|a| a.is_some_and(|s| allowed(gate, s))),
        })
    });
    if consented { Ok(()) } else { slow_path(site, subject) }
}

#[cold]
#[inline(never)]
fn slow_path(site: &CallSite, subject: Option<SubjectRef<'_>>) -> Result<(), PrivacyError> {
    match fast_or_slow(site, subject)? {
        None => Ok(()),
        Some(slow) => {
            slow.gate.authorize_blocking(site.api(), slow.required, slow.subject, "this function as an `async fn`")
        }
    }
}

/// The check before an async guarded body.
pub fn check_async<'a>(
    site: &'static CallSite,
    subject: Option<&'a dyn AsSubject>,
) -> impl Future<Output = Result<(), PrivacyError>> + Send + 'a {
    // The future holds the subject, never the caller's value (which need not be `Sync`).
    check_subject_async(site, subject.map(|s| s.as_subject()))
}

async fn check_subject_async(site: &'static CallSite, subject: Option<SubjectRef<'_>>) -> Result<(), PrivacyError> {
    match fast_or_slow(site, subject)? {
        None => Ok(()),
        Some(slow) => slow.gate.authorize(site.api(), slow.required, slow.subject).await,
    }
}

/// The check before a sync body with a `degrade` fallback: `Ok(true)` runs the body,
/// `Ok(false)` calls the fallback; no event is raised.
#[inline]
pub fn check_or_degrade(site: &'static CallSite, subject: Option<&dyn AsSubject>) -> Result<bool, PrivacyError> {
    match fast_or_slow(site, subject.map(|s| s.as_subject()))? {
        None => Ok(true),
        Some(slow) => slow.gate.peek_blocking(site.api(), slow.required, &slow.subject),
    }
}

/// The check before an async body with a `degrade` fallback.
pub fn check_or_degrade_async<'a>(
    site: &'static CallSite,
    subject: Option<&'a dyn AsSubject>,
) -> impl Future<Output = Result<bool, PrivacyError>> + Send + 'a {
    check_or_degrade_subject_async(site, subject.map(|s| s.as_subject()))
}

async fn check_or_degrade_subject_async(
    site: &'static CallSite,
    subject: Option<SubjectRef<'_>>,
) -> Result<bool, PrivacyError> {
    match fast_or_slow(site, subject)? {
        None => Ok(true),
        Some(slow) => slow.gate.peek(site.api(), slow.required, &slow.subject).await,
    }
}

/// The registry entry of a guarded function, as `#[privacy_scope]` writes it: the call site its
/// check reads, placed in the [`PRIVACY_APIS`] slice by the declarative macro linkme generated
/// with the slice. `subject = name` is for a `#[privacy_scope]` stacked below the one that wrote
/// it: the name of the `#[subject]` parameter, which the first attribute took off. A declarative macro all the way, so an entry costs the build no proc-macro call
/// of its own.
#[doc(hidden)]
#[macro_export]
macro_rules! __privacy_site {
    (
        $site:ident, $api:expr, [$($builtin:expr),*], [$($custom:expr),*], [$($scope:expr),*], $is_async:expr
        $(; subject = $subject:ident)?
    ) => {
        $crate::__private::PRIVACY_APIS! {
            #![linkme_macro = $crate::__private::PRIVACY_APIS]
            static $site: $crate::__private::CallSite = $crate::__private::CallSite::new(
                $api,
                &[$($builtin),*],
                &[$($custom),*],
                &[$($scope),*],
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
                $is_async,
            );
        }
    };
}
