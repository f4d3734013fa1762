//! Every shape `#[privacy_scope]` accepts, written as a user would, with one-line bodies. The
//! crate denies every rustc warning and every `clippy::pedantic` lint (its manifest says so), and
//! the workspace's `cargo clippy --all-targets -- -D warnings` checks it: an expansion that made
//! the user's code warn fails the build.

use async_trait::async_trait;
use privacy_runtime::{PrivacyError, privacy_scope};

/// A sync function.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("location")]
pub fn sync_one(#[subject] user: &str, x: u64) -> Result<u64, PrivacyError> {
    Ok(x.wrapping_mul(3))
}

/// An async function.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("location")]
pub async fn async_one(#[subject] user: &str, x: u64) -> Result<u64, PrivacyError> {
    Ok(x.wrapping_mul(3))
}

/// The ambient subject, a custom scope and an API name.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("purchase_history", api = "getPurchases")]
pub fn ambient(x: u64) -> Result<u64, PrivacyError> {
    Ok(x)
}

/// Generic.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("location")]
pub fn generic<T: Into<u64>>(#[subject] user: u64, x: T) -> Result<u64, PrivacyError> {
    Ok(x.into())
}

/// Degrades to a fallback.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("user_info", degrade = as_text)]
pub fn degraded(#[subject] user: &str, typed: String) -> Result<String, PrivacyError> {
    Ok(typed)
}

/// The fallback.
///
/// # Errors
/// Never.
pub fn as_text(user: &str, typed: String) -> Result<String, PrivacyError> {
    Ok(typed + user)
}

/// Two attributes stacked.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("location")]
#[privacy_scope("user_info")]
pub fn stacked(#[subject] user: &str) -> Result<(), PrivacyError> {
    Ok(())
}

/// Methods.
pub struct Service(u64);

impl Service {
    /// By reference.
    ///
    /// # Errors
    /// When the user has not agreed.
    #[privacy_scope("location")]
    pub fn by_ref(&self, #[subject] user: &str) -> Result<u64, PrivacyError> {
        Ok(self.0)
    }

    /// By mutable reference.
    ///
    /// # Errors
    /// When the user has not agreed.
    #[privacy_scope("location")]
    pub fn by_mut(&mut self, #[subject] user: &str) -> Result<u64, PrivacyError> {
        self.0 += 1;
        Ok(self.0)
    }

    /// Async, by reference.
    ///
    /// # Errors
    /// When the user has not agreed.
    #[privacy_scope("location")]
    pub async fn by_ref_async(&self, #[subject] user: &str) -> Result<u64, PrivacyError> {
        Ok(self.0)
    }

    /// Degrades to a method.
    ///
    /// # Errors
    /// When the user has not agreed.
    #[privacy_scope("user_info", degrade = fallback)]
    pub fn degraded_method(&self, #[subject] user: &str) -> Result<u64, PrivacyError> {
        Ok(self.0)
    }

    /// The fallback.
    ///
    /// # Errors
    /// Never.
    pub fn fallback(&self, user: &str) -> Result<u64, PrivacyError> {
        Ok(self.0 + user.len() as u64)
    }
}

/// A trait with async methods, through async-trait.
#[async_trait]
pub trait Api {
    /// Locates.
    async fn locate(&self, user: &str) -> Result<u64, PrivacyError>;
    /// Takes an owned subject.
    async fn owned(&self, user: String, x: u64) -> Result<u64, PrivacyError>;
}

#[async_trait]
impl Api for Service {
    #[privacy_scope("location")]
    async fn locate(&self, #[subject] user: &str) -> Result<u64, PrivacyError> {
        Ok(self.0)
    }

    #[privacy_scope("location")]
    async fn owned(&self, #[subject] user: String, x: u64) -> Result<u64, PrivacyError> {
        Ok(x)
    }
}

/// A trait with a native async method.
pub trait Native {
    /// Locates.
    fn locate(&self, user: &str) -> impl std::future::Future<Output = Result<u64, PrivacyError>> + Send;
}

impl Native for Service {
    #[privacy_scope("location")]
    async fn locate(&self, #[subject] user: &str) -> Result<u64, PrivacyError> {
        Ok(self.0)
    }
}

/// A body that starts with items.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("location")]
pub fn items_first(#[subject] user: &str) -> Result<String, PrivacyError> {
    use std::fmt::Write;
    fn helper() -> &'static str {
        "x"
    }
    let mut s = String::new();
    let _ = write!(s, "{}{user}", helper());
    Ok(s)
}

/// An underscore-named subject and fallback parameter.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("location")]
pub fn underscore(#[subject] _user: &str) -> Result<u8, PrivacyError> {
    Ok(1)
}

/// Degrades with an underscore-named parameter.
///
/// # Errors
/// When the user has not agreed.
#[privacy_scope("user_info", degrade = typed_name)]
pub fn nickname(#[subject] user: &str, _hint: &str) -> Result<String, PrivacyError> {
    Ok(user.to_owned())
}

/// The fallback.
///
/// # Errors
/// Never.
pub fn typed_name(user: &str, hint: &str) -> Result<String, PrivacyError> {
    Ok(format!("{user}{hint}"))
}

macro_rules! from_fragments {
    ($name:ident, $ret:ty, $body:block) => {
        /// From `macro_rules!` fragments.
        ///
        /// # Errors
        /// When the user has not agreed.
        #[privacy_scope("location")]
        pub fn $name(#[subject] user: &str) -> $ret $body
    };
}

from_fragments!(from_block, Result<u8, PrivacyError>, { Ok(1) });

/// A trait whose async methods degrade, through async-trait.
#[async_trait]
pub trait Counter {
    /// By mutable reference.
    async fn bump(&mut self, user: String) -> Result<u64, PrivacyError>;
    /// By value.
    async fn take(self, user: String) -> Result<u64, PrivacyError>;
}

impl Service {
    async fn bump_fallback(&mut self, _user: String) -> Result<u64, PrivacyError> {
        std::future::ready(Ok(self.0)).await
    }

    async fn take_fallback(self, _user: String) -> Result<u64, PrivacyError> {
        std::future::ready(Ok(self.0)).await
    }
}

#[async_trait]
impl Counter for Service {
    #[privacy_scope("location", degrade = bump_fallback)]
    async fn bump(&mut self, #[subject] user: String) -> Result<u64, PrivacyError> {
        self.0 += 1;
        Ok(self.0)
    }

    #[privacy_scope("location", degrade = Self::take_fallback)]
    async fn take(self, #[subject] user: String) -> Result<u64, PrivacyError> {
        Ok(self.0)
    }
}
