//! The command line and the environment.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::enforcement::Enforcement;

/// How the backend runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The address to listen on (`--host`, default 127.0.0.1).
    pub host: IpAddr,
    /// The port (`--port`, default 8080; 0 picks a free one).
    pub port: u16,
    /// The SQLite ledger (`--db`, default `miniapp-consent.db`), unless `database_url` is set. An
    /// explicit `--db` wins over `DATABASE_URL` from the environment.
    pub db: PathBuf,
    /// A PostgreSQL store shared by several instances (`--database-url` or `DATABASE_URL`).
    pub database_url: Option<String>,
    /// Demo mode (the default; `--production` turns it off): the clock starts on the seed's
    /// July 12 and `POST /demo/clock` moves it.
    pub demo: bool,
    /// Which clients are checked (`--enforcement strict|platform`, default strict).
    pub enforcement: Enforcement,
    /// `--unguarded-twin`: also serve `POST /api/unguarded/{api}`, the guarded handler's
    /// body without the check, for the load test. Never in production.
    pub unguarded_twin: bool,
    /// How long a guarded request waits at each stage before the official prompt takes over,
    /// then before it answers 202 with its ticket (`--wait-seconds`, default 60).
    pub wait: Duration,
    /// `--demo-login`: in production, still take the demo stand-in for `code2session` (anyone who
    /// sends a code is that code's user). Demo mode always uses it.
    pub demo_login: bool,
    /// The key sessions are signed with (`SESSION_SECRET`, at least 32 bytes; instances sharing
    /// a database share it). Random per process when unset.
    pub session_key: Option<Vec<u8>>,
    /// How long a session lasts (2 hours).
    pub session_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            db: PathBuf::from("miniapp-consent.db"),
            database_url: None,
            demo: true,
            enforcement: Enforcement::Strict,
            unguarded_twin: false,
            demo_login: false,
            wait: Duration::from_secs(60),
            session_key: None,
            session_ttl: Duration::from_secs(2 * 60 * 60),
        }
    }
}

/// A command line or environment that could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("{0}\n\n{USAGE}")]
pub struct ConfigError(String);

