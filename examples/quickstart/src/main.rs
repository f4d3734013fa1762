//! The seed's consent flow, walked through annotated functions in a terminal.
//!
//! ```text
//! cargo run -p quickstart                          # the walkthrough, on quickstart-consent.db
//! cargo run -p quickstart -- export <openid>      # that user's ledger, as JSON lines
//! cargo run -p quickstart -- receipt <openid>     # their consent receipt (ISO/IEC TS 27560 shape)
//! cargo run -p quickstart -- --manifest[=markdown] # the privacy manifest
//! ```
//!
//! Consent is kept in an SQLite ledger, `quickstart-consent.db` in the current directory (or the
//! file `--db PATH` names); the walkthrough starts it afresh, `export` and `receipt` read it.
//!
//! A mini program declares "the location you choose" on July 11, the user agrees on July 12, and
//! WeRun steps are declared on July 13: `chooseLocation` keeps working, `getWeRunData` asks again.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use privacy_runtime::{
    Gate, Manifest, ManualClock, NeedAuthorization, PrivacyError, Resolution, Resolver, SqliteStore, Ticket, Timestamp,
    privacy_scope, with_gate,
};

/// The app's own error type: privacy refusals convert into it.
#[derive(Debug)]
enum AppError {
    Privacy(PrivacyError),
}

impl From<PrivacyError> for AppError {
    fn from(e: PrivacyError) -> Self {
        AppError::Privacy(e)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Privacy(e) => write!(f, "{}", serde_json::to_string(e).unwrap_or_else(|_| e.to_string())),
        }
    }
}

/// `wx.chooseLocation`: the location the user picks on a map.
#[privacy_scope("chosen_location", api = "chooseLocation")]
fn choose_location(#[subject] openid: &str) -> Result<&'static str, AppError> {
    let _ = openid;
    Ok("北京市海淀区 (39.98, 116.31)")
}

/// `wx.getWeRunData`: today's WeRun steps.
#[privacy_scope("werun", api = "getWeRunData")]
fn get_we_run_data(#[subject] openid: &str) -> Result<u32, AppError> {
    let _ = openid;
    Ok(8_848)
}

const USER: &str = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M";

fn step(n: u32, text: &str) {
    println!("\n{n}. {text}");
}

fn call<T: std::fmt::Debug>(name: &str, r: Result<T, AppError>) -> Option<Ticket> {
    match r {
        Ok(v) => {
            println!("   {name} -> ok {v:?}");
            None
        }
        Err(AppError::Privacy(e)) => {
            println!("   {name} -> {}", AppError::Privacy(e.clone()));
            e.ticket()
        }
    }
}

/// The walkthrough's runtime (the ledger's I/O) and its ledger.
fn open_ledger(db: &Path) -> Result<(tokio::runtime::Runtime, SqliteStore), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let store = rt.block_on(SqliteStore::open(db))?;
    Ok((rt, store))
}

fn gate_on(rt: &tokio::runtime::Runtime, store: SqliteStore, clock: ManualClock) -> Gate {
    Gate::builder("wx-quickstart", privacy_runtime::guidelines!())
        .store(store)
        .clock(clock)
        .runtime(rt.handle().clone())
        .build()
}

