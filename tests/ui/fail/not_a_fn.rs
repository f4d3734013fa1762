use privacy_runtime::privacy_scope;

#[privacy_scope("location")]
struct Location {
    lat: f64,
}

fn main() {}
