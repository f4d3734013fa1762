//! The decision of one call of API `A` needing scopes `S` by user `U`, in order:
//!
//! 1. a scope of `S` not in effect in the guidelines: errno 112, the body never runs;
//! 2. the app is banned: `privacy api banned`;
//! 3. `U`'s consent covers `S` in the version in effect: the body runs (the hot path: no
//!    allocation, no global lock);
//! 4. within the refusal hold after `U` refused the official prompt: fail at once;
//! 5. an open authorization of `U` whose scopes contain `S`: join it; one for other scopes: wait
//!    for it to settle, then decide again; none: open one and raise the event;
//! 6. no listener, or the resolver dropped unanswered (or the listener's time ran out): the
//!    official prompt;
//! 7. the store fails: the call is refused with its own error.
//!
//! A call released by an agreement goes back to step 1: its body runs only if the consent stored
//! at that moment covers its own scopes in the version in effect at that moment.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, PoisonError};
use std::task::Poll;

use super::authorization::{Authorization, Join, OpenRequest, Outcome, Woken};
use super::blocking::{InAsync, now_or_never};
use super::official::PromptRequest;
use super::resolver::{PromptResponder, Resolver};
use super::{Gate, NeedAuthorization, PrivacySetting, REQUIRE_PRIVACY_AUTHORIZE, WaitPolicy, provisional};
use crate::clock::Timestamp;
use crate::consent::{ConsentEvent, ConsentRecord};
use crate::error::{PendingStage, PrivacyError, PrivacyErrorKind, StoreError};
use crate::scope::ScopeSet;
use crate::subject::{AsSubject, Subject, SubjectRef};
use crate::sync::Ordering;

/// A call that goes through this many authorizations without ending is refused: each round needs
/// a person's answer, so only a fault could spin here.
const MAX_ROUNDS: usize = 8;

/// How a wait on an authorization ended.
enum Waited {
    Settled(Outcome),
    TimedOut,
}

type StoreRead<'a> = Pin<Box<dyn Future<Output = Result<ScopeSet, StoreError>> + Send + 'a>>;

/// What a stored consent covers now, until when, and whether it has expired.
pub(super) struct Cover {
    pub(super) covered: ScopeSet,
    pub(super) until: Option<Timestamp>,
    pub(super) expired: bool,
}

impl Gate {
    /// The scopes callable now.
    #[inline]
    pub(crate) fn in_effect_now(&self) -> ScopeSet {
        let inner = &*self.inner;
        if inner.settled.load(Ordering::Relaxed) {
            return inner.guidelines.latest_declared();
        }
        let now = inner.clock.now();
        if inner.clock_is_wall && now >= inner.guidelines.settled_at() {
            inner.settled.store(true, Ordering::Relaxed);
        }
        inner.guidelines.in_effect(now)
    }