fn run(db: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // A fresh ledger for the walkthrough.
    for suffix in ["", "-wal", "-shm"] {
        let mut file = db.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let (rt, store) = open_ledger(db)?;
    println!("consent ledger: {} (SQLite, WAL)", db.display());
    let clock = ManualClock::new(Timestamp::utc(2023, 7, 12, 9, 0, 0));
    let gate = gate_on(&rt, store, clock.clone());

    // The app's own popup: the listener keeps the resolver until the user answers, or (once the
    // user has said no to WeRun) answers `disagree` at once.
    let open: Arc<Mutex<Option<Resolver>>> = Arc::default();
    let refuse_now = Arc::new(AtomicBool::new(false));
    let (slot, refuse) = (Arc::clone(&open), Arc::clone(&refuse_now));
    gate.on_need_privacy_authorization(move |resolver: Resolver, event: NeedAuthorization| {
        println!("   [onNeedPrivacyAuthorization] referrer = {}, popup shown", event.referrer);
        resolver.exposure();
        if refuse.load(Ordering::SeqCst) {
            println!("   the user taps 'disagree'");
            if let Err(e) = resolver.disagree_blocking() {
                eprintln!("   disagree not recorded: {e}");
            }
            return;
        }
        *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(resolver);
    });
    let take_resolver = || open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();

    println!("privacy-runtime quickstart: {} guarded APIs registered", privacy_runtime::apis().len());
    for api in privacy_runtime::apis() {
        println!("   {:<16} {:?} ({}:{})", api.api(), api.scope_ids(), api.file(), api.line());
    }
    let undeclared = privacy_runtime::undeclared_scopes(gate.guidelines(), &privacy_runtime::apis());
    println!("   startup check: {} undeclared scope(s)", undeclared.len());

    with_gate(&gate, || -> Result<(), Box<dyn std::error::Error>> {
        step(1, &format!("July 12, {}: getPrivacySetting", clock_now(&gate)));
        println!("   {}", serde_json::to_string(&gate.get_privacy_setting_blocking(USER)?)?);
        println!("   openPrivacyContract -> {:?}", gate.open_privacy_contract().location);

        step(2, "the user picks a location before agreeing");
        let ticket = call("chooseLocation", choose_location(USER));

        step(3, "the user taps <button id=\"agree-btn\" open-type=\"agreePrivacyAuthorization\">");
        let record = gate.tap_agree_button_blocking(USER, "agree-btn")?;
        let version = record.version.as_ref().and_then(|id| gate.guidelines().version_by_id(id));
        println!(
            "   consent recorded: version {} ({}), at {}, referrer {:?}",
            version.map_or(0, |v| v.number),
            record.version.map_or_else(|| "none".to_owned(), |id| id.to_string()),
            record.at,
            record.referrer
        );
        match take_resolver() {
            Some(r) => r.agree("agree-btn").map_err(|e| e.error)?,
            None => {
                if let Some(t) = ticket {
                    gate.resolve_blocking(USER, t, Resolution::Agree { button_id: "agree-btn".into() })?;
                }
            }
        }
        println!("   resolve({{event: 'agree', buttonId: 'agree-btn'}})");

        step(4, "the call proceeds");
        call("chooseLocation", choose_location(USER));

        step(5, "July 13 the guidelines add WeRun; on July 14 it is in effect");
        clock.set(Timestamp::utc(2023, 7, 14, 9, 0, 0));
        println!("   getPrivacySetting -> {}", serde_json::to_string(&gate.get_privacy_setting_blocking(USER)?)?);
        call("chooseLocation", choose_location(USER));
        refuse_now.store(true, Ordering::SeqCst);
        call("getWeRunData", get_we_run_data(USER));
        refuse_now.store(false, Ordering::SeqCst);

        step(6, "the user removes the mini program from \"recently used\": consent is cleared");
        gate.clear_blocking(USER)?;
        clock.advance(Duration::from_secs(60));
        call("chooseLocation", choose_location(USER));
        println!("   getPrivacySetting -> {}", serde_json::to_string(&gate.get_privacy_setting_blocking(USER)?)?);

        step(7, "the evidence kept for this user, in the ledger");
        for event in gate.history_blocking(USER)? {
            println!("   {}", serde_json::to_string(&event)?);
        }
        let receipt = rt.block_on(gate.consent_receipt(USER))?;
        println!("   receipt: state {:?}, {} entries", receipt.state, receipt.ledger_entries);
        println!("   again, from the file: cargo run -p quickstart -- export {USER}");
        println!("                         cargo run -p quickstart -- receipt {USER}");
        Ok(())
    })
}

/// `export` and `receipt`: read a user's ledger from the file.
fn report(what: &str, db: &Path, user: &str) -> Result<(), Box<dyn std::error::Error>> {
    if !db.exists() {
        return Err(
            format!("no ledger at {}; run the walkthrough first (cargo run -p quickstart)", db.display()).into()
        );
    }
    let (rt, store) = open_ledger(db)?;
    let gate = gate_on(&rt, store, ManualClock::new(Timestamp::utc(2023, 7, 14, 9, 1, 0)));
    match what {
        "export" => print!("{}", rt.block_on(gate.export_history(user))?),
        _ => println!("{}", serde_json::to_string_pretty(&rt.block_on(gate.consent_receipt(user))?)?),
    }
    Ok(())
}

fn clock_now(gate: &Gate) -> Timestamp {
    gate.now()
}

/// `--manifest` prints the privacy manifest as JSON, `--manifest=markdown` as Markdown; both exit
/// with 1 when code uses a scope the guidelines do not declare.
fn manifest(format: &str) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let manifest = Manifest::build(&privacy_runtime::guidelines!(), &privacy_runtime::apis());
    match format {
        "json" => println!("{}", manifest.to_json()),
        "markdown" | "md" => print!("{}", manifest.to_markdown()),
        other => return Err(format!("unknown manifest format `{other}`; use --manifest or --manifest=markdown").into()),
    }
    for id in &manifest.declared_but_unused {
        eprintln!("warning: scope `{id}` is declared but no annotated function uses it");
    }
    Ok(if manifest.has_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

const USAGE: &str = "usage: quickstart [--db PATH] [export OPENID | receipt OPENID | --manifest[=json|markdown]]";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut db = PathBuf::from("quickstart-consent.db");
    if let Some(i) = args.iter().position(|a| a == "--db") {
        if i + 1 >= args.len() {
            eprintln!("--db needs a path; {USAGE}");
            return ExitCode::from(2);
        }
        db = PathBuf::from(args.remove(i + 1));
        args.remove(i);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let [what @ ("export" | "receipt"), rest @ ..] = args.as_slice() {
        let [user] = rest else {
            eprintln!("{what} needs one openid; {USAGE}");
            return ExitCode::from(2);
        };
        return match report(what, &db, user) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{what} failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let format = match args.first().copied() {
        None => None,
        Some("--manifest") => Some("json"),
        Some(a) if a.starts_with("--manifest=") => Some(&a["--manifest=".len()..]),
        Some(other) => {
            eprintln!("unknown argument `{other}`; {USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(format) = format {
        return manifest(format).unwrap_or_else(|e| {
            eprintln!("manifest failed: {e}");
            ExitCode::FAILURE
        });
    }
    match run(&db) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}
