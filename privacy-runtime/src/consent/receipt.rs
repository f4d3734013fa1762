//! Exports of a subject's consent: the ledger as JSON lines, and a consent receipt shaped after
//! ISO/IEC TS 27560 (the successor of the Kantara consent receipt).

use super::{ConsentEvent, ConsentSource, LedgerEntry};
use crate::clock::Timestamp;
use crate::guidelines::{ContractLocation, Guidelines, VersionId};
use crate::subject::Subject;

/// A consent receipt: what a user agreed to, when, how, and whether it still holds, shaped after
/// the consent record of ISO/IEC TS 27560. Serialize it (serde) to hand it to the user or to an
/// auditor; [`Gate::consent_receipt`](crate::Gate::consent_receipt) makes one.
///
/// ```json
/// {"schema":"privacy-runtime consent receipt 1 (after ISO/IEC TS 27560)","receipt_id":"…",
///  "issued_at":"2023-07-12T08:00:00.000Z","controller":{"app":"wx1234"},
///  "subject":"openid-1","state":"given",
///  "notice":{"name":"《示例小程序隐私保护指引》","location":"https://…","version":{"published_at":"…","sha256":"…"}},
///  "purposes":[{"scope":"chosen_location","name":"选中的位置信息","purpose":"展示附近门店"}],
///  "consent":{"given_at":"…","method":"agree_button","button_id":"agree-btn","referrer":"chooseLocation","seq":2},
///  "ledger_entries":3}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ConsentReceipt {
    /// Which shape this is.
    pub schema: String,
    /// Identifies this receipt: the same for the same ledger state (a SHA-256 of app, subject
    /// and the newest entry's number, 32 hex digits).
    pub receipt_id: String,
    /// When the receipt was made.
    pub issued_at: Timestamp,
    /// Who is responsible for the processing.
    pub controller: Controller,
    /// The user (the PII principal).
    pub subject: Subject,
    /// `given`, `withdrawn`, `expired`, `superseded`, `refused` or `not_given`.
    pub state: ConsentState,
    /// The notice agreed to: the guidelines, their version and its content hash. `None` when
    /// the user never agreed.
    pub notice: Option<Notice>,
    /// The scopes agreed to, each with its name and the purpose given for it.
    pub purposes: Vec<Purpose>,
    /// The agreement in force, or the last one.
    pub consent: Option<Collection>,
    /// How many entries the user's ledger holds.
    pub ledger_entries: u64,
}

/// The controller of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Controller {
    /// The app (its AppID or the gate's name for it).
    pub app: String,
}

/// The state of a consent, as a receipt gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConsentState {
    /// In force.
    Given,
    /// Cleared by the user.
    Withdrawn,
    /// Past its maximum age.
    Expired,
    /// Refused, and never given since.
    Refused,
    /// Given to a version that no longer counts: a later version requiring fresh consent is in
    /// effect, the version was removed from the guidelines, or the consent is past the maximum
    /// age (its `expired` entry is written at the user's next call).
    Superseded,
    /// Never given.
    NotGiven,
}

/// The notice a consent was given to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Notice {
    /// The guidelines' name.
    pub name: String,
    /// Where they are read (a URL), when they are a page.
    pub location: Option<String>,
    /// The version agreed to: its publish time and the SHA-256 of what it declares.
    pub version: Option<VersionId>,
}

/// One scope agreed to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Purpose {
    /// The scope id.
    pub scope: String,
    /// Its name as the guidelines show it.
    pub name: Option<String>,
    /// The purpose given for it.
    pub purpose: Option<String>,
}

/// How and when a consent was collected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Collection {
    /// When it was given.
    pub given_at: Timestamp,
    /// `agree_button`, `combined_button` or `official_prompt`.
    pub method: String,
    /// The button, for a button.
    pub button_id: Option<String>,
    /// The action a combined button ran with it (`getPhoneNumber`, …).
    pub action: Option<String>,
    /// The API whose call asked.
    pub referrer: Option<String>,
    /// Its entry's number in the ledger.
    pub seq: u64,
    /// When it ended (withdrawn or expired), if it did.
    pub ended_at: Option<Timestamp>,
}

