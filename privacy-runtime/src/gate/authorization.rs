//! The open authorizations: at most one per user, joined by the calls whose scopes it was opened
//! for, waited on without leaking wakers, expired after a set time and pruned once settled, so
//! the memory they take is bounded by what is open. The refusal holds live beside them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::clock::Timestamp;
use crate::error::PendingStage;
use crate::prompt::PromptStyle;
use crate::scope::ScopeSet;
use crate::subject::Subject;
use crate::sync::{Mutex, lock};
use crate::ticket::{Ticket, TicketError, TicketSource};

/// How an authorization ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The user agreed; each waiting call checks its own scopes again before it runs.
    Agreed,
    /// The user refused: `disagree` (`None`) or the official prompt in a style.
    Refused(Option<PromptStyle>),
    /// The user's consent was cleared while it was open.
    Cleared,
    /// Expired, or the official prompt was dismissed unanswered.
    Unanswered,
    /// The answer could not be stored.
    StoreFailed(String),
    /// The user's consent changed elsewhere (another gate or instance): decide again.
    Changed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escalation {
    /// The listener has it.
    No,
    /// The official prompt should take over: the resolver was dropped unanswered, there is no
    /// listener, or the listener's time ran out. Whoever drives the authorization next shows it.
    Requested,
    /// The official prompt was shown (or handed to the client).
    Done,
}

/// One open authorization: a scope set, the API that opened it, and its state.
pub(crate) struct Authorization {
    pub(crate) ticket: Ticket,
    pub(crate) subject: Subject,
    pub(crate) referrer: Arc<str>,
    pub(crate) scopes: ScopeSet,
    pub(crate) expires_at: Timestamp,
    state: Mutex<State>,
}

struct State {
    stage: PendingStage,
    escalation: Escalation,
    /// An answer is being written to the store; nothing else may decide meanwhile.
    claimed: bool,
    outcome: Option<Outcome>,
    exposed: bool,
    taps: Vec<String>,
    /// One slot per waiting call; a dropped waiter frees its slot.
    waiters: Vec<Option<Waker>>,
    free: Vec<usize>,
}

/// Why an authorization could not be claimed for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotOpen {
    /// Decided already, or another answer is being written.
    Settled,
    /// Its time ran out.
    Expired,
}

/// Why an `agree` naming a button was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgreeCheck {
    /// The button was not tapped by this user during this authorization.
    NotTapped,
    /// Decided otherwise already, or an answer is being recorded.
    Settled,
    /// Its time ran out.
    Expired,
}

impl Authorization {
    fn new(ticket: Ticket, subject: Subject, referrer: &str, scopes: ScopeSet, expires_at: Timestamp) -> Self {
        Authorization {
            ticket,
            subject,
            referrer: Arc::from(referrer),
            scopes,
            expires_at,
            state: Mutex::new(State {
                stage: PendingStage::Listener,
                escalation: Escalation::No,
                claimed: false,
                outcome: None,
                exposed: false,
                taps: Vec::new(),
                waiters: Vec::new(),
                free: Vec::new(),
            }),
        }
    }

    pub(crate) fn stage(&self) -> PendingStage {
        lock(&self.state).stage
    }

    pub(crate) fn outcome(&self) -> Option<Outcome> {
        lock(&self.state).outcome.clone()
    }

    /// Marks the popup shown; `true` the first time.
    pub(crate) fn set_exposed(&self) -> bool {
        !std::mem::replace(&mut lock(&self.state).exposed, true)
    }

    pub(crate) fn exposed(&self) -> bool {
        lock(&self.state).exposed
    }

    /// Notes that the user tapped `button_id` during this authorization.
    pub(crate) fn note_tap(&self, button_id: &str) {
        let mut st = lock(&self.state);
        if !st.taps.iter().any(|b| b == button_id) {
            st.taps.push(button_id.to_owned());
        }
    }

    /// An `agree` naming `button_id`: checked and, when accepted, decided in one step, so no
    /// answer being written can be overtaken. Returns the wakers to wake when it decided now.
    fn agree(&self, button_id: &str, now: Timestamp) -> Result<Vec<Waker>, AgreeCheck> {
        let mut st = lock(&self.state);
        if !st.taps.iter().any(|b| b == button_id) {
            return Err(AgreeCheck::NotTapped);
        }
        match &st.outcome {
            // Settled by the tap itself.
            Some(Outcome::Agreed) => Ok(Vec::new()),
            Some(_) => Err(AgreeCheck::Settled),
            None if st.claimed => Err(AgreeCheck::Settled),
            None if self.expired(now) => Err(AgreeCheck::Expired),
            None => {
                st.outcome = Some(Outcome::Agreed);
                Ok(take_wakers(&mut st))
            }
        }
    }

