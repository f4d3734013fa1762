//! Guarded functions whose consented calls must not allocate: one per shape the attribute takes.
#![allow(missing_docs)]

use privacy_runtime::{PrivacyError, privacy_scope};

/// A built-in scope, sync, explicit subject.
#[privacy_scope("location", api = "getLocation")]
pub fn locate(#[subject] user: &str, seed: u64) -> Result<u64, PrivacyError> {
    Ok(seed.wrapping_mul(31))
}

/// A custom scope (resolved by id through the guidelines), sync.
#[privacy_scope("purchase_history", api = "getPurchaseHistory")]
pub fn purchases(#[subject] user: &str, seed: u64) -> Result<u64, PrivacyError> {
    Ok(seed ^ 0x5bd1_e995)
}

/// Both, async.
#[privacy_scope("location", "purchase_history", api = "suggestNearby")]
pub async fn suggest(#[subject] user: &str, seed: u64) -> Result<u64, PrivacyError> {
    Ok(seed.rotate_left(7))
}

/// The ambient subject (set by `with_subject`, as a web layer does).
#[privacy_scope("location", api = "getLocationOfCaller")]
pub fn locate_caller(seed: u64) -> Result<u64, PrivacyError> {
    Ok(seed.wrapping_add(1))
}
