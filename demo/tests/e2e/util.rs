//! Helpers for the end-to-end tests.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::host::{Host, WorkerLabel, fresh_client};
use serde_json::Value;

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

    /// The id the host made for its data folder (beside the key file, by default), which its
    /// state-bound buttons carry in their fingerprints (`ledger:ID`, `ledger:ID:PART:vN`).
    pub(crate) fn data_folder_id(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("demo-instance"))
            .expect("the host made its data folder id");
        let id = text.trim_end().to_owned();
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "a data folder id is 32 hex digits: {id:?}"
        );
        id
    }

    /// The current shared stock ledger, which the host keeps beside its key file (its default
    /// data folder) as one file per version, `stock-ledger/vN.json`: the highest N; `None`
    /// before the first change.
    pub(crate) fn ledger(&self) -> Option<Value> {
        let dir = self.dir.path().join(LEDGER_DIR);
        let latest = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| {
                let name = e.expect("a readable folder").file_name();
                name.to_str()?
                    .strip_prefix('v')?
                    .strip_suffix(".json")?
                    .parse::<u64>()
                    .ok()
            })
            .max()?;
        let text = std::fs::read(dir.join(format!("v{latest}.json"))).expect("the latest version");
        let ledger: Value = serde_json::from_slice(&text).expect("a version is JSON");
        assert_eq!(
            ledger["version"], latest,
            "a version file holds its version"
        );
        Some(ledger)
    }
}

/// The shared stock ledger's folder in the host's data folder.
pub(crate) const LEDGER_DIR: &str = "stock-ledger";
/// The ledger's part, locations and initial stock (what a missing ledger file means).
pub(crate) const LEDGER_PART: u64 = 4321;
pub(crate) const SHELF: &str = "A1-07";
pub(crate) const BIN: &str = "B2-11";
pub(crate) const INITIAL_SHELF: u64 = 200;
pub(crate) const INITIAL_BIN: u64 = 40;

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
/// The benchmark's parse-only twin of the transfer action.
pub(crate) const PARSE_ONLY: &str = "/bench/parse-only";
/// The naive panel.
pub(crate) const NAIVE_PANELS: &str = "/api/plugins/naive-stock/panels";
/// The action ids of the stock-tools plugin.
pub(crate) const TRANSFER: &str = "plugin:stock-tools/action:transfer";
pub(crate) const PRINT_LABEL: &str = "plugin:stock-tools/action:print-label";
pub(crate) const PROCESS_DATA: &str = "plugin:stock-tools/action:process-data";
/// The single-use action of the shared-stock panel.
pub(crate) const CONFIRM_TRANSFER: &str = "plugin:stock-tools/action:confirm-transfer";
/// The stale-checked action of the shared-stock panel (bound to the ledger version).
pub(crate) const RETURN_ALL: &str = "plugin:stock-tools/action:return-all";

/// A response: status, the worker that served it, and its JSON body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) worker: WorkerLabel,
    pub(crate) content_type: String,
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) async fn from(res: reqwest::Response) -> Result<Answer, reqwest::Error> {
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

/// Posts an oversized `body` and returns the host's answer. The host answers before reading
/// the rest of such a body and closes the connection; a client still sending can then get a
/// reset that discards the answer (hyper closes without lingering). That race is in the
/// delivery, not in the answer, so a few attempts are made; a host that never answers fails.
pub(crate) async fn post_oversized(
    client: &reqwest::Client,
    host: &Host,
    path: &str,
    user: Option<&str>,
    body: &str,
) -> Answer {
    let mut last_error = String::new();
    for _ in 0..5 {
        match try_post(client, host, path, user, body.to_owned()).await {
            Ok(answer) => return answer,
            Err(e) => last_error = e.to_string(),
        }
    }
    panic!("no answer to a {}-byte body: {last_error}", body.len())
}

/// Posts the same JSON `body` to `path` as `user` from `n` tasks at once, each over its own
/// fresh connection (all released together by a barrier); returns every answer.
pub(crate) async fn post_concurrently(
    host: &Host,
    path: &str,
    user: Option<&str>,
    body: &Value,
    n: usize,
) -> Vec<Answer> {
    let url = host.url(path);
    let body = body.to_string();
    let user = user.map(str::to_owned);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (url, body, user, barrier) = (url.clone(), body.clone(), user.clone(), barrier.clone());
        tasks.spawn(async move {
            let client = fresh_client();
            let mut req = client
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            if let Some(user) = user {
                req = req.header(USER, user);
            }
            barrier.wait().await;
            Answer::from(req.send().await.expect("POST answers"))
                .await
                .expect("a readable answer")
        });
    }
    let mut answers = Vec::with_capacity(n);
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.expect("the request task does not panic"));
    }
    answers
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

/// Runs the host binary with `args` (and a clean environment) to its exit, killing it after 20
/// seconds; returns its exit code and stderr.
pub(crate) fn run_to_exit<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    args: &[S],
) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(crate::host::server_binary());
    for var in crate::host::HOST_ENV {
        command.env_remove(var);
    }
    let mut child = command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the host kept running with {args:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    use std::io::Read as _;
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("stderr");
    (status.code(), stderr)
}
