//! Each example run against the demo plugin host (its app served in this process).

use std::sync::Arc;

use tessera_demo::{AppConfig, InProcessHost};
use tessera_protocol::{Algorithm, KeySet};

/// A guard against an example that never ends (not an assertion on timing).
const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(60);

const TRANSFER: &str = "plugin:stock-tools/action:transfer";

fn host(data: &tempfile::TempDir) -> InProcessHost {
    let keys = Arc::new(KeySet::generate(Algorithm::Hs256).unwrap());
    InProcessHost::start(AppConfig::new(keys, data.path()).unwrap()).unwrap()
}

fn click(host: &InProcessHost, args: &[&str]) -> assert_cmd::assert::Assert {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_click"))
        .timeout(HANG_GUARD)
        .arg(host.url())
        .args(args)
        .assert()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_click_example_moves_stock_for_the_user_it_names() {
    let data = tempfile::tempdir().unwrap();
    let host = host(&data);
    let out = text(&click(&host, &["carol"]).success().get_output().stdout);
    assert!(out.contains("clicking [Transfer"), "{out}");
    assert!(out.contains("\"user\": \"carol\""), "{out}");
    assert!(out.contains("\"moved\": 5"), "{out}");
}

#[test]
fn the_click_example_reports_a_refused_input_with_its_code() {
    let data = tempfile::tempdir().unwrap();
    let host = host(&data);
    let refused = click(&host, &["carol", TRANSFER, r#"{"qty": 0}"#]).code(1);
    let output = refused.get_output();
    assert!(text(&output.stdout).contains("the action refused the input"));
    let err = text(&output.stderr);
    assert!(err.starts_with("error: bad_input: "), "{err}");
}

/// The `minimal` example, started on an ephemeral port; killed when dropped.
struct Minimal {
    child: std::process::Child,
    url: String,
}

impl Minimal {
    fn start() -> Minimal {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_minimal"))
            .env("BIND", "127.0.0.1:0")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_owned();
        Minimal { child, url }
    }
}

impl Drop for Minimal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_minimal_example_serves_a_button_whose_click_runs_the_action() {
    let app = Minimal::start();
    let http = reqwest::Client::new();
    let panel: serde_json::Value = http
        .get(format!("{}/panel", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let button = &panel["buttons"][0];
    let url = format!("{}{}", app.url, button["url"].as_str().unwrap());
    let click = |body: serde_json::Value| http.post(&url).json(&body).send();

    let done = click(serde_json::json!({"token": button["token"], "input": {"qty": 3}}))
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let result: serde_json::Value = done.json().await.unwrap();
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .starts_with("moved 3 × "),
        "{result}"
    );

    let refused = click(serde_json::json!({"token": "garbage"}))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "malformed");
}
