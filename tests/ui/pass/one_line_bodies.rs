// Every shape the attribute accepts, with one-line bodies, in a crate that denies every warning:
// the check is spliced in front of the body's statements, so nothing nests a block in a block.
#![deny(warnings)]

use privacy_runtime::{privacy_scope, PrivacyError};

#[privacy_scope("location")]
pub fn sync_one(#[subject] user: &str, x: u64) -> Result<u64, PrivacyError> { Ok(x.wrapping_mul(3)) }

#[privacy_scope("location")]
pub async fn async_one(#[subject] user: &str, x: u64) -> Result<u64, PrivacyError> { Ok(x.wrapping_mul(3)) }

#[privacy_scope("location")]
pub fn ambient(x: u64) -> Result<u64, PrivacyError> { Ok(x) }

#[privacy_scope("location")]
pub fn generic<T: Into<u64>>(#[subject] user: u64, x: T) -> Result<u64, PrivacyError> { Ok(x.into()) }

#[privacy_scope("location", api = "getLocation")]
pub fn unit(#[subject] user: &str) -> Result<(), PrivacyError> { Ok(()) }

#[privacy_scope("user_info", degrade = as_text)]
pub fn degraded(#[subject] user: &str, typed: String) -> Result<String, PrivacyError> { Ok(typed) }

pub fn as_text(user: &str, typed: String) -> Result<String, PrivacyError> { Ok(format!("{user}:{typed}")) }

pub struct Service(u64);

impl Service {
    #[privacy_scope("location")]
    pub fn by_ref(&self, #[subject] user: &str) -> Result<u64, PrivacyError> { Ok(self.0) }

    #[privacy_scope("location")]
    pub fn by_mut(&mut self, #[subject] user: &str) -> Result<u64, PrivacyError> { self.0 += 1; Ok(self.0) }

    #[privacy_scope("location")]
    pub async fn by_ref_async(&self, #[subject] user: &str) -> Result<u64, PrivacyError> { Ok(self.0) }

    #[privacy_scope("user_info", degrade = fallback)]
    pub fn degraded_method(&self, #[subject] user: &str) -> Result<u64, PrivacyError> { Ok(self.0) }

    pub fn fallback(&self, _user: &str) -> Result<u64, PrivacyError> { Ok(0) }
}

#[privacy_scope("location")]
#[privacy_scope("werun")]
pub fn stacked(#[subject] user: &str) -> Result<(), PrivacyError> { Ok(()) }

#[privacy_scope("location")]
pub fn with_inner_attribute(#[subject] user: &str) -> Result<u8, PrivacyError> {
    #![allow(clippy::all)]
    Ok(1)
}

fn main() {}
