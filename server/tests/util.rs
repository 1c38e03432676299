//! Fixed keys, a fixed clock, a test app with two bound actions, and request helpers.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, Request, Response, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_protocol::{Accept, FixedClock, Key, KeySet, Kid, Minter};
use tessera_server::render::NoStore;
use tessera_server::{
    Action, ActionRoute, ActionRouterExt, Caller, HeaderIdentity, Panel, Problem, Rejection,
    TesseraConfig, TesseraState,
};
use tower::ServiceExt;

pub(crate) const NOW: u64 = 1_790_000_000;
pub(crate) const ISS: &str = "inventree";
pub(crate) const USER_HEADER: &str = "x-demo-user";
pub(crate) const BODY_LIMIT: usize = 16 * 1024;
pub(crate) const HS_SECRET: [u8; 32] = [0x5a; 32];
pub(crate) const ED_SEED: [u8; 32] = [0x17; 32];
pub(crate) const SEAL_SECRET: [u8; 32] = [0x33; 32];

pub(crate) const TRANSFER: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:transfer",
    "/api/plugins/stock-tools/actions/transfer",
);
pub(crate) const PRINT: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:print",
    "/api/plugins/stock-tools/actions/print",
);
/// A route that accepts sealed tokens only (claims encrypted).
pub(crate) const SEALED: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:sealed",
    "/api/plugins/stock-tools/actions/sealed",
)
.accepting(Accept::Sealed);
/// A route whose handler uses the extractor but was mounted without an action binding.
pub(crate) const UNBOUND_PATH: &str = "/api/unbound";

/// The payload of a transfer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Transfer {
    pub(crate) part_id: u32,
    pub(crate) qty: u32,
}

pub(crate) fn transfer() -> Transfer {
    Transfer {
        part_id: 1234,
        qty: 25,
    }
}

/// The user's input to a transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Note {
    pub(crate) note: String,
    pub(crate) count: u32,
}

pub(crate) fn hs_key() -> Key {
    Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap()
}

pub(crate) fn ed_key() -> Key {
    Key::ed25519(Kid::new("ed1").unwrap(), &ED_SEED, None).unwrap()
}

pub(crate) fn seal_key() -> Key {
    Key::a256gcm(Kid::new("se1").unwrap(), &SEAL_SECRET).unwrap()
}

/// HS256 active, an Ed25519 key for verification, and an active A256GCM sealing key.
pub(crate) fn keys() -> Arc<KeySet> {
    let mut set = KeySet::with_active(hs_key()).unwrap();
    set.insert(ed_key()).unwrap();
    set.insert(seal_key()).unwrap();
    set.set_active_sealing(&Kid::new("se1").unwrap()).unwrap();
    Arc::new(set)
}

pub(crate) fn config(keys: Arc<KeySet>) -> TesseraConfig {
    TesseraConfig::new(keys, ISS)
        .with_clock(Arc::new(FixedClock(NOW)))
        .with_identity(HeaderIdentity::new(HeaderName::from_static(USER_HEADER)))
        .with_body_limit(BODY_LIMIT)
}

/// The test state: fixed clock at NOW, the `x-demo-user` header as identity (no default: a
/// request without it is anonymous), a 16 KiB body cap.
pub(crate) fn state() -> TesseraState {
    config(keys()).build().unwrap()
}

/// A minter for the test issuer at NOW with the test keys.
pub(crate) fn minter() -> Minter {
    minter_with(keys(), ISS)
}

pub(crate) fn minter_with(keys: Arc<KeySet>, issuer: &str) -> Minter {
    Minter::new(keys, issuer).with_clock(Arc::new(FixedClock(NOW)))
}

/// A valid print token (no payload) for `sub`.
pub(crate) fn print_token(sub: &str) -> String {
    minter()
        .token(PRINT.id().as_str())
        .subject(sub)
        .mint()
        .unwrap()
}

/// A valid transfer token for `sub`.
pub(crate) fn transfer_token(sub: &str) -> String {
    minter()
        .token(TRANSFER.id().as_str())
        .subject(sub)
        .payload(&transfer())
        .mint()
        .unwrap()
}

/// The test app: TRANSFER (payload `Transfer`, input `Option<Note>`), PRINT and SEALED (any
/// payload, any input), an unbound route, and `/panels` minting one button per action for the caller.
pub(crate) fn app(state: TesseraState) -> Router {
    Router::new()
        .action(&TRANSFER, transfer_handler)
        .action(&PRINT, print_handler)
        .action(&SEALED, print_handler)
        .route(UNBOUND_PATH, axum::routing::post(print_handler))
        .route("/panels", get(panels_handler))
        .merge(tessera_server::routes())
        .with_state(state)
}