/// The command line's help.
pub const USAGE: &str = "\
usage: miniapp-backend [--port N] [--host ADDR] [--db PATH] [--database-url URL]
                       [--production] [--enforcement strict|platform] [--wait-seconds N]
                       [--unguarded-twin]

  --port N             port to listen on (default 8080; 0 picks a free one)
  --host ADDR          address to listen on (default 127.0.0.1)
  --db PATH            the SQLite consent ledger (default miniapp-consent.db; wins over
                       DATABASE_URL from the environment)
  --database-url URL   keep consent in PostgreSQL instead (or set DATABASE_URL); instances
                       sharing it see one consent (set the same SESSION_SECRET on each)
  --production         no demo clock and no /demo routes (demo mode is the default); needs
                       --demo-login, since the login here is a stand-in for code2session
  --demo-login         with --production: accept the demo login anyway (whoever sends a code
                       is that code's user)
  --enforcement MODE   strict (default): every client is checked; platform: as WeChat does,
                       clients below base library 2.32.3 are not intercepted, and from 2.32.3
                       only with __usePrivacyCheck__ or from 2023-10-17
  --wait-seconds N     how long a guarded request waits for the user at each stage (default 60)
  --unguarded-twin     also serve POST /api/unguarded/{api} (load tests only)

environment: DATABASE_URL, SESSION_SECRET (at least 32 bytes)";

impl Config {
    /// Reads the command line (without the program name) and the environment.
    pub fn from_args<I, S>(args: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut c =
            Config { database_url: std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()), ..Config::default() };
        if let Ok(secret) = std::env::var("SESSION_SECRET") {
            if secret.len() < 32 {
                return Err(ConfigError(format!(
                    "SESSION_SECRET is {} bytes; give at least 32 (e.g. the output of `head -c 32 /dev/urandom | base64`)",
                    secret.len()
                )));
            }
            c.session_key = Some(secret.into_bytes());
        }
        let env_database_url = c.database_url.take();
        let (mut db_given, mut url_given) = (false, false);
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline.clone().or_else(|| args.next()).ok_or_else(|| ConfigError(format!("{name} needs a value")))
            };
            match flag.as_str() {
                "--port" => {
                    let v = value("--port")?;
                    c.port = v.parse().map_err(|_| ConfigError(format!("--port {v}: not a port number (0–65535)")))?;
                }
                "--host" => {
                    let v = value("--host")?;
                    c.host = v.parse().map_err(|_| ConfigError(format!("--host {v}: not an IP address")))?;
                }
                "--db" => {
                    c.db = PathBuf::from(value("--db")?);
                    db_given = true;
                }
                "--database-url" => {
                    c.database_url = Some(value("--database-url")?);
                    url_given = true;
                }
                "--demo-login" => c.demo_login = true,
                "--production" => c.demo = false,
                "--unguarded-twin" => c.unguarded_twin = true,
                "--enforcement" => {
                    let v = value("--enforcement")?;
                    c.enforcement = match v.as_str() {
                        "strict" => Enforcement::Strict,
                        "platform" => Enforcement::Platform,
                        _ => return Err(ConfigError(format!("--enforcement {v}: use strict or platform"))),
                    };
                }
                "--wait-seconds" => {
                    let v = value("--wait-seconds")?;
                    let secs: u64 = v
                        .parse()
                        .ok()
                        .filter(|s| (1..=3600).contains(s))
                        .ok_or_else(|| ConfigError(format!("--wait-seconds {v}: give 1 to 3600")))?;
                    c.wait = Duration::from_secs(secs);
                }
                "-h" | "--help" => return Err(ConfigError("help".into())),
                other => return Err(ConfigError(format!("unknown argument `{other}`"))),
            }
        }
        if db_given && url_given {
            return Err(ConfigError("give --db (SQLite) or --database-url (PostgreSQL), not both".into()));
        }
        if !db_given && !url_given {
            c.database_url = env_database_url;
        }
        if !c.demo && c.enforcement == Enforcement::Platform {
            return Err(ConfigError(
                "--enforcement platform lets a client switch the check off by the version it reports; it is for testing a mini program, and is refused with --production".into(),
            ));
        }
        if !c.demo && !c.demo_login {
            return Err(ConfigError(
                "--production needs a login that asks the platform who the user is (code2session), and this example has only its demo stand-in, where whoever sends a code is that code's user; pass --demo-login to run it anyway".into(),
            ));
        }
        if c.unguarded_twin && !c.demo {
            return Err(ConfigError(
                "--unguarded-twin serves personal data unchecked; it is refused with --production".into(),
            ));
        }
        Ok(c)
    }

    /// Whether the command line asked for the help text.
    pub fn is_help(e: &ConfigError) -> bool {
        e.0 == "help"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: &[&str]) -> String {
        match Config::from_args(args.iter().copied()) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn unsafe_combinations_are_refused() {
        assert!(refused(&["--production"]).contains("--demo-login"));
        assert!(
            refused(&["--production", "--demo-login", "--enforcement", "platform"])
                .contains("refused with --production")
        );
        assert!(refused(&["--production", "--demo-login", "--unguarded-twin"]).contains("refused with --production"));
        assert!(refused(&["--db", "a.db", "--database-url", "postgres://x"]).contains("not both"));
        assert!(refused(&["--port", "70000"]).contains("--port 70000"));
        assert!(refused(&["--wait-seconds", "0"]).contains("1 to 3600"));
        assert!(refused(&["--frobnicate"]).contains("unknown argument"));
        let c = Config::from_args(["--production", "--demo-login", "--db", "x.db"]).unwrap();
        assert!(!c.demo && c.demo_login && c.database_url.is_none());
        let c = Config::from_args(["--enforcement=platform", "--port=0"]).unwrap();
        assert_eq!((c.enforcement, c.port), (Enforcement::Platform, 0));
    }
}
