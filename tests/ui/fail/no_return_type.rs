use privacy_runtime::privacy_scope;

#[privacy_scope("location")]
fn f(#[subject] user: &str) {
    let _ = user;
}

fn main() {}
