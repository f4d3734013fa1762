//! `miniapp-backend`: serves the example mini program's backend until Ctrl-C.
//!
//! ```text
//! cargo run -p miniapp-backend                      # demo mode, SQLite ledger miniapp-consent.db
//! cargo run -p miniapp-backend -- --help            # every option
//! DATABASE_URL=postgres://… cargo run -p miniapp-backend   # consent in PostgreSQL
//! ```

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use miniapp_backend::{Backend, Config};

/// How long requests in flight may take after Ctrl-C.
const GRACE: std::time::Duration = std::time::Duration::from_secs(5);

fn say(line: &str) {
    // The URL line is what scripts wait for; a closed stdout is not an error worth stopping for.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn shutdown_signal() {
    // Without a Ctrl-C handler the process still stops on SIGINT, just not gracefully.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let backend = Backend::start(&config).await?;
    let listener = tokio::net::TcpListener::bind((config.host, config.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}; pick another --port", config.host, config.port))?;
    let addr = listener.local_addr()?;
    say(&format!("listening on http://{addr}"));
    let store = match &config.database_url {
        Some(_) => "PostgreSQL (DATABASE_URL)".to_owned(),
        None => format!("SQLite ledger {}", config.db.display()),
    };
    let mode =
        if config.demo { "demo (clock at 2023-07-12T00:00:00Z; POST /demo/clock moves it)" } else { "production" };
    say(&format!("  consent store: {store}; mode: {mode}; enforcement: {:?}", config.enforcement));
    say(&format!("  open http://{addr}/ for the privacy popup page; Ctrl-C stops"));
    let (stopping, mut stop) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, backend.router().into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown({
            let end_long_polls = backend.stopping();
            async move {
                shutdown_signal().await;
                end_long_polls();
                let _ = stopping.send(true);
            }
        });
    // Requests in flight get a few seconds to finish; a call still waiting for a user then ends
    // with the process (nothing it waited for was recorded, and the user is asked again).
    let grace = async {
        let _ = stop.wait_for(|s| *s).await;
        say("stopping: waiting up to 5 s for requests in flight");
        tokio::time::sleep(GRACE).await;
    };
    tokio::select! {
        served = server => served?,
        () = grace => say("requests still waiting for a user were dropped"),
    }
    say("stopped");
    Ok(())
}

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) if Config::is_help(&e) => {
            say(miniapp_backend::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("miniapp-backend: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("miniapp-backend: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("miniapp-backend: {e}");
            ExitCode::FAILURE
        }
    }
}
