//! Tells the tests whether a PostgreSQL server is configured (`DATABASE_URL`) and whether the
//! server's binaries are here (for the test that kills and restarts its own server). A test that
//! needs what is missing is compiled as ignored, with the reason `cargo test` prints.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_database)");
    println!("cargo::rustc-check-cfg=cfg(no_pg_server)");
    println!("cargo::rerun-if-env-changed=DATABASE_URL");
    println!("cargo::rerun-if-env-changed=PG_BIN");
    if std::env::var_os("DATABASE_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo::rustc-cfg=no_database");
        println!(
            "cargo::warning=DATABASE_URL is not set: the PostgreSQL ledger tests are compiled as ignored (bash scripts/test starts a server and runs them)"
        );
    }
    let have_server = std::env::var_os("PG_BIN")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten().map(|d| d.path().join("bin")))
        .any(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file());
    if !have_server {
        println!("cargo::rustc-cfg=no_pg_server");
        println!(
            "cargo::warning=PostgreSQL server binaries (initdb, pg_ctl) not found: the PostgreSQL crash test is compiled as ignored (apt-get install postgresql)"
        );
    }
}
