//! Helpers for the end-to-end tests.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tessera_tests::{Host, WorkerLabel, fresh_client};

/// A temporary folder holding the host's key file; removed when dropped.
pub(crate) struct KeyDir {
    dir: tempfile::TempDir,
}

impl KeyDir {
    pub(crate) fn new() -> KeyDir {
        KeyDir {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("keys.json")
    }

    pub(crate) fn arg(&self) -> String {
        self.path().display().to_string()
    }
}

/// Starts a host with `workers` workers, the key file of `keys`, and `extra` arguments.
pub(crate) fn start_host(workers: u16, keys: &KeyDir, extra: &[&str]) -> Host {
    let workers = workers.to_string();
    let key_arg = keys.arg();
    let mut args = vec!["--workers", &workers, "--keys", &key_arg];
    args.extend_from_slice(extra);
    Host::start(&args)
}

/// Asks `/healthz` over fresh connections until `want` distinct workers answered, at most
/// `max_requests` times; returns the workers seen.
pub(crate) async fn workers_seen(
    host: &Host,
    want: usize,
    max_requests: usize,
) -> BTreeSet<WorkerLabel> {
    let client = fresh_client();
    let mut seen = BTreeSet::new();
    for _ in 0..max_requests {
        let res = client
            .get(host.url("/healthz"))
            .send()
            .await
            .expect("healthz answers");
        assert!(res.status().is_success(), "healthz: {}", res.status());
        seen.insert(WorkerLabel::of(&res).expect("every response names its worker"));
        if seen.len() >= want {
            break;
        }
    }
    seen
}

/// The header naming the demo user.
pub(crate) const USER: &str = "x-demo-user";
/// The stock-tools plugin's panels.
pub(crate) const PANELS: &str = "/api/plugins/stock-tools/panels";
/// The naive panel.
pub(crate) const NAIVE_PANELS: &str = "/api/plugins/naive-stock/panels";
/// The action ids of the stock-tools plugin.
pub(crate) const TRANSFER: &str = "plugin:stock-tools/action:transfer";
pub(crate) const PRINT_LABEL: &str = "plugin:stock-tools/action:print-label";
pub(crate) const PROCESS_DATA: &str = "plugin:stock-tools/action:process-data";

/// A response: status, the worker that served it, and its JSON body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) worker: WorkerLabel,
    pub(crate) content_type: String,
    pub(crate) body: Value,
}

impl Answer {
    async fn from(res: reqwest::Response) -> Result<Answer, reqwest::Error> {
        let status = res.status().as_u16();
        let worker = WorkerLabel::of(&res).expect("every response names its worker");
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = res.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer {
            status,
            worker,
            content_type,
            body,
        })
    }

    /// The problem code of a refusal (asserting it is `application/problem+json`).
    pub(crate) fn code(&self) -> &str {
        assert_eq!(self.content_type, "application/problem+json", "{self:?}");
        self.body["code"].as_str().expect("a problem has a code")
    }
}

/// `GET path` as `user` (no header when `None`).
pub(crate) async fn get(
    client: &reqwest::Client,
    host: &Host,
    path: &str,
    user: Option<&str>,
) -> Answer {
    try_get(client, host, path, user)
        .await
        .expect("GET answers")
}

/// `GET path` as `user`; `Err` on a transport error.
pub(crate) async fn try_get(
    client: &reqwest::Client,
    host: &Host,
    path: &str,
    user: Option<&str>,
) -> Result<Answer, reqwest::Error> {
    let mut req = client.get(host.url(path));
    if let Some(user) = user {
        req = req.header(USER, user);
    }
    Answer::from(req.send().await?).await
}

/// `POST path` with a JSON body, as `user`.
pub(crate) async fn post_json(
    client: &reqwest::Client,
    host: &Host,
    path: &str,
    user: Option<&str>,
    body: &Value,
) -> Answer {
    try_post(client, host, path, user, body.to_string())
        .await
        .expect("POST answers")
}

/// `POST path` with a JSON body text, as `user`; `Err` on a transport error.
pub(crate) async fn try_post(
    client: &reqwest::Client,
    host: &Host,
    path: &str,
    user: Option<&str>,
    body: String,
) -> Result<Answer, reqwest::Error> {
    let mut req = client
        .post(host.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some(user) = user {
        req = req.header(USER, user);
    }
    Answer::from(req.send().await?).await
}

/// The button of `action` in a panels document.
pub(crate) fn button<'a>(panels: &'a Value, action: &str) -> &'a Value {
    panels["panels"]
        .as_array()
        .expect("a panels list")
        .iter()
        .flat_map(|p| p["buttons"].as_array().expect("a buttons list"))
        .find(|b| b["action"] == action)
        .unwrap_or_else(|| panic!("no button for {action} in {panels}"))
}

/// A button's URL and token.
pub(crate) fn url_and_token(button: &Value) -> (String, String) {
    (
        button["url"].as_str().expect("a url").to_owned(),
        button["token"].as_str().expect("a token").to_owned(),
    )
}
