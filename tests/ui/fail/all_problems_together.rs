use privacy_runtime::privacy_scope;

// Every problem of one attribute is reported in one build.
#[privacy_scope("locaton", "werun", "werun", level = "high")]
const fn f(#[subject] a: &str, #[subject] b: &str) {
    let _ = (a, b);
}

fn main() {}
