//! Every consent change: a tap of the agree button, a combined button, the answers to an
//! authorization, and a clear. Each one is written to the store first, under the user's write
//! lock, then shown in the snapshot, then applied to the user's open authorization; a change the
//! store does not take is not acknowledged.

use std::future::Future;
use std::sync::Arc;

use super::authorization::{AgreeCheck, Authorization, Claim, NotOpen, Outcome};
use super::resolver::{CombinedError, Resolution, ResolveError};
use super::{Gate, provisional};
use crate::clock::Timestamp;
use crate::consent::{ConsentEvent, ConsentReceipt, ConsentRecord, ConsentSource, LedgerEntry};
use crate::error::{PendingStage, StoreError};
use crate::prompt::PromptAnswer;
use crate::scope::ScopeSet;
use crate::subject::{AsSubject, Subject};
use crate::ticket::Ticket;

impl Gate {
    pub(super) fn check_button(&self, button_id: &str) -> Result<(), ResolveError> {
        let g = &self.inner.guidelines;
        if g.is_agree_button(button_id) {
            return Ok(());
        }
        Err(ResolveError::UnregisteredButton {
            button_id: button_id.to_owned(),
            suggestion: privacy_spec::closest(button_id, g.agree_buttons().iter().map(String::as_str))
                .map(str::to_owned),
        })
    }

    fn new_record(
        &self,
        now: Timestamp,
        subject: &Subject,
        source: ConsentSource,
        referrer: Option<&str>,
    ) -> ConsentRecord {
        let g = &self.inner.guidelines;
        let version = g.version_in_effect(now);
        let scopes = version
            .map(|v| v.declared.iter().filter_map(|s| g.scope_id(s).map(str::to_owned)).collect())
            .unwrap_or_default();
        ConsentRecord::new(subject.clone(), now, version.map(|v| v.id), source, referrer.map(str::to_owned))
            .with_scopes(scopes)
    }

    /// Makes a stored agreement visible (call with the user's write lock held): the snapshot,
    /// the hold lifted, the tap noted on the open authorization, which is settled if the new
    /// consent covers it.
    fn apply_agreement(&self, record: &ConsentRecord, button_id: Option<&str>) {
        let now = self.now();
        let cover = self.cover_of(Some(record), now);
        let covered = cover.covered;
        self.inner.snapshots.set(&record.subject, covered, cover.until, now);
        self.inner.auths.lift_hold(&record.subject);
        if let Some(open) = self.inner.auths.open_of(&record.subject) {
            if let Some(id) = button_id {
                open.note_tap(id);
            }
            if open.scopes.is_subset(covered.intersection(self.in_effect_now())) {
                self.inner.auths.settle(&open, Outcome::Agreed);
            }
        }
    }

    /// Records an agreement given through a button at `at` (its time and the version in effect
    /// then). Written under the user's write lock; if the user's consent was cleared since the
    /// button was pressed (`action` was withdrawn), nothing is written: the clear came later.
    async fn record_agreement(
        &self,
        action: &provisional::Action<'_>,
        at: Timestamp,
        source: ConsentSource,
        button_id: &str,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        let subject = action.subject();
        let _w = self.inner.writes.lock(subject).await;
        if action.withdrawn() {
            return Ok(None);
        }
        let referrer = self.inner.auths.open_of(subject).map(|a| Arc::clone(&a.referrer));
        let record = self.new_record(at, subject, source, referrer.as_deref());
        self.inner.store.append(&self.inner.app, &ConsentEvent::Agreed(record.clone())).await?;
        self.apply_agreement(&record, Some(button_id));
        Ok(Some(record))
    }

    /// The agree button was tapped (`bindagreeprivacyauthorization`): records the user's consent
    /// to the guidelines in effect. An open authorization of the user that the consent covers is
    /// settled, and its waiting calls proceed; a later `agree` naming this button is accepted.
    pub async fn tap_agree_button(
        &self,
        subject: impl AsSubject,
        button_id: &str,
    ) -> Result<ConsentRecord, ResolveError> {
        self.check_button(button_id)?;
        let subject = subject.as_subject().to_owned();
        let (at, tap) = (self.now(), self.inner.actions.start(&subject));
        let source = ConsentSource::AgreeButton { button_id: button_id.to_owned() };
        let record = self.record_agreement(&tap, at, source, button_id).await?;
        record.ok_or(ResolveError::Withdrawn)
    }