    /// The hot path: `true` when the consent snapshot already proves the call allowed. Always in
    /// line: the subject then stays in registers (passed out of line, its copy stalls).
    // Forced in line only where it pays: a debug build inlines nothing, so it does not grow
    // every guarded function (which is what a rebuild compiles).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn fast_allows(&self, required: ScopeSet, subject: SubjectRef<'_>) -> bool {
        if self.inner.guidelines.is_banned() {
            return false;
        }
        let in_effect = self.in_effect_now();
        match self.inner.snapshots.get(subject, || self.inner.clock.now()) {
            Some(covered) => required.is_subset(covered.intersection(in_effect)),
            None => false,
        }
    }

    /// What a stored consent covers at `now`: the scopes its version declares, if the guidelines
    /// still hold that version, no later version requiring fresh consent is in effect, and the
    /// consent is younger than the maximum age; nothing otherwise.
    pub(super) fn cover_of(&self, record: Option<&ConsentRecord>, now: Timestamp) -> Cover {
        let Some((record, version)) = record.and_then(|r| Some((r, r.version.as_ref()?))) else {
            return Cover { covered: ScopeSet::EMPTY, until: None, expired: false };
        };
        let ends = self.inner.max_consent_age.map(|age| record.at.plus(age));
        if ends.is_some_and(|end| end <= now) {
            return Cover { covered: ScopeSet::EMPTY, until: None, expired: true };
        }
        let (covered, fresh_due) = self.inner.guidelines.consent_cover(version, now);
        let until = match (fresh_due, ends) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Cover { covered, until, expired: false }
    }

    /// Reads `subject`'s consent from the store into the snapshot. A consent found past its
    /// maximum age is marked expired in the store first.
    fn load_covered<'a>(&'a self, subject: &'a Subject) -> StoreRead<'a> {
        Box::pin(async move {
            let start = self.inner.snapshots.begin_read(subject.as_ref(), self.now());
            let record = self.inner.store.current(&self.inner.app, subject).await?;
            let cover = self.cover_of(record.as_ref(), self.now());
            if let (true, Some(record)) = (cover.expired, &record) {
                self.expire(subject, record).await?;
                return Ok(ScopeSet::EMPTY);
            }
            self.inner.snapshots.fill(subject, cover.covered, cover.until, start);
            // A change that overtook the read is what counts.
            Ok(self.snapshot(subject.as_ref()).unwrap_or(cover.covered))
        })
    }

    /// Appends the expiry of `record`, unless the user's consent changed since it was read.
    async fn expire(&self, subject: &Subject, record: &ConsentRecord) -> Result<(), StoreError> {
        let _w = self.inner.writes.lock(subject).await;
        if self.inner.store.current(&self.inner.app, subject).await?.as_ref() != Some(record) {
            return Ok(());
        }
        let event = ConsentEvent::Expired {
            subject: subject.clone(),
            at: self.now(),
            agreed_at: record.at,
            version: record.version,
        };
        self.inner.store.append(&self.inner.app, &event).await?;
        self.inner.snapshots.forget(subject.as_ref());
        Ok(())
    }

    /// The snapshot's answer for `subject`, if it has a fresh one.
    fn snapshot(&self, subject: SubjectRef<'_>) -> Option<ScopeSet> {
        self.inner.snapshots.get(subject, || self.inner.clock.now())
    }

    async fn covered(&self, subject: &Subject) -> Result<ScopeSet, StoreError> {
        match self.snapshot(subject.as_ref()) {
            Some(c) => Ok(c),
            None => self.load_covered(subject).await,
        }
    }

    /// [`covered`](Self::covered) for sync code: an in-memory store answers at once; another is
    /// waited for where that cannot deadlock.
    fn covered_blocking(&self, subject: &Subject, use_instead: &'static str) -> Result<ScopeSet, PrivacyErrorKind> {
        if let Some(c) = self.snapshot(subject.as_ref()) {
            return Ok(c);
        }
        let mut read = self.load_covered(subject);
        let result = match self.blocker() {
            Ok(blocker) => blocker.run_read(read),
            // An in-memory store answers at once even here; another would need this very thread.
            Err(InAsync) => now_or_never(&mut read).ok_or(PrivacyErrorKind::BlockingInAsync { use_instead })?,
        };
        result.map_err(|e| PrivacyErrorKind::StoreUnavailable { message: e.message().to_owned() })
    }

    /// Steps 1–2: the scopes to check, or the call's error.
    fn declared(&self, required: Option<ScopeSet>) -> Result<ScopeSet, PrivacyErrorKind> {
        let in_effect = self.inner.guidelines.in_effect(self.inner.clock.now());
        let required = required.ok_or(PrivacyErrorKind::NotDeclared)?;
        if !required.is_subset(in_effect) {
            return Err(PrivacyErrorKind::NotDeclared);
        }
        if self.inner.guidelines.is_banned() {
            return Err(PrivacyErrorKind::Banned);
        }
        Ok(required)
    }

    /// Step 3 given what the consent covers: `None` when allowed, else the scopes to ask for.
    fn missing(&self, required: ScopeSet, covered: ScopeSet) -> Option<ScopeSet> {
        let in_effect = self.in_effect_now();
        (!required.is_subset(covered.intersection(in_effect))).then_some(required)
    }

    /// Steps 1–3: `Ok(None)` when the call is allowed, `Ok(Some(required))` when the user's
    /// consent is missing.
    async fn consent_check(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: &Subject,
    ) -> Result<Option<ScopeSet>, PrivacyError> {
        let err = |kind| PrivacyError::new(api, kind);
        let required = self.declared(required).map_err(err)?;
        // A combined button's action runs on the consent being given right now.
        if provisional::covers(self.id(), subject, required) {
            return Ok(None);
        }
        let covered = self
            .covered(subject)
            .await
            .map_err(|e| err(PrivacyErrorKind::StoreUnavailable { message: e.message().to_owned() }))?;
        Ok(self.missing(required, covered))
    }

    /// [`consent_check`](Self::consent_check) for sync code.
    fn consent_check_blocking(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: &Subject,
        use_instead: &'static str,
    ) -> Result<Option<ScopeSet>, PrivacyError> {
        let err = |kind| PrivacyError::new(api, kind);
        let required = self.declared(required).map_err(err)?;
        if provisional::covers(self.id(), subject, required) {
            return Ok(None);
        }
        let covered = self.covered_blocking(subject, use_instead).map_err(err)?;
        Ok(self.missing(required, covered))
    }

    /// Steps 4–5 up to the authorization the call waits on.
    fn open_or_join(&self, api: &str, required: ScopeSet, subject: &Subject) -> Result<Join, PrivacyError> {
        let now = self.now();
        if let Some(style) = self.inner.auths.hold(subject, now) {
            return Err(PrivacyError::new(api, PrivacyErrorKind::RefusalHold { style }));
        }
        let in_effect = self.in_effect_now();
        let req = OpenRequest { subject, referrer: api, scopes: required, now, ttl: self.inner.ttl };
        let join = self
            .inner
            .auths
            .join_or_open(&req, &self.inner.tickets, || {
                self.snapshot(subject.as_ref()).is_some_and(|c| required.is_subset(c.intersection(in_effect)))
            })
            .map_err(|e| PrivacyError::new(api, PrivacyErrorKind::TicketUnavailable { message: e.to_string() }))?;
        match &join {
            Join::Opened(a) => self.raise(a),
            Join::Joined(a) | Join::Busy(a) => self.drive(a),
            Join::Covered => {}
        }
        Ok(join)
    }

    /// Raises the need-authorization event of a new authorization. No lock is held while the
    /// listener runs.
    fn raise(&self, auth: &Arc<Authorization>) {
        let listener = self.inner.listener.read().unwrap_or_else(PoisonError::into_inner).clone();
        match listener {
            Some(l) => {
                let event = NeedAuthorization {
                    referrer: auth.referrer.to_string(),
                    scopes: auth.scopes,
                    subject: auth.subject.clone(),
                    ticket: auth.ticket,
                };
                l.on_need_privacy_authorization(Resolver::new(self.clone(), Arc::clone(auth)), event);
            }
            None => auth.request_escalation(),
        }
        self.drive(auth);
    }

    /// Shows the official prompt if the authorization was handed to it and nobody has shown it
    /// yet. No lock is held while the prompt runs.
    pub(super) fn drive(&self, auth: &Arc<Authorization>) {
        if !auth.take_escalation() {
            return;
        }
        if let Some(prompt) = &self.inner.prompt {
            let request = PromptRequest {
                subject: auth.subject.clone(),
                referrer: auth.referrer.to_string(),
                scopes: auth.scopes,
                ticket: auth.ticket,
                contract_name: self.inner.guidelines.contract_name().to_owned(),
            };
            prompt.show(request, PromptResponder::new(self.clone(), Arc::clone(auth)));
        }
    }

    fn result_of(api: &str, outcome: Outcome) -> PrivacyError {
        let kind = match outcome {
            Outcome::Agreed | Outcome::Changed => PrivacyErrorKind::Unanswered,
            Outcome::Refused(style) => PrivacyErrorKind::NotAuthorized { style },
            Outcome::Cleared => PrivacyErrorKind::NotAuthorized { style: None },
            Outcome::Unanswered => PrivacyErrorKind::Unanswered,
            Outcome::StoreFailed(message) => PrivacyErrorKind::StoreUnavailable { message },
        };
        PrivacyError::new(api, kind)
    }

    fn pending_error(api: &str, auth: &Authorization) -> PrivacyError {
        PrivacyError::new(api, PrivacyErrorKind::Pending { ticket: auth.ticket, stage: auth.stage() })
    }

    /// Waits for `auth` to settle as the wait policy says, showing the official prompt when the
    /// listener's time runs out, and ending it when it expires.
    async fn wait_for(&self, auth: &Arc<Authorization>, ours: bool) -> Waited {
        let WaitPolicy::Wait { timeout } = self.inner.wait else { return Waited::TimedOut };
        let mut stage_deadline = timeout.map(|t| self.now().plus(t));
        // Set once the expiry was applied; an authorization being answered then is left to its
        // writer, which settles it.
        let mut expiry_applied = false;
        loop {
            let now = self.now();
            let deadline = stage_deadline.map_or(auth.expires_at, |d| d.min(auth.expires_at));
            // No sleep once the deadline passed (past the expiry, the writer of an answer decides).
            let mut sleep = (deadline > now).then(|| self.inner.clock.sleep_until(deadline));
            let mut wait = pin!(auth.wait());
            let woken = std::future::poll_fn(|cx| {
                if let Poll::Ready(w) = wait.as_mut().poll(cx) {
                    return Poll::Ready(Some(w));
                }
                match &mut sleep {
                    Some(s) => s.as_mut().poll(cx).map(|()| None),
                    None if expiry_applied => {
                        // An answer was being written at the expiry. If its writer gave up (the
                        // released claim wakes this call), end the authorization now.
                        self.inner.auths.expire(auth, self.now());
                        wait.as_mut().poll(cx).map(Some)
                    }
                    None => Poll::Ready(None),
                }
            })
            .await;
            match woken {
                Some(Woken::Settled(o)) => return Waited::Settled(o),
                Some(Woken::Escalate) => self.drive(auth),
                None => {
                    let now = self.now();
                    if now >= auth.expires_at {
                        self.inner.auths.expire(auth, now);
                        expiry_applied = true;
                    } else if stage_deadline.is_some_and(|d| now >= d) {
                        if ours && auth.stage() == PendingStage::Listener {
                            // Nobody answered the event: the official prompt takes over.
                            auth.request_escalation();
                            self.drive(auth);
                            stage_deadline = timeout.map(|t| now.plus(t));
                        } else {
                            return Waited::TimedOut;
                        }
                    }
                }
            }
        }
    }

    /// Decides a call in an async context, waiting for a person as the wait policy says.
    pub(crate) async fn authorize(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: Subject,
    ) -> Result<(), PrivacyError> {
        for _ in 0..MAX_ROUNDS {
            let Some(required) = self.consent_check(api, required, &subject).await? else { return Ok(()) };
            let (auth, ours) = match self.open_or_join(api, required, &subject)? {
                Join::Covered => continue,
                Join::Opened(a) | Join::Joined(a) => (a, true),
                Join::Busy(a) => (a, false),
            };
            let waited = match (self.inner.wait, auth.outcome()) {
                (_, Some(o)) => Waited::Settled(o),
                (WaitPolicy::ReturnPending, None) => Waited::TimedOut,
                (WaitPolicy::Wait { .. }, None) => self.wait_for(&auth, ours).await,
            };
            match waited {
                // Agreed, changed elsewhere, or another call's authorization ended: decide again.
                Waited::Settled(Outcome::Agreed | Outcome::Changed) => continue,
                Waited::Settled(_) if !ours => continue,
                Waited::Settled(o) => return Err(Self::result_of(api, o)),
                Waited::TimedOut => return Err(Self::pending_error(api, &auth)),
            }
        }
        Err(PrivacyError::new(api, PrivacyErrorKind::Unanswered))
    }

    /// Decides a call in a sync context: store reads are waited for where that cannot deadlock,
    /// but the thread never waits for a person; an undecided call returns a pending error with
    /// its ticket.
    #[cold]
    #[inline(never)]
    pub(crate) fn authorize_blocking(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: Subject,
        use_instead: &'static str,
    ) -> Result<(), PrivacyError> {
        let mut last = None;
        for _ in 0..MAX_ROUNDS {
            let Some(required) = self.consent_check_blocking(api, required, &subject, use_instead)? else {
                return Ok(());
            };
            let (auth, ours) = match self.open_or_join(api, required, &subject)? {
                Join::Covered => continue,
                Join::Opened(a) | Join::Joined(a) => (a, true),
                Join::Busy(a) => (a, false),
            };
            match auth.outcome() {
                None => return Err(Self::pending_error(api, &auth)),
                Some(Outcome::Agreed | Outcome::Changed) => {}
                Some(_) if !ours => {}
                Some(o) => return Err(Self::result_of(api, o)),
            }
            last = Some(auth);
        }
        Err(match last {
            Some(a) => Self::pending_error(api, &a),
            None => PrivacyError::new(api, PrivacyErrorKind::Unanswered),
        })
    }

    /// Steps 1–3 only, for a `degrade` fallback: `Ok(true)` when the user's consent covers the
    /// call, `Ok(false)` when it is missing. Raises no event.
    pub(crate) async fn peek(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: &Subject,
    ) -> Result<bool, PrivacyError> {
        self.consent_check(api, required, subject).await.map(|missing| missing.is_none())
    }

    /// [`peek`](Self::peek) for sync code.
    pub(crate) fn peek_blocking(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: &Subject,
    ) -> Result<bool, PrivacyError> {
        self.consent_check_blocking(api, required, subject, "this function as an `async fn`")
            .map(|missing| missing.is_none())
    }

    /// Checks a call of `api` needing `scopes` by `subject` without a macro: the same decision a
    /// `#[privacy_scope]` function makes.
    pub async fn check(&self, api: &str, scopes: ScopeSet, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let subject = subject.as_subject();
        if self.fast_allows(scopes, subject) {
            return Ok(());
        }
        self.authorize(api, Some(scopes), subject.to_owned()).await
    }

    /// [`check`](Self::check) for sync code: never waits for a person.
    #[inline]
    pub fn check_blocking(&self, api: &str, scopes: ScopeSet, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let subject = subject.as_subject();
        if self.fast_allows(scopes, subject) {
            return Ok(());
        }
        self.authorize_blocking(api, Some(scopes), subject.to_owned(), "Gate::check")
    }

    /// `wx.requirePrivacyAuthorize`: simulates a privacy call needing every scope in effect.
    /// Succeeds at once when the user already agreed; otherwise raises the event (referrer
    /// `requirePrivacyAuthorize`) and waits as the wait policy says.
    pub async fn require_privacy_authorize(&self, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let scopes = self.in_effect_now();
        self.check(REQUIRE_PRIVACY_AUTHORIZE, scopes, subject).await
    }

    /// [`require_privacy_authorize`](Self::require_privacy_authorize) for sync code.
    pub fn require_privacy_authorize_blocking(&self, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let scopes = self.in_effect_now();
        let subject = subject.as_subject();
        if self.fast_allows(scopes, subject) {
            return Ok(());
        }
        self.authorize_blocking(
            REQUIRE_PRIVACY_AUTHORIZE,
            Some(scopes),
            subject.to_owned(),
            "Gate::require_privacy_authorize",
        )
    }

    /// `wx.getPrivacySetting`: whether the user must still agree, and the contract's name.
    pub async fn get_privacy_setting(&self, subject: impl AsSubject) -> Result<PrivacySetting, StoreError> {
        let subject = subject.as_subject().to_owned();
        let covered = self.covered(&subject).await?;
        Ok(self.privacy_setting(covered))
    }

    /// [`get_privacy_setting`](Self::get_privacy_setting) for sync code.
    pub fn get_privacy_setting_blocking(&self, subject: impl AsSubject) -> Result<PrivacySetting, StoreError> {
        let subject = subject.as_subject().to_owned();
        let covered = self.covered_blocking(&subject, "Gate::get_privacy_setting").map_err(|kind| match kind {
            PrivacyErrorKind::StoreUnavailable { message } => StoreError::new(message),
            _ => StoreError::blocking_in_async("Gate::get_privacy_setting"),
        })?;
        Ok(self.privacy_setting(covered))
    }

    fn privacy_setting(&self, covered: ScopeSet) -> PrivacySetting {
        PrivacySetting {
            need_authorization: !self.in_effect_now().is_subset(covered),
            privacy_contract_name: self.inner.guidelines.contract_name().to_owned(),
            err_msg: "getPrivacySetting:ok",
        }
    }
}
