//! The demo host's HTTP app, as served by each worker.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use tessera_protocol::KeySet;
use tessera_protocol::json_rules;
use tessera_server::replay::{DEFAULT_MEMORY_ENTRIES, FileReplayGuard, MemoryReplayGuard};
use tessera_server::{Caller, Rejection, TesseraConfig};

use crate::cli::{ISSUER, REPLAY_DIR, ReplayStore};
use crate::ledger::LedgerStore;
use crate::metrics::{self, METRICS_PATH, WorkerMetrics};
use crate::naive;
use crate::naive_store::NaiveStore;
use crate::page;
use crate::plugins;
use crate::state::{AppState, WORKER_HEADER, WorkerLabel, identity};
use crate::stock::{STOCK_ITEM, TransferInput, TransferPayload, transfer_result};

/// What one worker's app is built from: its key set and its data folder (the shared stock
/// ledger and the file replay guard's records live there), and the options of
/// `tessera-demo --help`, with the same defaults.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tessera_protocol::{Algorithm, KeySet};
///
/// let data = tempfile::tempdir()?;
/// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
/// let config = tessera_demo::AppConfig::new(keys, data.path())?.with_ttl(Duration::from_secs(60));
/// let app = tessera_demo::router(config)?;
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AppConfig {
    pub(crate) label: WorkerLabel,
    pub(crate) keys: Arc<KeySet>,
    pub(crate) ttl: Duration,
    pub(crate) leeway: Duration,
    pub(crate) keep_alive: bool,
    /// The replay guard store of single-use actions.
    pub(crate) replay: ReplayStore,
    /// The shared stock ledger (its folder is shared by every worker).
    pub(crate) ledger: LedgerStore,
    /// The host's data folder (shared by every worker): the ledger's and the file replay
    /// guard's folders are in it.
    pub(crate) data_dir: std::path::PathBuf,
    /// How many worker processes the host runs (shown on the page).
    pub(crate) workers: u16,
    /// This worker's counts, answered (summed with the other workers') at `/metrics`.
    pub(crate) metrics: Option<WorkerMetrics>,
}

impl AppConfig {
    /// The app of worker 1 (of 1) of this process, over `keys` and the data folder `data_dir`
    /// (created, mode 0700, when missing; its id made on first use, as the supervisor does),
    /// with the command line's defaults: tokens live 300 s, 30 s of leeway, keep-alive on, the
    /// file replay store in the data folder.
    ///
    /// # Errors
    /// A sentence naming the data folder, when it cannot be created or its id cannot be made
    /// or read.
    pub fn new(keys: Arc<KeySet>, data_dir: &std::path::Path) -> Result<AppConfig, String> {
        let dir = crate::ledger::DataDir::resolve(Some(data_dir), None)?;
        dir.ensure_instance()?;
        Ok(AppConfig {
            label: WorkerLabel::new(1, std::process::id()),
            keys,
            ttl: Duration::from_secs(crate::cli::DEFAULT_TTL),
            leeway: Duration::from_secs(crate::cli::DEFAULT_LEEWAY),
            keep_alive: true,
            replay: ReplayStore::File,
            ledger: LedgerStore::open(dir.path())?,
            data_dir: dir.path().to_owned(),
            workers: 1,
            metrics: None,
        })
    }

    /// How long the buttons' tokens live (`--ttl`).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> AppConfig {
        self.ttl = ttl;
        self
    }

    /// The clock leeway granted when checking a token's times (`--leeway`).
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> AppConfig {
        self.leeway = leeway;
        self
    }
}

/// The parse-only twin of the transfer action, for the HTTP benchmark.
pub(crate) const PARSE_ONLY_PATH: &str = "/bench/parse-only";

/// What a single-use button is bound to with the Redis store: `redis:` and 16 hex digits of
/// the SHA-256 of the server's address and database (the URL without its credentials).
#[cfg(feature = "redis")]
fn redis_binding(url: &str) -> String {
    let address = url.strip_prefix("redis://").unwrap_or(url);
    let address = address.rsplit_once('@').map_or(address, |(_, at)| at);
    let digest = ring::digest::digest(&ring::digest::SHA256, address.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("redis:{hex}")
}

/// Builds the router one worker serves: the page, the `stock-tools` and naive plugins, the
/// JWKS and health routes (see the README's table of requests).
///
/// # Errors
/// A sentence when the replay store cannot be opened or the worker label is not a header
/// value.
pub fn router(config: AppConfig) -> Result<Router, String> {
    let tessera = TesseraConfig::new(config.keys, ISSUER)
        .with_ttl(config.ttl)
        .with_leeway(config.leeway)
        .with_identity(identity());
    // Each worker builds its own guard: over the shared folder, its own memory, or its own
    // connection to the shared Redis server.
    let tessera = match &config.replay {
        ReplayStore::File => tessera.with_replay_guard(
            FileReplayGuard::new(config.data_dir.join(REPLAY_DIR)).map_err(|e| e.to_string())?,
        ),
        ReplayStore::Memory => {
            tessera.with_replay_guard(MemoryReplayGuard::new(DEFAULT_MEMORY_ENTRIES))
        }
        #[cfg(feature = "redis")]
        ReplayStore::Redis(url) => tessera.with_replay_guard(
            tessera_server::replay::RedisReplayGuard::new(url).map_err(|e| e.to_string())?,
        ),
    };
    let tessera = tessera.build().map_err(|e| e.to_string())?;
    let label = config.label;
    let header_value = HeaderValue::from_str(label.as_str())
        .map_err(|_| "the worker label is not a header value".to_owned())?;
    let keep_alive = config.keep_alive;
    let single_use_binding = match &config.replay {
        ReplayStore::Memory => format!(
            "{}|memory:{}",
            config.ledger.binding(),
            crate::ledger::random_hex::<16>("replay memory id")?
        ),
        ReplayStore::File => config.ledger.binding(),
        // Records in a Redis server serve every host that shares it (each with its own data
        // folder): the button is bound to that server (a digest of its address, which the
        // token's reader does not learn), not to this host's folder.
        #[cfg(feature = "redis")]
        ReplayStore::Redis(url) => redis_binding(url),
    };
    let state = AppState {
        single_use_binding,
        naive: Arc::new(NaiveStore::new(config.ttl)),
        worker: label,
        tessera,
        ledger: Arc::new(config.ledger),
        replay: config.replay,
        workers: config.workers,
        metrics: config.metrics,
    };
    let app = Router::new()
        .route("/", get(page::index))
        .route("/healthz", get(healthz))
        .route(METRICS_PATH, get(metrics::scrape))
        .route(PARSE_ONLY_PATH, post(parse_only))
        .merge(plugins::router())
        .merge(naive::router())
        .merge(tessera_server::routes())
        .fallback(not_found)
        .with_state(state);
    // The headers layer wraps the whole router (as its fallback service), not each route: a
    // route's `Allow` header is added around the route, outside a layer applied per route, and
    // the 405 problem must see it to name the allowed methods.
    let app = Router::new()
        .fallback_service(app)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let header_value = header_value.clone();
            async move {
                let mut res = next.run(req).await;
                if res.status() == StatusCode::METHOD_NOT_ALLOWED {
                    res = method_not_allowed(res);
                }
                let headers = res.headers_mut();
                headers.insert(WORKER_HEADER, header_value);
                if !keep_alive {
                    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                res
            }
        }));
    Ok(app)
}