    /// Hands the authorization to the official prompt (no user code runs here).
    pub(crate) fn request_escalation(&self) {
        let wakers = {
            let mut st = lock(&self.state);
            if st.outcome.is_some() || st.escalation != Escalation::No {
                return;
            }
            st.escalation = Escalation::Requested;
            take_wakers(&mut st)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// `true` once, for the caller that is to show the official prompt now.
    pub(crate) fn take_escalation(&self) -> bool {
        let mut st = lock(&self.state);
        // While an answer is being written the prompt waits: the answer may end it.
        if st.outcome.is_some() || st.claimed || st.escalation != Escalation::Requested {
            return false;
        }
        st.escalation = Escalation::Done;
        st.stage = PendingStage::OfficialPrompt;
        true
    }

    /// Reserves the authorization for an answer being written, until the guard is dropped (a
    /// write cancelled before it decided leaves the authorization open).
    pub(crate) fn claim(self: &Arc<Self>, now: Timestamp) -> Result<Claim, NotOpen> {
        let mut st = lock(&self.state);
        if st.outcome.is_some() || st.claimed {
            return Err(NotOpen::Settled);
        }
        if self.expired(now) {
            return Err(NotOpen::Expired);
        }
        st.claimed = true;
        Ok(Claim { auth: Some(Arc::clone(self)) })
    }

    /// Sets the outcome unless one is set; returns the wakers to wake once every lock is released.
    fn settle(&self, outcome: Outcome, even_if_claimed: bool) -> Option<Vec<Waker>> {
        let mut st = lock(&self.state);
        if st.outcome.is_some() || (st.claimed && !even_if_claimed) {
            return None;
        }
        st.outcome = Some(outcome);
        Some(take_wakers(&mut st))
    }

    fn expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// A future that completes when the authorization settles or asks for the official prompt.
    pub(crate) fn wait(&self) -> Wait<'_> {
        Wait { auth: self, slot: None }
    }
}

fn take_wakers(st: &mut State) -> Vec<Waker> {
    st.waiters.iter_mut().filter_map(Option::take).collect()
}

/// An authorization reserved for an answer being written.
pub(crate) struct Claim {
    auth: Option<Arc<Authorization>>,
}

impl Drop for Claim {
    /// Releases the reservation; a write abandoned before it decided wakes the waiting calls, so
    /// they can end the authorization if its time ran out meanwhile.
    fn drop(&mut self) {
        if let Some(a) = self.auth.take() {
            let wakers = {
                let mut st = lock(&a.state);
                st.claimed = false;
                if st.outcome.is_some() { Vec::new() } else { take_wakers(&mut st) }
            };
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// What woke a waiting call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Woken {
    Settled(Outcome),
    Escalate,
}

/// Waits on an authorization; deregisters when dropped.
pub(crate) struct Wait<'a> {
    auth: &'a Authorization,
    slot: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = Woken;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Woken> {
        let auth = self.auth;
        let mut st = lock(&auth.state);
        if let Some(o) = &st.outcome {
            return Poll::Ready(Woken::Settled(o.clone()));
        }
        if st.escalation == Escalation::Requested && !st.claimed {
            return Poll::Ready(Woken::Escalate);
        }
        let slot = match self.slot {
            Some(i) => i,
            None => match st.free.pop() {
                Some(i) => i,
                None => {
                    st.waiters.push(None);
                    st.waiters.len() - 1
                }
            },
        };
        match &mut st.waiters[slot] {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        drop(st);
        self.slot = Some(slot);
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.slot.take() {
            let mut st = lock(&self.auth.state);
            st.waiters[i] = None;
            st.free.push(i);
        }
    }
}

/// What a call finds when it needs an authorization.
pub(crate) enum Join {
    /// The user's consent covers the call now (it landed since the call checked).
    Covered,
    /// The open authorization covers the call's scopes: its decision is this call's.
    Joined(Arc<Authorization>),
    /// A new authorization was opened for this call: raise its event.
    Opened(Arc<Authorization>),
    /// Another authorization of the user is open for other scopes: wait for it, then decide
    /// again (one popup at a time).
    Busy(Arc<Authorization>),
}

/// What a call asks to open.
pub(crate) struct OpenRequest<'a> {
    pub(crate) subject: &'a Subject,
    pub(crate) referrer: &'a str,
    pub(crate) scopes: ScopeSet,
    pub(crate) now: Timestamp,
    pub(crate) ttl: Duration,
}

#[derive(Default)]
struct User {
    open: Option<Arc<Authorization>>,
    hold: Option<(Timestamp, PromptStyle)>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<Subject, User>,
    tickets: HashMap<Ticket, Arc<Authorization>>,
    since_sweep: usize,
    last_sweep: Timestamp,
}

/// The authorizations and refusal holds of one gate.
#[derive(Default)]
pub(crate) struct Table {
    inner: Mutex<Inner>,
}

/// Sweeps run after this many openings or holds at least, and otherwise once per as many as are
/// kept, so pruning costs O(1) per opening; and at least once per authorization lifetime, so what
/// expired is gone within one lifetime even when few authorizations open.
const SWEEP_MIN: usize = 64;

impl Inner {
    fn remove(&mut self, auth: &Authorization) {
        self.tickets.remove(&auth.ticket);
        self.close(auth);
    }

