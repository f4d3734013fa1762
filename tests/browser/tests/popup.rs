//! examples/miniapp-backend's popup page (`GET /`, static/index.html, on client/wx-privacy.js) in
//! headless Chromium, driven through Debian's chromedriver; the backend runs in this process with a
//! fresh SQLite ledger.
//!
//! - a user calls getLocation: the page's popup opens (referrer getLocation), 同意 → getLocation:ok;
//! - another user calls getLocation: 拒绝 → errno 104, `getLocation:fail privacy permission is not
//!   authorized`;
//! - the first user again: getWeRunData is not declared yet (errno 112); a day later (POST
//!   /demo/clock) the guidelines declare it, and the popup opens again with referrer getWeRunData.
//!
//! A screenshot of the open popup goes to `examples/miniapp-backend/docs/popup.png` with
//! `UPDATE_SCREENSHOT=1` (the README's), else to `target/tmp/popup.png`.
//!
//! Needs chromium, chromedriver and a CJK font (fonts-wqy-microhei): `bash scripts/setup-test-deps`
//! installs them. Without them the test fails, saying so.

use std::error::Error;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use miniapp_backend::{Backend, Config};
use serde_json::{Value, json};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// How long any one thing the page should show may take to show.
const STEP: Duration = Duration::from_secs(20);

const SETUP: &str = "run `bash scripts/setup-test-deps` (as root on Debian it installs chromium, chromium-driver and \
                     fonts-wqy-microhei; otherwise it says what to install)";

