//! The rules guidelines must follow, in one place: the guidelines file is checked against them
//! while compiling and the runtime's builder checks the same functions, so nothing the compiler
//! accepted can be refused when the program starts.

use crate::catalog::{BUILTIN_SCOPES, builtin_index};

/// How many scopes a scope set holds: built-in and custom together.
pub const MAX_SCOPES: usize = 128;

/// How many custom scopes guidelines can declare.
pub const MAX_CUSTOM_SCOPES: usize = MAX_SCOPES - BUILTIN_SCOPES.len();

/// The longest delay between publishing a version and its taking effect: 366 days. The
/// platform's is 5 minutes; a longer one is almost always a unit mistake.
pub const MAX_EFFECT_DELAY_SECONDS: u64 = 366 * 86_400;

/// The longest agree-button id, in bytes.
pub const MAX_BUTTON_ID_LEN: usize = 128;

/// Why a custom scope id is refused, if it is.
pub fn custom_scope_id(id: &str) -> Result<(), String> {
    let snake = id.starts_with(|ch: char| ch.is_ascii_lowercase())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !snake {
        return Err(format!(
            "custom scope id `{id}` must be snake_case: lowercase letters, digits and `_`, starting with a letter"
        ));
    }
    if builtin_index(id).is_some() {
        return Err(format!(
            "custom scope `{id}` has the id of a built-in scope; remove it, the built-in one is already known"
        ));
    }
    Ok(())
}

/// Why `count` custom scopes are too many, if they are.
pub fn custom_scope_count(count: usize) -> Result<(), String> {
    if count > MAX_CUSTOM_SCOPES {
        return Err(format!(
            "{count} custom scopes are more than the {MAX_CUSTOM_SCOPES} a scope set holds beside the {} built-in ones; \
             merge some of them",
            BUILTIN_SCOPES.len()
        ));
    }
    Ok(())
}

/// Why an effect delay is refused, if it is.
pub fn effect_delay_seconds(secs: u64) -> Result<(), String> {
    if secs > MAX_EFFECT_DELAY_SECONDS {
        return Err(format!(
            "effect_delay_seconds = {secs} is longer than the {MAX_EFFECT_DELAY_SECONDS} seconds (366 days) allowed; \
             the platform's delay is 300 (5 minutes)"
        ));
    }
    Ok(())
}

/// Why a publish time (milliseconds since the Unix epoch) is refused, if it is.
pub fn published_at_millis(millis: i64) -> Result<(), String> {
    if !(crate::time::MIN_PUBLISHED_MILLIS..=crate::time::MAX_PUBLISHED_MILLIS).contains(&millis) {
        return Err("published_at must be a time between the years 1 and 9997".to_owned());
    }
    Ok(())
}

/// Why an agree-button id is refused, if it is; `earlier` are the ids registered before it.
pub fn agree_button<'a>(id: &str, mut earlier: impl Iterator<Item = &'a str>) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("an agree-button id is empty; give the id of the <button open-type=\"agreePrivacyAuthorization\">"
            .to_owned());
    }
    if id.len() > MAX_BUTTON_ID_LEN || id.chars().any(char::is_control) {
        return Err(format!(
            "agree-button id `{}` must be at most {MAX_BUTTON_ID_LEN} bytes without control characters",
            id.escape_debug()
        ));
    }
    if earlier.any(|e| e == id) {
        return Err(format!("agree-button id `{id}` is registered twice; remove one"));
    }
    Ok(())
}

/// Why a contract name is refused, if it is.
pub fn contract_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(
            "contract_name is empty; give the contract's name, such as \"《示例小程序隐私保护指引》\"".to_owned()
        );
    }
    Ok(())
}
