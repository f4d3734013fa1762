//! The seed's consent flow, walked through annotated functions in a terminal.
//!
//! ```text
//! cargo run -p quickstart
//! ```
//!
//! A mini program declares "the location you choose" on July 11, the user agrees on July 12, and
//! WeRun steps are declared on July 13: `chooseLocation` keeps working, `getWeRunData` asks again.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use privacy_runtime::{
    Gate, Manifest, ManualClock, NeedAuthorization, PrivacyError, Resolution, Resolver, Ticket, Timestamp,
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

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Timestamp::utc(2023, 7, 12, 9, 0, 0));
    let gate = Gate::builder("wx-quickstart", privacy_runtime::guidelines!()).clock(clock.clone()).build();

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

        step(7, "the evidence kept for this user");
        for event in gate.history_blocking(USER)? {
            println!("   {}", serde_json::to_string(&event)?);
        }
        Ok(())
    })
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

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let format = match arg.as_deref() {
        None => None,
        Some("--manifest") => Some("json"),
        Some(a) if a.starts_with("--manifest=") => Some(&a["--manifest=".len()..]),
        Some(other) => {
            eprintln!("unknown argument `{other}`; usage: quickstart [--manifest[=json|markdown]]");
            return ExitCode::from(2);
        }
    };
    if let Some(format) = format {
        return manifest(format).unwrap_or_else(|e| {
            eprintln!("manifest failed: {e}");
            ExitCode::FAILURE
        });
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}
