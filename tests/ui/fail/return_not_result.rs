use privacy_runtime::privacy_scope;

#[privacy_scope("location")]
fn tuple(#[subject] user: &str) -> (u8, u8) {
    let _ = user;
    (1, 2)
}

#[privacy_scope("location")]
fn option(#[subject] user: &str) -> Option<u8> {
    let _ = user;
    Some(1)
}

#[derive(Debug)]
struct MyError;

#[privacy_scope("location")]
fn wrong_error(#[subject] user: &str) -> Result<u8, MyError> {
    let _ = user;
    Ok(1)
}

fn main() {}