    /// [`tap_agree_button`](Self::tap_agree_button) for sync code.
    pub fn tap_agree_button_blocking(
        &self,
        subject: impl AsSubject,
        button_id: &str,
    ) -> Result<ConsentRecord, ResolveError> {
        let blocker = self.blocker().map_err(|_| StoreError::blocking_in_async("Gate::tap_agree_button"))?;
        blocker.run(self.tap_agree_button(subject, button_id))
    }

    /// What a combined button's consent covers while its action runs: the version in effect when
    /// it was pressed.
    fn provisional_cover(&self, at: Timestamp) -> ScopeSet {
        self.inner.guidelines.version_in_effect(at).map_or(ScopeSet::EMPTY, |v| v.declared)
    }

    /// Records a combined button's consent, pressed at `at`, once its action succeeded.
    async fn record_combined<E>(
        &self,
        action: &provisional::Action<'_>,
        at: Timestamp,
        button_id: &str,
        action_name: &str,
    ) -> Result<(), CombinedError<E>> {
        let source = ConsentSource::CombinedButton { button_id: button_id.to_owned(), action: action_name.to_owned() };
        match self.record_agreement(action, at, source, button_id).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(CombinedError::Withdrawn),
            Err(e) => Err(CombinedError::Store(e)),
        }
    }

    /// A combined button (`getPhoneNumber|agreePrivacyAuthorization`): runs `action` as if the
    /// user had agreed, then records the consent. Both happen or neither is reported as done:
    /// a failed action records nothing, and a consent the store cannot keep (or that the user
    /// cleared while the action ran) discards the action's result.
    pub fn agree_with_action<T, E>(
        &self,
        subject: impl AsSubject,
        button_id: &str,
        action: &str,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CombinedError<E>> {
        self.check_button(button_id).map_err(CombinedError::Button)?;
        // Known before the action runs: an action is never run for a consent that cannot be
        // written from here.
        let blocker = self
            .blocker()
            .map_err(|_| CombinedError::Store(StoreError::blocking_in_async("Gate::agree_with_action_async")))?;
        let subject = subject.as_subject().to_owned();
        let (at, running) = (self.now(), self.inner.actions.start(&subject));
        let value =
            provisional::with(self.id(), &running, self.provisional_cover(at), f).map_err(CombinedError::Action)?;
        blocker.run(self.record_combined(&running, at, button_id, action))?;
        Ok(value)
    }

    /// [`agree_with_action`](Self::agree_with_action) for an async action.
    pub async fn agree_with_action_async<T, E, F>(
        &self,
        subject: impl AsSubject,
        button_id: &str,
        action: &str,
        fut: F,
    ) -> Result<T, CombinedError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.check_button(button_id).map_err(CombinedError::Button)?;
        let subject = subject.as_subject().to_owned();
        let (at, running) = (self.now(), self.inner.actions.start(&subject));
        let value = provisional::Provisional::new(self.id(), &running, self.provisional_cover(at), fut)
            .await
            .map_err(CombinedError::Action)?;
        self.record_combined(&running, at, button_id, action).await?;
        Ok(value)
    }

    /// Clears the user's consent (the mini program was removed from "recently used"). The history
    /// keeps the clear; an open authorization of the user fails with errno 104; the next call asks
    /// again.
    pub async fn clear(&self, subject: impl AsSubject) -> Result<(), StoreError> {
        let subject = subject.as_subject().to_owned();
        let _w = self.inner.writes.lock(&subject).await;
        let event = ConsentEvent::Cleared { subject: subject.clone(), at: self.inner.clock.now() };
        // A withdrawal is shown before it is stored, so no call passes on a consent the store no
        // longer holds; a grant is shown only after (`apply_agreement`).
        self.inner.snapshots.withdraw(&subject, self.now());
        self.inner.actions.withdraw(&subject);
        let stored = self.inner.store.append(&self.inner.app, &event).await;
        // Stored: the store says "no consent" from now on, and the user is no longer kept. Failed:
        // the write may have landed all the same (a commit whose answer was lost), so the next
        // call reads the store again rather than trust what was shown before.
        self.inner.snapshots.forget(subject.as_ref());
        stored?;
        self.inner.auths.lift_hold(&subject);
        if let Some(open) = self.inner.auths.open_of(&subject) {
            self.inner.auths.settle(&open, Outcome::Cleared);
        }
        Ok(())
    }

    /// [`clear`](Self::clear) for sync code.
    pub fn clear_blocking(&self, subject: impl AsSubject) -> Result<(), StoreError> {
        self.blocker().map_err(|_| StoreError::blocking_in_async("Gate::clear"))?.run(self.clear(subject))
    }

    /// The user's consent history: every ledger entry, in sequence order.
    pub async fn history(&self, subject: impl AsSubject) -> Result<Vec<LedgerEntry>, StoreError> {
        let subject = subject.as_subject().to_owned();
        self.inner.store.history(&self.inner.app, &subject).await
    }

    /// The user's whole ledger as JSON lines, one entry per line, oldest first: what a user
    /// asking for their data, or an auditor, is given.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use privacy_runtime::{Gate, Guidelines, Timestamp};
    /// let g = Guidelines::builder("《示例小程序隐私保护指引》")
    ///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
    ///     .agree_button("agree-btn")
    ///     .build()?;
    /// let gate = Gate::builder("wx1234", g).build();
    /// gate.tap_agree_button("openid-1", "agree-btn").await?;
    /// gate.clear("openid-1").await?;
    /// let lines = gate.export_history("openid-1").await?;
    /// assert_eq!(lines.lines().count(), 2);
    /// assert!(lines.starts_with(r#"{"app":"wx1234","seq":1,"event":"agreed""#));
    /// let receipt = gate.consent_receipt("openid-1").await?;
    /// assert_eq!(receipt.state, privacy_runtime::ConsentState::Withdrawn);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn export_history(&self, subject: impl AsSubject) -> Result<String, StoreError> {
        let history = self.history(subject).await?;
        crate::consent::json_lines(&history)
            .map_err(|e| StoreError::with_source("a ledger entry could not be written as JSON", e))
    }

    /// A consent receipt for the user, shaped after ISO/IEC TS 27560: controller, subject, the
    /// notice and version agreed to with its hash, the scopes and purposes, when and how the
    /// consent was collected, and its state now.
    pub async fn consent_receipt(&self, subject: impl AsSubject) -> Result<ConsentReceipt, StoreError> {
        let subject = subject.as_subject().to_owned();
        let history = self.inner.store.history(&self.inner.app, &subject).await?;
        let now = self.now();
        let in_force = |r: &ConsentRecord| {
            let cover = self.cover_of(Some(r), now);
            !cover.expired && !cover.covered.is_empty()
        };
        Ok(ConsentReceipt::of(&self.inner.app, &subject, &self.inner.guidelines, &history, now, in_force))
    }

    /// [`history`](Self::history) for sync code.
    pub fn history_blocking(&self, subject: impl AsSubject) -> Result<Vec<LedgerEntry>, StoreError> {
        self.blocker().map_err(|_| StoreError::blocking_in_async("Gate::history"))?.run(self.history(subject))
    }

    fn authorization(&self, subject: impl AsSubject, ticket: Ticket) -> Result<Arc<Authorization>, ResolveError> {
        let subject = subject.as_subject().to_owned();
        self.inner.auths.lookup(&subject, ticket, self.now()).ok_or(ResolveError::UnknownTicket { ticket })
    }

    /// Resolves a pending authorization by its ticket: the resolver's events sent by a client
    /// that shows the app's own popup. `Disagree` returns once the refusal is stored.
    pub async fn resolve(
        &self,
        subject: impl AsSubject,
        ticket: Ticket,
        resolution: Resolution,
    ) -> Result<(), ResolveError> {
        let auth = self.authorization(subject, ticket)?;
        match resolution {
            Resolution::ExposureAuthorization => {
                // A ticket kept after the tap that settled it takes only the `agree` that follows.
                if auth.outcome().is_some() {
                    return Err(ResolveError::AlreadySettled { ticket });
                }
                // One entry per authorization: a client repeating it adds nothing.
                if auth.set_exposed() {
                    self.inner.store.append(&self.inner.app, &self.exposed_event(&auth)).await?;
                }
                Ok(())
            }
            Resolution::Agree { button_id } => {
                self.agree_authorization(&auth, &button_id)?;
                self.inner.store.append(&self.inner.app, &self.agree_event(&auth, &button_id)).await?;
                Ok(())
            }
            Resolution::Disagree => self.refuse(&auth, None).await,
        }
    }

    pub(super) fn exposed_event(&self, auth: &Authorization) -> ConsentEvent {
        ConsentEvent::Exposed { subject: auth.subject.clone(), at: self.now(), referrer: auth.referrer.to_string() }
    }

    pub(super) fn agree_event(&self, auth: &Authorization, button_id: &str) -> ConsentEvent {
        ConsentEvent::AgreeResolved {
            subject: auth.subject.clone(),
            at: self.now(),
            button_id: button_id.to_owned(),
            referrer: auth.referrer.to_string(),
        }
    }

    /// Appends a notice (an exposure, an `agree`) from sync code: at once when the store answers
    /// at once, else on the gate's tokio runtime. The consent itself is never written this way.
    pub(super) fn append_in_background(&self, event: ConsentEvent) {
        let gate = self.clone();
        let mut write = Box::pin(async move {
            // A notice that cannot be written leaves the consent as it is; nothing waits on it.
            let _ = gate.inner.store.append(&gate.inner.app, &event).await;
        });
        // On the runtime when there is one: a store's future may need its context from the
        // first poll. Without one, only a store that answers at once can take it.
        #[cfg(feature = "tokio")]
        if let Some(handle) = tokio::runtime::Handle::try_current().ok().or_else(|| self.inner.runtime.clone()) {
            drop(handle.spawn(write));
            return;
        }
        let _ = super::blocking::now_or_never(&mut write);
    }

    /// [`resolve`](Self::resolve) for sync code.
    pub fn resolve_blocking(
        &self,
        subject: impl AsSubject,
        ticket: Ticket,
        resolution: Resolution,
    ) -> Result<(), ResolveError> {
        let blocker = self.blocker().map_err(|_| StoreError::blocking_in_async("Gate::resolve"))?;
        blocker.run(self.resolve(subject, ticket, resolution))
    }

    /// `agree` naming `button_id` for `auth`.
    pub(super) fn agree_authorization(&self, auth: &Authorization, button_id: &str) -> Result<(), ResolveError> {
        self.check_button(button_id)?;
        self.inner.auths.agree(auth, button_id, self.now()).map_err(|e| match e {
            AgreeCheck::NotTapped => ResolveError::ButtonNotTapped { button_id: button_id.to_owned() },
            AgreeCheck::Settled => ResolveError::AlreadySettled { ticket: auth.ticket },
            AgreeCheck::Expired => ResolveError::Expired { ticket: auth.ticket },
        })
    }

    /// Reserves `auth` for an answer being written.
    fn claim(&self, auth: &Arc<Authorization>) -> Result<Claim, ResolveError> {
        let now = self.now();
        auth.claim(now).map_err(|e| match e {
            NotOpen::Settled => ResolveError::AlreadySettled { ticket: auth.ticket },
            NotOpen::Expired => {
                self.inner.auths.expire(auth, now);
                ResolveError::Expired { ticket: auth.ticket }
            }
        })
    }

    /// Answers the official prompt of a pending authorization, for clients that show it
    /// themselves. Refused when the server installed its own [`OfficialPrompt`](crate::OfficialPrompt).
    pub async fn answer_prompt(
        &self,
        subject: impl AsSubject,
        ticket: Ticket,
        answer: PromptAnswer,
    ) -> Result<(), ResolveError> {
        let auth = self.authorization(subject, ticket)?;
        if self.inner.prompt.is_some() {
            return Err(ResolveError::PromptIsServerSide { ticket });
        }
        // A ticket kept after the tap that settled it takes only the `agree` that follows.
        if auth.outcome().is_some() {
            return Err(ResolveError::AlreadySettled { ticket });
        }
        self.drive(&auth);
        if auth.stage() != PendingStage::OfficialPrompt {
            return Err(ResolveError::NotPrompting { ticket });
        }
        self.answer_authorization(&auth, answer).await
    }

    /// [`answer_prompt`](Self::answer_prompt) for sync code.
    pub fn answer_prompt_blocking(
        &self,
        subject: impl AsSubject,
        ticket: Ticket,
        answer: PromptAnswer,
    ) -> Result<(), ResolveError> {
        let blocker = self.blocker().map_err(|_| StoreError::blocking_in_async("Gate::answer_prompt"))?;
        blocker.run(self.answer_prompt(subject, ticket, answer))
    }

    pub(super) async fn answer_authorization(
        &self,
        auth: &Arc<Authorization>,
        answer: PromptAnswer,
    ) -> Result<(), ResolveError> {
        match answer {
            PromptAnswer::Accept => self.accept(auth).await,
            PromptAnswer::Refuse(style) => self.refuse(auth, Some(style)).await,
        }
    }

    /// The official prompt accepted: store the consent, then apply it. A clear cannot slip in
    /// between (it waits for the user's write lock).
    async fn accept(&self, auth: &Arc<Authorization>) -> Result<(), ResolveError> {
        let record = |now| self.new_record(now, &auth.subject, ConsentSource::OfficialPrompt, Some(&auth.referrer));
        self.write_answer(
            auth,
            |now| ConsentEvent::Agreed(record(now)),
            |event, _| {
                if let ConsentEvent::Agreed(record) = event {
                    self.apply_agreement(record, None);
                }
                self.inner.auths.settle(auth, Outcome::Agreed);
            },
        )
        .await
    }

    /// A refusal (`disagree`, or the official prompt refused in `style`): store it, then fail the
    /// authorization's calls and (for the official prompt) start the hold. Nothing starts for an
    /// authorization that was already decided.
    pub(super) async fn refuse(
        &self,
        auth: &Arc<Authorization>,
        style: Option<crate::prompt::PromptStyle>,
    ) -> Result<(), ResolveError> {
        let event = |now| ConsentEvent::Refused {
            subject: auth.subject.clone(),
            at: now,
            style,
            referrer: auth.referrer.to_string(),
        };
        self.write_answer(auth, event, |_, now| {
            if let Some(style) = style {
                let until = now.plus(self.inner.refusal_hold);
                self.inner.auths.set_hold(&auth.subject, until, style, now, self.inner.ttl);
            }
            self.inner.auths.settle(auth, Outcome::Refused(style));
        })
        .await
    }

    /// Writes an answer to `auth`: under the user's write lock, reserves the authorization,
    /// appends the event, then applies the answer (`then`); when the store refuses the event,
    /// the authorization's calls fail with the store's error.
    async fn write_answer(
        &self,
        auth: &Arc<Authorization>,
        event: impl FnOnce(Timestamp) -> ConsentEvent,
        then: impl FnOnce(&ConsentEvent, Timestamp),
    ) -> Result<(), ResolveError> {
        // The answer's time, and the version in effect then: when it was given.
        let now = self.now();
        let _w = self.inner.writes.lock(&auth.subject).await;
        let claim = self.claim(auth)?;
        let event = event(now);
        let result = match self.inner.store.append(&self.inner.app, &event).await {
            Ok(_) => {
                then(&event, now);
                Ok(())
            }
            Err(e) => {
                self.inner.auths.settle(auth, Outcome::StoreFailed(e.message().to_owned()));
                Err(e.into())
            }
        };
        drop(claim);
        result
    }
}
