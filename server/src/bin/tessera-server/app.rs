//! The demo host's HTTP app, as served by each worker.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tessera_protocol::KeySet;

/// The response header naming the worker that served a request.
pub(crate) const WORKER_HEADER: HeaderName = HeaderName::from_static("tessera-worker");

/// Names one worker process: `wK/pidP`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WorkerLabel(Arc<str>);

impl WorkerLabel {
    pub(crate) fn new(id: u16, pid: u32) -> WorkerLabel {
        WorkerLabel(format!("w{id}/pid{pid}").into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a worker's app is built from.
pub(crate) struct AppConfig {
    pub(crate) label: WorkerLabel,
    pub(crate) keys: Arc<KeySet>,
    pub(crate) ttl: Duration,
    pub(crate) leeway: Duration,
    pub(crate) keep_alive: bool,
}

/// Builds the worker's router.
pub(crate) fn router(config: AppConfig) -> Result<Router, String> {
    let label = config.label.clone();
    let header_value = HeaderValue::from_str(label.as_str())
        .map_err(|_| "the worker label is not a header value".to_owned())?;
    let keep_alive = config.keep_alive;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .with_state(label)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let header_value = header_value.clone();
            async move {
                let mut res = next.run(req).await;
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

async fn healthz(axum::extract::State(label): axum::extract::State<WorkerLabel>) -> Response {
    Json(serde_json::json!({"status": "ok", "worker": label.as_str()})).into_response()
}
