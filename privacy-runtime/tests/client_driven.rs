//! The answers a client sends by ticket, as an HTTP backend relays them: what `Gate::pending`
//! reports, `Gate::unanswered` handing over to the official prompt, a repeated exposure, and a
//! prompt answer to an authorization the agree button's tap already settled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use privacy_runtime::*;

mod common;
use common::{july_11, july_12};

const LOC: ScopeSet = ScopeSet::EMPTY.with(Scope::CHOSEN_LOCATION);

/// A gate that returns a pending error at once, with a listener that leaves the authorization
/// to the client (as a backend does).
fn gate(clock: &ManualClock) -> Gate {
    let g = Guidelines::builder("《示例小程序隐私保护指引》")
        .version(july_11(), ["chosen_location"])
        .agree_button("agree-btn")
        .build()
        .unwrap();
    let gate = Gate::builder("wx-demo", g).clock(clock.clone()).wait_policy(WaitPolicy::ReturnPending).build();
    gate.on_need_privacy_authorization(|resolver, _| {
        let _ = resolver.defer();
    });
    gate
}

fn pending_ticket(gate: &Gate, user: &str) -> Ticket {
    match gate.check_blocking("chooseLocation", LOC, user).unwrap_err().kind() {
        PrivacyErrorKind::Pending { ticket, stage } => {
            assert_eq!(*stage, PendingStage::Listener);
            *ticket
        }
        other => panic!("expected a pending authorization, got {other:?}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn pending_reports_the_open_authorization_and_nothing_else() {
    let clock = ManualClock::new(july_12());
    let gate = gate(&clock);
    assert!(gate.pending("u1").is_none());
    let ticket = pending_ticket(&gate, "u1");
    let open = gate.pending("u1").unwrap();
    assert_eq!((open.ticket, open.stage, open.referrer.as_str()), (ticket, PendingStage::Listener, "chooseLocation"));
    assert_eq!(open.scopes, LOC);
    assert!(!open.exposed);
    assert!(gate.pending("u2").is_none(), "another user's authorization is not theirs");
    assert_eq!(gate.pending_ticket("u1"), Some((ticket, PendingStage::Listener)));

    // Past its expiry it is gone.
    clock.advance(DEFAULT_AUTHORIZATION_TTL);
    assert!(gate.pending("u1").is_none());
}

#[test]
fn unanswered_hands_the_authorization_to_the_official_prompt() {
    let clock = ManualClock::new(july_12());
    let gate = gate(&clock);
    let ticket = pending_ticket(&gate, "u1");
    let rt = runtime();
    // The prompt cannot be answered while the listener holds it.
    let early = rt.block_on(gate.answer_prompt("u1", ticket, PromptAnswer::Accept));
    assert!(matches!(early, Err(ResolveError::NotPrompting { .. })), "{early:?}");
    // Another user cannot hand it over.
    assert!(matches!(gate.unanswered("u2", ticket), Err(ResolveError::UnknownTicket { .. })));
    assert_eq!(gate.unanswered("u1", ticket).unwrap(), PendingStage::OfficialPrompt);
    assert_eq!(gate.pending("u1").unwrap().stage, PendingStage::OfficialPrompt);
    rt.block_on(gate.answer_prompt("u1", ticket, PromptAnswer::Accept)).unwrap();
    gate.check_blocking("chooseLocation", LOC, "u1").unwrap();
    // Settled: nothing more to hand over.
    assert!(gate.unanswered("u1", ticket).is_err());
}

#[test]
fn a_repeated_exposure_is_recorded_once() {
    let clock = ManualClock::new(july_12());
    let gate = gate(&clock);
    let ticket = pending_ticket(&gate, "u1");
    let rt = runtime();
    for _ in 0..5 {
        rt.block_on(gate.resolve("u1", ticket, Resolution::ExposureAuthorization)).unwrap();
    }
    assert!(gate.pending("u1").unwrap().exposed);
    let history = rt.block_on(gate.history("u1")).unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.event.kind()).collect();
    assert_eq!(kinds, ["exposed"]);
}

#[test]
fn a_prompt_answer_after_the_tap_settled_it_is_already_decided() {
    let clock = ManualClock::new(july_12());
    let gate = gate(&clock);
    let ticket = pending_ticket(&gate, "u1");
    let rt = runtime();
    rt.block_on(gate.tap_agree_button("u1", "agree-btn")).unwrap();
    let late = rt.block_on(gate.answer_prompt("u1", ticket, PromptAnswer::Refuse(PromptStyle::Direct)));
    assert!(matches!(late, Err(ResolveError::AlreadySettled { .. })), "{late:?}");
    // The agree that follows the tap is still taken, and the consent stands.
    rt.block_on(gate.resolve("u1", ticket, Resolution::Agree { button_id: "agree-btn".into() })).unwrap();
    gate.check_blocking("chooseLocation", LOC, "u1").unwrap();
}
