// `#[async_trait]` methods: async-trait expands first and the attribute sees the boxed future;
// a native `async fn` in a trait impl is seen as written. Both compile without a warning.
#![deny(warnings)]

use async_trait::async_trait;
use privacy_runtime::{privacy_scope, PrivacyError};

#[async_trait]
pub trait Api {
    async fn locate(&self, user: &str) -> Result<u64, PrivacyError>;
    async fn owned(&self, user: String, x: u64) -> Result<u64, PrivacyError>;
}

pub struct Server;

#[async_trait]
impl Api for Server {
    #[privacy_scope("location")]
    async fn locate(&self, #[subject] user: &str) -> Result<u64, PrivacyError> { Ok(1) }

    #[privacy_scope("location", degrade = fallback)]
    async fn owned(&self, #[subject] user: String, x: u64) -> Result<u64, PrivacyError> { Ok(x) }
}

impl Server {
    async fn fallback(&self, _user: String, _x: u64) -> Result<u64, PrivacyError> { Ok(0) }
}

pub trait Native {
    fn locate(&self, user: &str) -> impl std::future::Future<Output = Result<u64, PrivacyError>> + Send;
}

impl Native for Server {
    #[privacy_scope("location")]
    async fn locate(&self, #[subject] user: &str) -> Result<u64, PrivacyError> { Ok(2) }
}

fn main() {}