    /// No longer the user's open authorization; its ticket stays until it expires, so that the
    /// client's `agree` after the tap that settled it is accepted.
    fn close(&mut self, auth: &Authorization) {
        if let Some(user) = self.users.get_mut(&auth.subject) {
            if user.open.as_ref().is_some_and(|a| a.ticket == auth.ticket) {
                user.open = None;
            }
            if user.open.is_none() && user.hold.is_none() {
                self.users.remove(&auth.subject);
            }
        }
    }

    fn maybe_sweep(&mut self, now: Timestamp, ttl: Duration, wakers: &mut Vec<Waker>) {
        self.since_sweep += 1;
        if self.since_sweep < SWEEP_MIN.max(self.users.len()) && now < self.last_sweep.plus(ttl) {
            return;
        }
        self.since_sweep = 0;
        self.last_sweep = now;
        // Tickets kept after a tap settled them, until they expire.
        self.tickets.retain(|_, a| a.outcome().is_none() || !a.expired(now));
        let tickets = &mut self.tickets;
        self.users.retain(|_, user| {
            if user.hold.is_some_and(|(until, _)| now >= until) {
                user.hold = None;
            }
            if let Some(a) = user.open.take_if(|a| a.expired(now)) {
                match a.settle(Outcome::Unanswered, false) {
                    Some(w) => {
                        wakers.extend(w);
                        tickets.remove(&a.ticket);
                    }
                    // Being answered: its writer settles it.
                    None if a.outcome().is_none() => user.open = Some(a),
                    None => {
                        tickets.remove(&a.ticket);
                    }
                }
            }
            user.open.is_some() || user.hold.is_some()
        });
    }

    /// Settles an expired authorization; `false` if it is being answered.
    fn expire(&mut self, auth: &Arc<Authorization>, wakers: &mut Vec<Waker>) -> bool {
        match auth.settle(Outcome::Unanswered, false) {
            Some(w) => wakers.extend(w),
            None if auth.outcome().is_none() => return false,
            None => {}
        }
        self.remove(auth);
        true
    }
}

impl Table {
    /// Joins the user's open authorization, waits behind it, or opens one. `covered` is asked,
    /// under the table's lock, whether consent landed since the call checked: an agreement is
    /// visible in the snapshot before it settles the authorizations, so a call never opens a
    /// second one for a decided agree.
    pub(crate) fn join_or_open(
        &self,
        req: &OpenRequest<'_>,
        tickets: &TicketSource,
        covered: impl FnOnce() -> bool,
    ) -> Result<Join, TicketError> {
        let mut wakers = Vec::new();
        let result = (|| {
            let mut t = lock(&self.inner);
            t.maybe_sweep(req.now, req.ttl, &mut wakers);
            // One that is settled but not yet removed (its settler is between the two steps) is
            // gone already.
            if let Some(a) = t.users.get(req.subject).and_then(|u| u.open.clone())
                && a.outcome().is_some()
            {
                t.remove(&a);
            }
            if let Some(a) = t.users.get(req.subject).and_then(|u| u.open.clone())
                && !(a.expired(req.now) && t.expire(&a, &mut wakers))
            {
                return Ok(if req.scopes.is_subset(a.scopes) { Join::Joined(a) } else { Join::Busy(a) });
            }
            if covered() {
                return Ok(Join::Covered);
            }
            let ticket = tickets.next()?;
            let a = Arc::new(Authorization::new(
                ticket,
                req.subject.clone(),
                req.referrer,
                req.scopes,
                req.now.plus(req.ttl),
            ));
            t.tickets.insert(ticket, Arc::clone(&a));
            t.users.entry(req.subject.clone()).or_default().open = Some(Arc::clone(&a));
            Ok(Join::Opened(a))
        })();
        wakers.into_iter().for_each(Waker::wake);
        result
    }