async fn transfer_handler(action: Action<Transfer, Option<Note>>) -> Json<Value> {
    Json(json!({
        "action": "transfer",
        "payload": action.payload,
        "input": action.input,
        "sub": action.claims.sub,
        "aud": action.claims.aud,
        "iss": action.claims.iss,
        "exp": action.claims.exp,
        "kid": action.header.kid.as_str(),
        "principal": action.principal.map(|p| p.to_string()),
        "route": action.route.path(),
    }))
}

async fn print_handler(action: Action<Value>) -> Json<Value> {
    Json(json!({"action": "print", "payload": action.payload, "input": action.input}))
}

async fn panels_handler(
    State(tessera): State<TesseraState>,
    Caller(who): Caller,
) -> Result<NoStore<Json<Panel>>, Rejection> {
    let transfer_button = tessera
        .button(&TRANSFER, "Transfer")
        .caller(who.as_ref())
        .payload(&transfer())
        .mint()?;
    let print_button = tessera
        .button(&PRINT, "Print")
        .caller(who.as_ref())
        .payload(&json!({"label": 1}))
        .ttl(Duration::from_secs(60))
        .mint()?;
    Ok(NoStore(Json(
        Panel::new("stock", "Stock tools")
            .with_button(transfer_button)
            .with_button(print_button),
    )))
}

/// The form media type.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// An action request being built: `post(path).content_type(FORM).user("alice").body(..).build()`.
pub(crate) struct Post(axum::http::request::Builder, Body);

/// Starts a `POST` to `path` with no headers and an empty body.
pub(crate) fn post(path: &str) -> Post {
    Post(Request::post(path), Body::empty())
}

impl Post {
    /// Sets `Content-Type`.
    pub(crate) fn content_type(self, media_type: &str) -> Post {
        self.header("content-type", media_type)
    }

    /// Names the caller in the demo identity header.
    pub(crate) fn user(self, user: &str) -> Post {
        self.header(USER_HEADER, user)
    }

    /// Carries `token` in the `Tessera-Token` header.
    pub(crate) fn token_header(self, token: &str) -> Post {
        self.header("tessera-token", token)
    }

    /// Adds any header.
    pub(crate) fn header(self, name: &str, value: &str) -> Post {
        Post(self.0.header(name, value), self.1)
    }

    /// The body.
    pub(crate) fn body(self, body: impl Into<Body>) -> Post {
        Post(self.0, body.into())
    }

    /// The request.
    pub(crate) fn build(self) -> Request<Body> {
        self.0.body(self.1).unwrap()
    }
}

/// A JSON click: `{"token": token, "input": input}` (members left out when `None`).
pub(crate) fn json_click(path: &str, token: Option<&str>, input: Option<Value>) -> Request<Body> {
    let mut body = serde_json::Map::new();
    if let Some(token) = token {
        body.insert("token".to_owned(), Value::from(token));
    }
    if let Some(input) = input {
        body.insert("input".to_owned(), input);
    }
    post(path)
        .content_type("application/json")
        .body(Value::Object(body).to_string())
        .build()
}

/// Adds the user header.
pub(crate) fn as_user(mut request: Request<Body>, user: &str) -> Request<Body> {
    request
        .headers_mut()
        .insert(USER_HEADER, user.parse().unwrap());
    request
}

/// Sends `request` to `app` in process.
pub(crate) async fn send(app: &Router, request: Request<Body>) -> Response<Body> {
    app.clone().oneshot(request).await.unwrap()
}

/// Sends and returns status and JSON body.
pub(crate) async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = send(app, request).await;
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

/// Checks that `response` is a problem+json refusal and returns its status and code.
pub(crate) async fn refused(response: Response<Body>) -> (StatusCode, String) {
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let problem: Problem = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(problem.status, status.as_u16());
    assert_eq!(
        problem.type_,
        format!("https://tessera.invalid/problems/{}", problem.code)
    );
    assert!(!problem.title.is_empty() && !problem.detail.is_empty());
    (status, problem.code)
}

/// Sends `request` and returns the refusal's status and code.
pub(crate) async fn refusal(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    refused(send(app, request).await).await
}

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `token` with its header replaced by `header` (signature left as is).
pub(crate) fn with_header(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", b64(header.to_string()))
}

/// `token` with one character of its signature changed (the first: always canonical).
pub(crate) fn flip_signature(token: &str) -> String {
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let mut chars: Vec<char> = signature.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    format!("{signing_input}.{}", chars.into_iter().collect::<String>())
}
