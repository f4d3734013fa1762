//! Tells the tests whether a PostgreSQL server is configured (`DATABASE_URL`): the test of two
//! instances sharing one database is compiled as ignored without it, with the reason.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_database)");
    println!("cargo::rerun-if-env-changed=DATABASE_URL");
    if std::env::var_os("DATABASE_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo::rustc-cfg=no_database");
        println!(
            "cargo::warning=DATABASE_URL is not set: the two-instance PostgreSQL test of miniapp-backend is compiled as ignored (bash scripts/test starts a server and runs it)"
        );
    }
}