    /// The open authorization with `ticket`, if it belongs to `subject` and has not expired.
    pub(crate) fn lookup(&self, subject: &Subject, ticket: Ticket, now: Timestamp) -> Option<Arc<Authorization>> {
        let mut wakers = Vec::new();
        let found = {
            let mut t = lock(&self.inner);
            match t.tickets.get(&ticket).filter(|a| a.subject == *subject).cloned() {
                Some(a) if a.expired(now) && t.expire(&a, &mut wakers) => None,
                other => other,
            }
        };
        wakers.into_iter().for_each(Waker::wake);
        found
    }

    /// The user's open authorization, if any (expired or not).
    pub(crate) fn open_of(&self, subject: &Subject) -> Option<Arc<Authorization>> {
        lock(&self.inner).users.get(subject).and_then(|u| u.open.clone())
    }

    /// Settles `auth` (unless it is settled already) and removes it; wakes its waiters. An
    /// authorization an agreement settled keeps its ticket until it expires: the client answers
    /// `agree` after the tap, and that answer is accepted.
    pub(crate) fn settle(&self, auth: &Authorization, outcome: Outcome) -> bool {
        let agreed = outcome == Outcome::Agreed;
        let Some(wakers) = auth.settle(outcome, true) else { return false };
        let mut t = lock(&self.inner);
        if agreed {
            t.close(auth);
        } else {
            t.remove(auth);
        }
        drop(t);
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    /// The user's open authorization, if any, settled as [`Outcome::Changed`]: its calls decide
    /// again. For consent changed by someone else.
    pub(crate) fn changed_elsewhere(&self, subject: &Subject) {
        if let Some(open) = self.open_of(subject) {
            self.settle(&open, Outcome::Changed);
        }
    }

    /// An `agree` naming `button_id` for `auth`: accepted if the user tapped that button during
    /// it (then its calls re-check their own scopes), decided in one step with the check.
    pub(crate) fn agree(&self, auth: &Authorization, button_id: &str, now: Timestamp) -> Result<(), AgreeCheck> {
        let wakers = auth.agree(button_id, now)?;
        lock(&self.inner).remove(auth);
        wakers.into_iter().for_each(Waker::wake);
        Ok(())
    }

    /// Ends `auth` unanswered (a dismissed prompt), unless an answer is being written.
    pub(crate) fn dismiss(&self, auth: &Authorization) {
        let Some(wakers) = auth.settle(Outcome::Unanswered, false) else { return };
        lock(&self.inner).remove(auth);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Ends `auth` unanswered if it has expired and no answer is being written.
    pub(crate) fn expire(&self, auth: &Arc<Authorization>, now: Timestamp) {
        if !auth.expired(now) {
            return;
        }
        let mut wakers = Vec::new();
        lock(&self.inner).expire(auth, &mut wakers);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The style of the refusal whose hold is still running for `subject`.
    pub(crate) fn hold(&self, subject: &Subject, now: Timestamp) -> Option<PromptStyle> {
        let mut t = lock(&self.inner);
        let user = t.users.get_mut(subject)?;
        match user.hold {
            Some((until, style)) if now < until => Some(style),
            Some(_) => {
                user.hold = None;
                if user.open.is_none() {
                    t.users.remove(subject);
                }
                None
            }
            None => None,
        }
    }

    pub(crate) fn set_hold(
        &self,
        subject: &Subject,
        until: Timestamp,
        style: PromptStyle,
        now: Timestamp,
        ttl: Duration,
    ) {
        let mut wakers = Vec::new();
        {
            let mut t = lock(&self.inner);
            t.maybe_sweep(now, ttl, &mut wakers);
            t.users.entry(subject.clone()).or_default().hold = Some((until, style));
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn lift_hold(&self, subject: &Subject) {
        let mut t = lock(&self.inner);
        if let Some(user) = t.users.get_mut(subject) {
            user.hold = None;
            if user.open.is_none() {
                t.users.remove(subject);
            }
        }
    }

    /// How many users have an open authorization or a hold, how many tickets are live, and how
    /// many calls wait on them.
    pub(crate) fn sizes(&self) -> (usize, usize, usize) {
        let t = lock(&self.inner);
        let waiting = t.tickets.values().map(|a| lock(&a.state).waiters.iter().flatten().count()).sum();
        // Tickets kept after a tap settled them (for the client's `agree`) are not open.
        let open = t.tickets.values().filter(|a| a.outcome().is_none()).count();
        (t.users.len(), open, waiting)
    }
}
