//! The demo page in a real browser: headless Chromium, driven through chromedriver with the
//! W3C WebDriver protocol (plain JSON over HTTP, spoken here with reqwest).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium
//! chromium-driver`); runs only with `--features browser`. `CHROMEDRIVER` and `CHROMIUM` name
//! other binaries.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::host::{Host, signal_group};
use serde_json::{Value, json};

use crate::util::{KeyDir, start_host};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long chromedriver may take to answer `/status`, and a click to show its result.
const DRIVER_START: Duration = Duration::from_secs(30);
const CLICK_RESULT: Duration = Duration::from_secs(20);
/// The most naive clicks tried before giving up on seeing one land on another worker.
const MAX_NAIVE_CLICKS: usize = 60;

/// chromedriver in its own process group, so that it and every browser process it started
/// are killed together when the test ends, however it ends.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
    profile_path: String,
}

impl Driver {
    async fn start() -> Driver {
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        // A free loopback port for chromedriver (it cannot be told to pick one and report it).
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} (apt-get install -y chromium chromium-driver): {e}")
            });
        let profile = tempfile::tempdir().expect("a profile dir");
        let profile_path = profile.path().display().to_string();
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("a client"),
            _profile: profile,
            profile_path,
        };
        let deadline = Instant::now() + DRIVER_START;
        loop {
            let ready = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
                .ok();
            if let Some(res) = ready
                && let Ok(status) = res.json::<Value>().await
                && status["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }

    async fn session(&self) -> Session<'_> {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .chain([format!("--user-data-dir={}", self.profile_path)])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let res = self
            .http
            .post(format!("{}/session", self.base))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver answers");
        let body: Value = res.json().await.expect("a JSON answer");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {body}"))
            .to_owned();
        Session { driver: self, id }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (process_group(0)).
        signal_group(self.child.id(), "KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl Session<'_> {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A WebDriver command; `Err` when chromedriver refuses it (e.g. a script run while the
    /// page it would run in is being replaced).
    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.driver.base, self.id);
        let mut req = self.driver.http.request(method, &url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("chromedriver answers");
        let status = res.status();
        let body: Value = res.json().await.expect("a JSON answer");
        if status.is_success() {
            Ok(body["value"].clone())
        } else {
            Err(format!("WebDriver {path}: {status} {body}"))
        }
    }

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn click(&self, element: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn text(&self, element: &str) -> String {
        let text = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    async fn script(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Clicks `button` and waits until the page's click log has a new row; returns that row
    /// as `{ok, code, rendered, handled}`.
    async fn click_and_wait(&self, button: &str) -> Value {
        let before = self.log_rows().await;
        self.click(button).await;
        let deadline = Instant::now() + CLICK_RESULT;
        while self.log_rows().await <= before {
            assert!(Instant::now() < deadline, "the click showed no result");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.script(
            "var r = document.querySelector('#click-log tr');\
             return {ok: r.getAttribute('data-ok') === 'true', code: r.getAttribute('data-code'),\
                     rendered: r.children[4].textContent, handled: r.children[5].textContent};",
        )
        .await
    }

    async fn log_rows(&self) -> u64 {
        self.script("return document.querySelectorAll('#click-log tr').length;")
            .await
            .as_u64()
            .unwrap_or(0)
    }

    async fn quit(self) {
        self.command(reqwest::Method::DELETE, "", None).await;
    }
}

#[tokio::test]
async fn the_page_shows_tessera_clicks_succeeding_and_the_naive_panel_failing() {
    let keys = KeyDir::new();
    let host: Host = start_host(4, &keys, &[]);
    let driver = Driver::start().await;
    let browser = driver.session().await;
    browser.goto(&host.url("/")).await;

    let rendered_by = browser
        .script("return document.body.getAttribute('data-tessera-rendered-by');")
        .await;
    let rendered_by = rendered_by
        .as_str()
        .expect("the page names its worker")
        .to_owned();
    assert!(rendered_by.starts_with('w'), "{rendered_by}");
    let user = browser.text(&browser.find("#user").await).await;
    assert_eq!(user, "guest", "no header, no cookie: guest");

    // A tessera click: the result appears in the panel, with both workers named.
    let transfer = browser
        .find("#tessera-panels button[data-tessera-action='plugin:stock-tools/action:transfer']")
        .await;
    let row = browser.click_and_wait(&transfer).await;
    assert_eq!(row["ok"], true, "{row}");
    assert_eq!(row["rendered"], rendered_by.as_str());
    let output = browser
        .find("section[data-tessera-panel='stock-item'] output.tessera-result")
        .await;
    let shown = browser.text(&output).await;
    assert!(shown.contains("moved 25"), "{shown}");
    assert!(
        shown.contains(&format!("rendered by {rendered_by}")),
        "{shown}"
    );
    assert!(shown.contains("handled by w"), "{shown}");

    // The other two actions work from the same page.
    for action in ["print-label", "process-data"] {
        let button = browser
            .find(&format!(
                "#tessera-panels button[data-tessera-action='plugin:stock-tools/action:{action}']"
            ))
            .await;
        let row = browser.click_and_wait(&button).await;
        assert_eq!(row["ok"], true, "{action}: {row}");
    }

    // The naive button: clicked until one click lands on a worker that did not render the
    // page, which fails with render_state_missing. Tessera clicks in between keep working.
    let naive = browser.find("#naive-panels button.tessera-button").await;
    let mut failure = None;
    for _ in 0..MAX_NAIVE_CLICKS {
        let row = browser.click_and_wait(&naive).await;
        if row["ok"] == true {
            assert_eq!(
                row["handled"],
                rendered_by.as_str(),
                "naive only works at home: {row}"
            );
        } else {
            assert_eq!(row["code"], "render_state_missing", "{row}");
            assert_ne!(row["handled"], rendered_by.as_str(), "{row}");
            failure = Some(row);
            break;
        }
        let row = browser.click_and_wait(&transfer).await;
        assert_eq!(row["ok"], true, "{row}");
    }
    let failure = failure.expect("the naive panel never failed: no click crossed workers");
    let naive_output = browser
        .text(&browser.find("#naive-panels output.tessera-result").await)
        .await;
    assert!(
        naive_output.contains("render_state_missing"),
        "{naive_output}"
    );
    assert!(
        naive_output.contains(&format!("rendered by {rendered_by}")),
        "{naive_output}"
    );

    // The identity switcher sets the demo cookie: the page is then rendered for that user,
    // and its tokens work for them.
    let field = browser.find("#who input[name='user']").await;
    browser
        .command(
            reqwest::Method::POST,
            &format!("/element/{field}/clear"),
            Some(json!({})),
        )
        .await;
    browser
        .command(
            reqwest::Method::POST,
            &format!("/element/{field}/value"),
            Some(json!({"text": "carol"})),
        )
        .await;
    browser.click(&browser.find("#who button").await).await;
    // The form's script sets the cookie and reloads the page after the click returns: a
    // script sent meanwhile may meet the old page being torn down, which chromedriver refuses
    // ("execution context was destroyed"); that is not a failure, ask again.
    let deadline = Instant::now() + CLICK_RESULT;
    loop {
        let last = browser
            .try_command(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({
                    "script": "var u = document.getElementById('user'); return u ? u.textContent : '';",
                    "args": [],
                })),
            )
            .await;
        if last.as_ref().is_ok_and(|user| user == "carol") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the page did not switch to carol: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let transfer = browser
        .find("#tessera-panels button[data-tessera-action='plugin:stock-tools/action:transfer']")
        .await;
    let row = browser.click_and_wait(&transfer).await;
    assert_eq!(row["ok"], true, "{row}");

    eprintln!("page rendered by {rendered_by}; naive failure: {failure}");
    browser.quit().await;
}

/// The stateful panel on the page, with one worker and the default (file) replay store: a single-use button works once and then shows `replayed`; the return-all button,
/// rendered before that transfer, shows `stale`; after a reload it works.
#[tokio::test]
async fn the_page_shows_a_single_use_click_replayed_and_a_stale_click_refused() {
    let keys = KeyDir::new();
    let host: Host = start_host(1, &keys, &[]);
    let driver = Driver::start().await;
    let browser = driver.session().await;
    browser.goto(&host.url("/")).await;
    let store = browser.text(&browser.find("#replay-store").await).await;
    assert!(store.contains("file"), "{store}");

    let confirm =
        "#shared-stock button[data-tessera-action='plugin:stock-tools/action:confirm-transfer']";
    let back = "#shared-stock button[data-tessera-action='plugin:stock-tools/action:return-all']";
    let output = "#shared-stock output.tessera-result";

    let button = browser.find(confirm).await;
    let row = browser.click_and_wait(&button).await;
    assert_eq!(row["ok"], true, "{row}");
    let shown = browser.text(&browser.find(output).await).await;
    assert!(shown.contains("moved 5"), "{shown}");
    assert!(shown.contains("used up"), "{shown}");

    // The same button again: refused, and the page says why.
    let row = browser.click_and_wait(&button).await;
    assert_eq!(row["ok"], false, "{row}");
    assert_eq!(row["code"], "replayed", "{row}");
    let shown = browser.text(&browser.find(output).await).await;
    assert!(shown.contains("409 replayed"), "{shown}");

    // Return-all was rendered before the transfer: stale.
    let row = browser.click_and_wait(&browser.find(back).await).await;
    assert_eq!(row["code"], "stale", "{row}");
    let shown = browser.text(&browser.find(output).await).await;
    assert!(shown.contains("409 stale"), "{shown}");

    // A reload renders fresh buttons from the current ledger: return-all now works.
    browser.goto(&host.url("/")).await;
    let title = browser
        .text(
            &browser
                .find("section[data-tessera-panel='shared-stock'] h2")
                .await,
        )
        .await;
    assert!(title.contains("ledger v2"), "{title}");
    let row = browser.click_and_wait(&browser.find(back).await).await;
    assert_eq!(row["ok"], true, "{row}");
    let shown = browser.text(&browser.find(output).await).await;
    assert!(shown.contains("returned all 45"), "{shown}");
    browser.quit().await;
}
