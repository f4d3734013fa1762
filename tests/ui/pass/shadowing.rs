// A module that shadows Result, Option, Box, and has a module named core.
#![allow(dead_code, non_camel_case_types)]

mod core {}
struct Option;
struct Box;
struct Some;
struct None;
type Result = ();
struct Ok;
struct Err;

#[privacy_runtime::privacy_scope("location")]
fn shadowed(#[subject] user: &str) -> ::std::result::Result<u8, privacy_runtime::PrivacyError> {
    let _ = user;
    ::std::result::Result::Ok(1)
}

#[privacy_runtime::privacy_scope("location")]
fn ambient() -> ::std::result::Result<u8, privacy_runtime::PrivacyError> {
    ::std::result::Result::Ok(2)
}

fn main() {
    let _ = shadowed("u");
    let _ = ambient();
}
