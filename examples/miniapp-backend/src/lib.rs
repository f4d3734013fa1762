//! A mini program's backend over HTTP, on `privacy-runtime`: the platform's privacy protocol as
//! JSON routes, business APIs guarded by `#[privacy_scope]`, a page emulating the mini program's
//! privacy popup, and `client/wx-privacy.js`, a `wx` for the platform's own page code.
//!
//! The routes and their shapes are in `API.md`; how to run it, in `README.md`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use miniapp_backend::{Backend, Config};
//! let config = Config::from_args(["--port", "0"])?;
//! let backend = Backend::start(&config).await?;
//! let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
//! axum::serve(listener, backend.router().into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
//! # Ok(()) }
//! ```

mod apis;
mod config;
mod demo;
mod enforcement;
mod pending;
mod privacy;
mod reply;
mod session;
mod static_files;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use privacy_runtime::{Gate, PostgresStore, SqliteStore, StoreError, WaitPolicy};

pub use config::{Config, ConfigError, USAGE};
pub use demo::DemoClock;
pub use enforcement::Enforcement;
pub use reply::ApiError;
pub use session::{Session, Sessions};

/// The mini program's app id, as its ledger names it.
pub const APP_ID: &str = "wxminiappdemo0001";

/// The largest request body taken.
pub const MAX_BODY: usize = 16 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    gate: Gate,
    sessions: Arc<Sessions>,
    enforcement: Enforcement,
    demo: Option<DemoClock>,
    board: Arc<pending::Board>,
    /// `--unguarded-twin`: `POST /api/unguarded/{api}` is served, for the load test.
    twin: bool,
}

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The consent store could not be opened or reached.
    #[error("the consent store could not be opened: {0}")]
    Store(#[from] StoreError),
    /// The operating system gave no randomness for the session key.
    #[error("no randomness for the session key: {0}; the backend cannot issue sessions")]
    Randomness(String),
}

/// A started backend: its gate and its routes.
pub struct Backend {
    app: App,
}

impl Backend {
    /// Opens the consent store (`config.database_url`'s PostgreSQL, else the SQLite ledger at
    /// `config.db`), builds the gate and the routes. Call on a tokio runtime.
    pub async fn start(config: &Config) -> Result<Backend, StartError> {
        let builder = Gate::builder(APP_ID, privacy_runtime::guidelines!())
            .wait_policy(WaitPolicy::Wait { timeout: Some(config.wait) });
        let builder = match &config.database_url {
            Some(url) => builder.store(PostgresStore::connect(url).await?),
            None => builder.store(SqliteStore::open(&config.db).await?),
        };
        let demo = config.demo.then(|| DemoClock::starting_at(demo::START));
        let builder = match &demo {
            Some(clock) => builder.clock(clock.clone()),
            None => builder,
        };
        let gate = builder.build();
        let board = Arc::new(pending::Board::default());
        {
            let board = Arc::clone(&board);
            // The page's listener is the client: the authorization stays open for it, and the
            // long-poll of `/api/privacy/pending` hands it over.
            gate.on_need_privacy_authorization(move |resolver, event| {
                let _ = resolver.defer();
                board.changed(&event.subject.to_string());
            });
        }
        let sessions = Sessions::new(config.session_key.clone(), config.session_ttl).map_err(StartError::Randomness)?;
        let app = App {
            gate,
            sessions: Arc::new(sessions),
            enforcement: config.enforcement,
            demo,
            board,
            twin: config.unguarded_twin,
        };
        Ok(Backend { app })
    }

    /// Ends the long-polls of `/api/privacy/pending` (they answer at once), so a graceful
    /// shutdown does not wait for them; call when the server starts stopping.
    pub fn stopping(&self) -> impl Fn() + Send + Sync + 'static {
        let board = Arc::clone(&self.app.board);
        move || board.close()
    }

    /// The gate: for tests and for an app that adds routes of its own.
    pub fn gate(&self) -> &Gate {
        &self.app.gate
    }

    /// The routes. Serve with `into_make_service_with_connect_info::<SocketAddr>()`: the demo
    /// routes answer loopback peers only.
    pub fn router(&self) -> Router {
        let app = self.app.clone();
        let guarded = Router::new()
            .route("/api/privacy/setting", get(privacy::setting))
            .route("/api/privacy/contract", get(privacy::contract))
            .route("/api/privacy/pending", get(privacy::pending))
            .route("/api/privacy/resolve", post(privacy::resolve))
            .route("/api/privacy/unanswered", post(privacy::unanswered))
            .route("/api/privacy/prompt", post(privacy::prompt))
            .route("/api/privacy/tap", post(privacy::tap))
            .route("/api/privacy/require", post(privacy::require))
            .route("/api/privacy/clear", post(privacy::clear))
            .route("/api/privacy/history", get(privacy::history))
            .route("/api/privacy/receipt", get(privacy::receipt))
            .route("/api/wx/{api}", post(apis::call));
        let guarded = if app.twin { guarded.route("/api/unguarded/{api}", post(apis::unguarded)) } else { guarded };
        let guarded = guarded.route_layer(axum::middleware::from_fn_with_state(app.clone(), session::require_session));
        let open = Router::new()
            .route("/", get(static_files::index))
            .route("/wx-privacy.js", get(static_files::client))
            .route("/api/login", post(session::login));
        // Outside demo mode the demo route does not exist at all (404 for every method).
        let open = if app.demo.is_some() { open.route("/demo/clock", post(demo::advance)) } else { open };
        open.merge(guarded)
            .fallback(reply::not_found)
            .method_not_allowed_fallback(reply::method_not_allowed)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(app)
    }
}