/// A program on `PATH`, or `None`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Whether fontconfig knows a CJK font (else Chinese text renders as boxes).
fn has_cjk_font() -> bool {
    Command::new("fc-list")
        .arg(":lang=zh")
        .output()
        .is_ok_and(|out| out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

/// A free port on 127.0.0.1, for chromedriver.
fn free_port() -> Result<u16> {
    Ok(StdListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Kills chromedriver (and so its browser) however the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        let dir = std::env::temp_dir().join(format!("miniapp-browser-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The backend on 127.0.0.1:<free port>, in this process; its base URL.
async fn start_backend(dir: &Path) -> Result<String> {
    let db = dir.join("ledger.db");
    let db = db.to_str().ok_or("temporary directory is not UTF-8")?;
    let mut config = Config::from_args(["--port", "0", "--db", db])?;
    // scripts/test exports DATABASE_URL (its throwaway PostgreSQL): this test's ledger is SQLite.
    config.database_url = None;
    let backend = Backend::start(&config).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = backend.router().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("miniapp-backend stopped: {e}");
        }
    });
    Ok(format!("http://{addr}"))
}

/// chromedriver on a free port, and a headless Chromium session through it.
async fn start_browser(dir: &Path, chromium: &Path, chromedriver: &Path) -> Result<(Driver, Client)> {
    let port = free_port()?;
    let log = dir.join("chromedriver.log");
    let mut driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}; {SETUP}", chromedriver.display()))?,
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=375,740", "--lang=zh-CN",
            ],
            // A phone's viewport: a desktop window, even headless, is at least 500 px wide.
            "mobileEmulation": { "deviceMetrics": { "width": 375, "height": 740, "pixelRatio": 2.0 } },
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + STEP;
    loop {
        match ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return Ok((driver, client)),
            Err(e) => {
                let exited = driver.0.try_wait()?;
                if exited.is_some() || Instant::now() > deadline {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    let tail: String =
                        log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
                    return Err(format!(
                        "no browser session from {} on port {port} ({}): {e}\nchromedriver log (tail):\n{tail}",
                        chromedriver.display(),
                        exited.map_or("still running".to_owned(), |s| format!("exited: {s}")),
                    )
                    .into());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The page, as a user of the mini program sees it.
struct Page<'a> {
    c: &'a Client,
    base: &'a str,
}

impl Page<'_> {
    /// Opens the page as the user of login code `code`, once it has logged in.
    async fn open(&self, code: &str) -> Result<()> {
        self.c.goto(&format!("{}/?code={code}", self.base)).await?;
        self.wait_for("#status", "openid").await?;
        Ok(())
    }

    async fn click(&self, css: &str) -> Result<()> {
        self.c.find(Locator::Css(css)).await?.click().await?;
        Ok(())
    }

    /// `css`'s textContent, and whether it is displayed.
    async fn read(&self, css: &str) -> Result<(String, bool)> {
        let e = self.c.find(Locator::Css(css)).await?;
        let text = e.prop("textContent").await?.unwrap_or_default();
        Ok((text, e.is_displayed().await?))
    }

    /// Waits until `css` is displayed and its text contains `needle`; its text.
    async fn wait_for(&self, css: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + STEP;
        loop {
            let (text, shown) = self.read(css).await?;
            if shown && text.contains(needle) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                let log = self.read("#log").await.map(|(t, _)| t).unwrap_or_default();
                return Err(format!(
                    "after {STEP:?}, {css} ({}) reads {text:?}, not containing {needle:?}\npage log: {log}",
                    if shown { "displayed" } else { "hidden" }
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `css` is hidden.
    async fn wait_hidden(&self, css: &str) -> Result<()> {
        let deadline = Instant::now() + STEP;
        while self.read(css).await?.1 {
            if Instant::now() > deadline {
                return Err(format!("after {STEP:?}, {css} is still displayed").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// The log's entries, one per line.
    async fn log(&self) -> Result<Vec<String>> {
        let v = self
            .c
            .execute("return Array.from(document.querySelectorAll('#log li'), li => li.textContent)", vec![])
            .await?;
        Ok(match v {
            Value::Array(items) => items.into_iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        })
    }

    /// Waits until a log entry contains every one of `needles`; that entry.
    async fn wait_log(&self, needles: &[&str]) -> Result<String> {
        let deadline = Instant::now() + STEP;
        loop {
            let log = self.log().await?;
            if let Some(hit) = log.iter().find(|l| needles.iter().all(|n| l.contains(n))) {
                return Ok(hit.clone());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "after {STEP:?}, no log entry contains all of {needles:?}; the log:\n{}",
                    log.join("\n")
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An assertion that fails the scenario without a panic, so the browser is still closed.
fn ensure(ok: bool, what: String) -> Result<()> {
    if ok { Ok(()) } else { Err(what.into()) }
}

fn fresh_code(who: &str) -> Result<String> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    Ok(format!("browser_{who}_{nanos}"))
}

fn screenshot_path() -> PathBuf {
    if std::env::var("UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/miniapp-backend/docs/popup.png")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("popup.png")
    }
}

async fn scenario(page: &Page<'_>) -> Result<()> {
    // A user calls getLocation: the page's popup opens; 同意.
    let alice = fresh_code("alice")?;
    page.open(&alice).await?;
    page.wait_for("#status", "需要授权").await?;
    page.click("#call-getLocation").await?;
    page.wait_for("#popup-referrer", "getLocation").await?;
    let title = page.wait_for("#popup-title", "《").await?;
    ensure(title == "《示例小程序隐私保护指引》", format!("the popup's title is {title:?}, not privacyContractName"))?;
    page.wait_for("#popup-body", "在你使用【示例小程序】服务之前").await?;
    page.wait_log(&["onNeedPrivacyAuthorization", "getLocation"]).await?;

    let shot = screenshot_path();
    if let Some(dir) = shot.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&shot, page.c.screenshot().await?)?;
    eprintln!("screenshot of the popup: {}", shot.display());

    // 查看隐私协议: the contract's name and address.
    page.click("#contract-btn").await?;
    page.wait_for("#contract-box", "https://example.com/miniapp/privacy").await?;

    page.click("#agree-btn").await?;
    page.wait_hidden("#popup-mask").await?;
    page.wait_log(&["tapButton → events", "agreeprivacyauthorization", "agree-btn"]).await?;
    page.wait_log(&["getLocation → getLocation:ok"]).await?;
    page.wait_for("#status", "已授权").await?;

    // Another user: 拒绝.
    let bob = fresh_code("bob")?;
    page.open(&bob).await?;
    page.click("#call-getLocation").await?;
    page.wait_for("#popup-referrer", "getLocation").await?;
    page.click("#disagree-btn").await?;
    page.wait_hidden("#popup-mask").await?;
    page.wait_log(&["getLocation → getLocation:fail privacy permission is not authorized", "(errno 104)"]).await?;
    let log = page.log().await?;
    ensure(!log.iter().any(|l| l.contains("getLocation:ok")), format!("a location after 拒绝: {log:?}"))?;

    // The first user again, consented: WeRun is not declared yet (errno 112) …
    page.open(&alice).await?;
    page.wait_for("#status", "已授权").await?;
    page.click("#call-getWeRunData").await?;
    page.wait_log(&["getWeRunData → getWeRunData:fail", "(errno 112)"]).await?;
    // … a day later the new guidelines declare it: the popup again, for getWeRunData.
    page.click("#clock-btn").await?;
    page.wait_log(&["demo clock → clock:ok"]).await?;
    page.wait_for("#status", "需要授权").await?;
    page.click("#call-getWeRunData").await?;
    page.wait_for("#popup-referrer", "getWeRunData").await?;
    page.click("#agree-btn").await?;
    page.wait_log(&["getWeRunData → getWeRunData:ok"]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn popup_page_in_headless_chromium() -> Result<()> {
    let chromium = on_path("chromium").ok_or_else(|| format!("chromium is not installed: {SETUP}"))?;
    let chromedriver = on_path("chromedriver").ok_or_else(|| format!("chromedriver is not installed: {SETUP}"))?;
    if !has_cjk_font() {
        return Err(format!("no CJK font (the popup's Chinese would render as boxes): {SETUP}").into());
    }
    let dir = TempDir::new()?;
    let base = start_backend(&dir.0).await?;
    let (driver, client) = start_browser(&dir.0, &chromium, &chromedriver).await?;
    let outcome = scenario(&Page { c: &client, base: &base }).await;
    // The session first (Chromium quits), then chromedriver; the guard kills it on a panic too.
    let closed = client.close().await;
    drop(driver);
    outcome?;
    closed?;
    Ok(())
}