impl ConsentReceipt {
    /// The receipt of `history` (a subject's whole ledger, in order) under `guidelines`;
    /// `in_force` says whether an agreement with no clear or expiry after it still covers
    /// anything now.
    pub(crate) fn of(
        app: &str,
        subject: &Subject,
        guidelines: &Guidelines,
        history: &[LedgerEntry],
        now: Timestamp,
        in_force: impl FnOnce(&super::ConsentRecord) -> bool,
    ) -> ConsentReceipt {
        let last_agreed = history.iter().rposition(|e| matches!(e.event, ConsentEvent::Agreed(_)));
        let after = last_agreed.map_or(history, |i| &history[i + 1..]);
        let ended = after.iter().find_map(|e| match e.event {
            ConsentEvent::Cleared { at, .. } => Some((ConsentState::Withdrawn, at)),
            ConsentEvent::Expired { at, .. } => Some((ConsentState::Expired, at)),
            _ => None,
        });
        let refused = history.iter().any(|e| matches!(e.event, ConsentEvent::Refused { .. }));
        let record = last_agreed.and_then(|i| match &history[i].event {
            ConsentEvent::Agreed(r) => Some((r, history[i].seq)),
            _ => None,
        });
        let state = match (record, ended) {
            (Some(_), Some((state, _))) => state,
            (Some((r, _)), None) if in_force(r) => ConsentState::Given,
            (Some(_), None) => ConsentState::Superseded,
            (None, _) if refused => ConsentState::Refused,
            (None, _) => ConsentState::NotGiven,
        };
        // The purposes as the version agreed to gave them, not as a later version does.
        let agreed_version = record.and_then(|(r, _)| r.version.as_ref()).and_then(|id| guidelines.version_by_id(id));
        let notice = record.map(|(r, _)| Notice {
            name: guidelines.contract_name().to_owned(),
            location: match guidelines.contract() {
                Some(ContractLocation::Url(u)) => Some(u.clone()),
                _ => None,
            },
            version: r.version,
        });
        let purposes = record
            .map(|(r, _)| {
                r.scopes
                    .iter()
                    .map(|id| {
                        let scope = guidelines.scope(id).ok();
                        let name = scope.and_then(|s| match s.builtin_info() {
                            Some(info) => Some(info.name_zh.to_owned()),
                            None => guidelines.custom_scope(s).map(|c| c.name_zh.clone()),
                        });
                        let purpose = scope.and_then(|s| {
                            agreed_version?.purposes.iter().find(|(p, _)| *p == s).map(|(_, text)| text.clone())
                        });
                        Purpose { scope: id.clone(), name, purpose }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let consent = record.map(|(r, seq)| {
            let (method, button_id, action) = match &r.source {
                ConsentSource::AgreeButton { button_id } => ("agree_button", Some(button_id.clone()), None),
                ConsentSource::CombinedButton { button_id, action } => {
                    ("combined_button", Some(button_id.clone()), Some(action.clone()))
                }
                ConsentSource::OfficialPrompt => ("official_prompt", None, None),
            };
            Collection {
                given_at: r.at,
                method: method.to_owned(),
                button_id,
                action,
                referrer: r.referrer.clone(),
                seq,
                ended_at: ended.map(|(_, at)| at),
            }
        });
        let newest = history.last().map_or(0, |e| e.seq);
        let receipt_id = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            for part in [app.as_bytes(), crate::consent::subject_text(subject).as_bytes(), &newest.to_le_bytes()] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
            h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
        };
        ConsentReceipt {
            schema: "privacy-runtime consent receipt 1 (after ISO/IEC TS 27560)".to_owned(),
            receipt_id,
            issued_at: now,
            controller: Controller { app: app.to_owned() },
            subject: subject.clone(),
            state,
            notice,
            purposes,
            consent,
            ledger_entries: history.len() as u64,
        }
    }
}

/// A subject's ledger as JSON lines: one entry per line, oldest first, each ending in `\n`.
pub(crate) fn json_lines(history: &[LedgerEntry]) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for entry in history {
        out.push_str(&serde_json::to_string(entry)?);
        out.push('\n');
    }
    Ok(out)
}
