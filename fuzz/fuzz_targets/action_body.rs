//! Arbitrary action requests through tessera_server's `Action` extractor, in process (a
//! `Router` with action routes, called with tower's `oneshot`, as server/tests do).
//!
//! Input: byte 0 picks the route (transfer: typed payload and `Option<Note>` input; print:
//! any payload and input; sealed: a sealed-only route), byte 1 the `Content-Type` (JSON, a
//! form, others, none, or two headers), byte 2 whether the token also travels in the
//! `Tessera-Token` header, byte 3 the caller; the rest is the body, where `TOKEN` stands for a
//! valid token of the route (so the fuzzer reaches the input parsing behind verification).
//!
//! Properties: never a panic and never a 5xx (these routes have no replay store and are all
//! bound); every refusal is `application/problem+json` with a known wire code whose status
//! is the response's; a request that passes delivers the minted payload, and the input the
//! body carries: the JSON body's `input` member as the JSON rules read it, or the form's
//! fields other than the token.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::{Json, Router};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tessera_protocol::json_rules;
use tessera_protocol::wire::{Code, PROBLEM_JSON, Problem};
use tessera_protocol::{Accept, FixedClock, Key, KeySet, Kid, Minter};
use tessera_server::{Action, ActionRoute, ActionRouterExt, HeaderIdentity, TesseraConfig};
use tower::ServiceExt;

const NOW: u64 = 1_790_000_000;
const ISS: &str = "inventree";
const USER_HEADER: &str = "x-demo-user";

const TRANSFER: ActionRoute = ActionRoute::new("plugin:fuzz/action:transfer", "/transfer");
const PRINT: ActionRoute = ActionRoute::new("plugin:fuzz/action:print", "/print");
const SEALED: ActionRoute =
    ActionRoute::new("plugin:fuzz/action:sealed", "/sealed").accepting(Accept::Sealed);
const ROUTES: [&ActionRoute; 3] = [&TRANSFER, &PRINT, &SEALED];

const CONTENT_TYPES: [&[&str]; 9] = [
    &["application/json"],
    &["application/json; charset=utf-8"],
    &["application/x-www-form-urlencoded"],
    &["APPLICATION/X-WWW-FORM-URLENCODED;charset=UTF-8"],
    &[],
    &["text/plain"],
    &["application/json", "application/x-www-form-urlencoded"],
    &["application/vnd.fuzz+json"],
    &["multipart/form-data; boundary=x"],
];
const CALLERS: [Option<&str>; 4] = [None, Some("alice"), Some("bob"), Some("alice ")];

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Transfer {
    part_id: u32,
    qty: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Note {
    note: String,
    count: u32,
}

/// The app, the runtime and one valid token per route (for `alice`), built once.
struct World {
    app: Router,
    runtime: tokio::runtime::Runtime,
    tokens: [String; 3],
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut keys = KeySet::with_active(
            Key::hs256(Kid::new("hs1").expect("kid"), &[0x5a; 32]).expect("key"),
        )
        .expect("set");
        keys.insert(Key::a256gcm(Kid::new("se1").expect("kid"), &[0x33; 32]).expect("key"))
            .expect("insert");
        keys.set_active_sealing(&Kid::new("se1").expect("kid"))
            .expect("sealing");
        let keys = Arc::new(keys);
        let state = TesseraConfig::new(keys.clone(), ISS)
            .with_clock(Arc::new(FixedClock(NOW)))
            .with_identity(HeaderIdentity::new(axum::http::HeaderName::from_static(
                USER_HEADER,
            )))
            .with_body_limit(16 * 1024)
            .build()
            .expect("state");
        let app = Router::new()
            .action(&TRANSFER, transfer)
            .action(&PRINT, print)
            .action(&SEALED, print)
            .with_state(state);
        let minter = Minter::new(keys, ISS).with_clock(Arc::new(FixedClock(NOW)));
        let token = |route: &ActionRoute, dat: &Value| {
            let builder = minter
                .token(route.id().as_str())
                .subject("alice")
                .payload(dat);
            if route.accept() == Accept::Sealed {
                builder.dangerous_seal_with("fuzz-jti", [7; 12])
            } else {
                builder.mint_with_jti("fuzz-jti")
            }
            .expect("mint")
        };
        World {
            app,
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            tokens: [
                token(&TRANSFER, &transfer_payload()),
                token(&PRINT, &json!({"label": [1, "x"]})),
                token(&SEALED, &json!("secret")),
            ],
        }
    })
}