/// The stable problem code of a request whose method the route does not serve.
pub(crate) const METHOD_NOT_ALLOWED: &str = "method_not_allowed";

/// The stable problem code of a request for a URL the host does not serve (an unknown plugin,
/// page or action).
pub(crate) const NOT_FOUND: &str = "not_found";

/// A problem+json answer of the demo host (codes outside the protocol's §6).
fn problem(status: StatusCode, code: &str, title: &str, detail: String) -> Response {
    let body = serde_json::json!({
        "type": format!("{}{code}", tessera_server::PROBLEM_TYPE_BASE),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
    });
    let mut res = (status, body.to_string()).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(tessera_server::PROBLEM_JSON),
    );
    // As the library's rejections: a problem answer is never cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// axum's empty 405 (a GET on an action URL, say) as a problem+json document with the code
/// [`METHOD_NOT_ALLOWED`], keeping its `Allow` header.
fn method_not_allowed(res: Response) -> Response {
    let allow = res.headers().get(header::ALLOW).cloned();
    let allowed = allow
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut res = problem(
        StatusCode::METHOD_NOT_ALLOWED,
        METHOD_NOT_ALLOWED,
        "Method not allowed",
        format!("this URL answers only {allowed}"),
    );
    if let Some(allow) = allow {
        res.headers_mut().insert(header::ALLOW, allow);
    }
    res
}

/// Any URL no route serves: 404 problem+json with the code [`NOT_FOUND`]. The path is not
/// repeated in the answer (it may carry anything a client put there).
async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Not found",
        "nothing is served at this URL: the plugins' panels are listed at \
         /api/plugins/stock-tools/panels and /api/plugins/naive-stock/panels"
            .to_owned(),
    )
}

async fn healthz(State(app): State<AppState>) -> Response {
    Json(serde_json::json!({"status": "ok", "worker": app.worker.as_str()})).into_response()
}

/// The body the parse-only endpoint accepts: the same as the transfer action's, the input kept
/// raw and typed under the JSON rules as the `Action` extractor does.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParseOnly<'a> {
    #[serde(borrow)]
    token: Cow<'a, str>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
}

/// **Benchmark baseline, verifies nothing.** Parses the same body as the transfer action and
/// answers the same result, built from the demo's stock item instead of a verified token, so
/// the benchmark can measure what verification adds.
async fn parse_only(
    State(app): State<AppState>,
    Caller(who): Caller,
    request: Request,
) -> Result<Json<serde_json::Value>, Rejection> {
    // The same cap as the action's, read the same way (no extra layer on this route).
    let limit = app.tessera.body_limit();
    let body = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over {
                Rejection::body_too_large(limit)
            } else {
                Rejection::malformed_body("the request body could not be read")
            }
        })?;
    let malformed = || Rejection::malformed_body("expected {\"token\": \"...\", \"input\": {...}}");
    // An object only, as the extractor reads it (serde would also take an array).
    let first = body
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(malformed());
    }
    let click: ParseOnly = serde_json::from_slice(&body).map_err(|_| malformed())?;
    if click.token.len() > app.tessera.max_token_len() {
        return Err(Rejection::body_too_large(app.tessera.max_token_len()));
    }
    let payload = TransferPayload::for_item(&STOCK_ITEM, "B2-11", app.worker.as_str());
    let input: TransferInput = match click.input.filter(|raw| raw.get() != "null") {
        Some(raw) => json_rules::from_str::<Option<TransferInput>>(raw.get())
            .map_err(|e| Rejection::bad_input(format!("input: {e}")))?
            .unwrap_or_default(),
        None => TransferInput::default(),
    };
    transfer_result(&payload, &input, who.as_ref(), app.worker.as_str()).map(Json)
}
