// Generic functions with where clauses and lifetimes, impl Trait arguments and returns, and
// Result aliases.
use std::fmt::Display;

use privacy_runtime::{privacy_scope, AsSubject, PrivacyError};

type PResult<T> = Result<T, PrivacyError>;

#[privacy_scope("location")]
fn generic<'a, T, U: Clone>(#[subject] user: &'a str, t: &'a T, u: U) -> PResult<&'a T>
where
    T: Display + ?Sized,
{
    let _ = (user, u.clone());
    Ok(t)
}

#[privacy_scope("location")]
fn impl_trait_arg(#[subject] user: impl AsSubject, items: impl IntoIterator<Item = u8>) -> PResult<u32> {
    let _ = user.as_subject();
    Ok(items.into_iter().map(u32::from).sum())
}

#[privacy_scope("location")]
fn impl_trait_return(#[subject] user: &str) -> Result<impl Display, PrivacyError> {
    let _ = user;
    Ok(42)
}

#[privacy_scope("location")]
fn boxed_dyn(#[subject] user: &str) -> Result<Box<dyn Display>, PrivacyError> {
    let _ = user;
    Ok(Box::new("coerced"))
}

#[derive(Debug)]
struct AppError;
impl From<PrivacyError> for AppError {
    fn from(_: PrivacyError) -> Self {
        AppError
    }
}
mod errors {
    pub type Result<T> = std::result::Result<T, super::AppError>;
}

#[privacy_scope("location")]
async fn async_generic<T: Send + Display>(#[subject] user: &str, t: T) -> errors::Result<String> {
    let _ = user;
    Ok(t.to_string())
}

#[privacy_scope("location")]
fn module_alias(#[subject] user: &str) -> errors::Result<()> {
    let _ = user;
    Ok(())
}

fn main() {
    let _ = generic("u", "x", 1u8);
    let _ = impl_trait_arg("u", [1u8, 2]);
    let _ = impl_trait_return("u").map(|d| d.to_string());
    let _ = boxed_dyn("u");
    let _ = async_generic("u", 1);
    let _ = module_alias("u");
}