fn transfer_payload() -> Value {
    json!({"part_id": 1234, "qty": 25})
}

async fn transfer(action: Action<Transfer, Option<Note>>) -> Json<Value> {
    Json(json!({"payload": action.payload, "input": action.input}))
}

async fn print(action: Action<Value>) -> Json<Value> {
    Json(json!({"payload": action.payload, "input": action.input}))
}

fuzz_target!(|data: &[u8]| {
    let [route, content_type, token_header, caller, body @ ..] = data else {
        return;
    };
    let world = world();
    let index = usize::from(*route) % ROUTES.len();
    let token = &world.tokens[index];
    let body = replace(body, b"TOKEN", token.as_bytes());
    let mut request = Request::post(ROUTES[index].path());
    let content_types = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    for value in content_types {
        request = request.header("content-type", *value);
    }
    if token_header & 1 != 0 {
        request = request.header("tessera-token", token.as_str());
    }
    if let Some(user) = CALLERS[usize::from(*caller) % CALLERS.len()] {
        request = request.header(USER_HEADER, user);
    }
    let request = request.body(Body::from(body.clone())).expect("request");
    let (status, media_type, answer) = world.runtime.block_on(async {
        let response = world
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let media_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, media_type, bytes)
    });
    assert!(!status.is_server_error(), "{status}: {answer:?}");
    if status.is_success() {
        accepted(index, content_types, &body, &answer);
    } else {
        refused(status, media_type.as_deref(), &answer);
    }
});

/// `haystack` with every `needle` replaced by `with`.
fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// A refusal is a problem document with a known code whose status is the response's.
fn refused(status: StatusCode, media_type: Option<&str>, answer: &[u8]) {
    assert_eq!(
        media_type,
        Some(PROBLEM_JSON),
        "{status} without a problem body"
    );
    let problem: Problem = serde_json::from_slice(answer).expect("a problem document");
    let code =
        Code::from_name(&problem.code).unwrap_or_else(|| panic!("unknown code {:?}", problem.code));
    assert_eq!(code.status(), status.as_u16(), "{code:?}");
    assert_eq!(problem.status, status.as_u16());
}

/// A request that passed delivered the route's payload and the body's input.
fn accepted(route: usize, content_types: &[&str], body: &[u8], answer: &[u8]) {
    let answer: Value = serde_json::from_slice(answer).expect("the handler answers JSON");
    let payload = &answer["payload"];
    match route {
        0 => assert_eq!(payload, &transfer_payload()),
        1 => assert_eq!(payload, &json!({"label": [1, "x"]})),
        _ => assert_eq!(payload, &json!("secret")),
    }
    let input = &answer["input"];
    if route == 0 || body.is_empty() {
        // The typed input: its shape is the handler's type; nothing more to compare.
        return;
    }
    match content_types {
        [json] if json.to_ascii_lowercase().contains("json") => {
            let text = std::str::from_utf8(body).expect("accepted JSON is UTF-8");
            let doc: Value = json_rules::from_str(text).expect("accepted JSON follows the rules");
            assert_eq!(input, doc.get("input").unwrap_or(&Value::Null));
        }
        [_form] => {
            let fields: Map<String, Value> = form_urlencoded::parse(body)
                .filter(|(name, _)| name != "tessera_token")
                .map(|(name, value)| (name.into_owned(), Value::from(value.into_owned())))
                .collect();
            let expected = if fields.is_empty() {
                Value::Null
            } else {
                Value::Object(fields)
            };
            assert_eq!(input, &expected);
        }
        _ => panic!("a request with {content_types:?} passed"),
    }
}
