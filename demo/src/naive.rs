//! The NAIVE version of the transfer panel: the bug this project exists to fix.
//!
//! At render time it keeps the transfer's data in the rendering worker's process memory,
//! keyed by a render id, and puts only that id in the button. At click time it looks the id
//! up in the memory of whichever worker received the click. On the worker that rendered the
//! panel this works; on any other worker the data is not there and the click fails with
//! `410 Gone` and the code `render_state_missing`. The tessera panels carry the data in a
//! signed token instead, and succeed on every worker.

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_server::render::NoStore;
use tessera_server::{
    ActionId, Button, Caller, Field, PROBLEM_JSON, PROBLEM_TYPE_BASE, Panel, Principal, Rejection,
};

use crate::state::AppState;
use crate::stock::{STOCK_ITEM, TransferInput, TransferPayload, transfer_result};

/// The naive plugin's name.
pub(crate) const NAIVE_PLUGIN: &str = "naive-stock";
/// Where the naive panel is rendered as JSON.
pub(crate) const NAIVE_PANELS_PATH: &str = "/api/plugins/naive-stock/panels";
/// The naive transfer action.
pub(crate) const NAIVE_TRANSFER_PATH: &str = "/api/plugins/naive-stock/actions/transfer";
/// The code of a click whose render state is not in this worker's memory.
pub(crate) const RENDER_STATE_MISSING: &str = "render_state_missing";

/// The largest naive click body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// The naive panel's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(NAIVE_PANELS_PATH, get(panels_json))
        .route(NAIVE_TRANSFER_PATH, post(transfer))
}

/// Renders the naive transfer panel for `who`: the data goes into this worker's memory and
/// the button carries only the render id (in the place where tessera puts a token, so the
/// same click script drives both).
pub(crate) fn panel(app: &AppState, who: Option<&Principal>) -> Panel {
    let payload = TransferPayload::for_item(&STOCK_ITEM, "B2-11", app.worker.as_str());
    let to = payload.to.clone();
    let id = app
        .naive
        .remember(app.worker.as_str(), who.cloned(), payload);
    let expires_at = app.tessera.now() + app.naive.ttl.as_secs();
    Panel::new(
        "naive-transfer",
        format!(
            "NAIVE (the bug): transfer #{} · data kept in worker memory",
            STOCK_ITEM.part_id
        ),
    )
    .with_field(Field::number("qty", "Quantity to move").with_value("25"))
    .with_button(Button {
        label: format!("Naive transfer to {to}"),
        action: ActionId::from_static("plugin:naive-stock/action:transfer"),
        url: NAIVE_TRANSFER_PATH.to_owned(),
        method: "POST".to_owned(),
        token: id,
        expires_at,
    })
}

async fn panels_json(State(app): State<AppState>, Caller(who): Caller) -> NoStore<Json<Value>> {
    let panel = panel(&app, who.as_ref());
    NoStore(Json(json!({
        "plugin": NAIVE_PLUGIN,
        "naive": true,
        "user": who,
        "rendered_by": app.worker.as_str(),
        "panels": [panel],
    })))
}

/// The naive click body: the render id (sent as `token` by the click script) and the input.
#[derive(Deserialize)]
struct NaiveClick {
    token: String,
    #[serde(default)]
    input: Option<TransferInput>,
}

async fn transfer(State(app): State<AppState>, Caller(who): Caller, request: Request) -> Response {
    // Read under the cap, as the actions do (never buffered whole first): more is a 413
    // problem+json `too_large`.
    let body = match axum::body::to_bytes(request.into_body(), BODY_LIMIT).await {
        Ok(body) => body,
        Err(e) => {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if over {
                Rejection::body_too_large(BODY_LIMIT).into_response()
            } else {
                Rejection::malformed_body("the request body could not be read").into_response()
            };
        }
    };
    let Ok(click) = serde_json::from_slice::<NaiveClick>(&body) else {
        return Rejection::malformed_body(
            "expected {\"token\": \"<render id>\", \"input\": {...}}",
        )
        .into_response();
    };
    let handled_by = app.worker.as_str();
    let Some(entry) = app.naive.recall(&click.token) else {
        return state_missing(&click.token, handled_by);
    };
    if entry.user != who {
        return Rejection::verification(tessera_protocol::Error::WrongSubject).into_response();
    }
    let input = click.input.unwrap_or_default();
    match transfer_result(&entry.payload, &input, who.as_ref(), handled_by) {
        Ok(mut result) => {
            result["plugin"] = json!(NAIVE_PLUGIN);
            Json(result).into_response()
        }
        Err(rejection) => rejection.into_response(),
    }
}

/// `410 Gone`, problem+json: the render state is not in this worker's memory.
fn state_missing(render_id: &str, handled_by: &str) -> Response {
    let rendered_by = render_id
        .strip_prefix("naive:")
        .and_then(|rest| rest.rsplit_once(':'))
        .map(|(worker, _)| worker)
        .filter(|w| w.len() <= 64 && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '/'));
    let detail = match rendered_by {
        Some(renderer) if renderer != handled_by => format!(
            "this panel was rendered by worker {renderer}, which kept its data in its own \
             memory; the click reached worker {handled_by}, which has no such data"
        ),
        _ => format!("worker {handled_by} has no data for this render (unknown or expired id)"),
    };
    tracing::info!(
        code = RENDER_STATE_MISSING,
        handled_by,
        "naive click failed"
    );
    let body = json!({
        "type": format!("{PROBLEM_TYPE_BASE}{RENDER_STATE_MISSING}"),
        "title": "Panel data not found on this worker",
        "status": 410,
        "detail": detail,
        "code": RENDER_STATE_MISSING,
        "rendered_by": rendered_by,
        "handled_by": handled_by,
    });
    let mut response = (StatusCode::GONE, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
