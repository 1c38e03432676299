//! API review from a plugin author's side: mistakes real people make with the public API, and
//! what the library lets through. The first two tests failed on the code they were written
//! against (each names its defect); the last pins a sound behaviour no other test covers.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::{FromRef, Path, State};
use axum::http::{Request, StatusCode};
use axum::{Json, Router};
use serde_json::{Value, json};
use tessera_protocol::FixedClock;
use tessera_server::replay::{MemoryReplayGuard, ReplayGuard};
use tessera_server::{Action, ActionRoute, ActionRouterExt, Principal, TesseraState};
use tower::ServiceExt;

use crate::util::*;

/// Counts handler runs.
#[derive(Clone)]
struct App {
    tessera: TesseraState,
    runs: Arc<AtomicUsize>,
}

impl FromRef<App> for TesseraState {
    fn from_ref(app: &App) -> TesseraState {
        app.tessera.clone()
    }
}

fn app_state() -> App {
    let guard: Arc<dyn ReplayGuard> = Arc::new(MemoryReplayGuard::with_clock(
        100,
        Arc::new(FixedClock(NOW)),
    ));
    App {
        tessera: config(keys())
            .with_shared_replay_guard(guard)
            .build()
            .unwrap(),
        runs: Arc::default(),
    }
}

/// The route the cross-origin tests click.
const TAKE: ActionRoute = ActionRoute::new("plugin:stock-tools/action:take", "/take");

/// A token for [`TAKE`] minted by `app`'s state, without a subject.
fn take_token(app: &App) -> String {
    app.tessera
        .button(&TAKE, "Take")
        .payload(&json!(1))
        .mint()
        .unwrap()
        .token
}

/// Defect: a path parameter of an action route is not covered by the token.
///
/// `ActionRoute::path` is documented as "the path template the route is mounted at (also the
/// button's URL, as is)", so a plugin author writes `/items/{id}/delete`, rewrites
/// `button.url` to the item's URL, and reads the id with `Path`. The token binds only the
/// action id (and `dat`), never the URL: a button rendered for item 7 deletes item 8 (an item
/// the user was never shown a button for). Nothing refuses such a route at mount time and no
/// doc says path (or query) parameters are unverified client input.
///
/// Expected: either mounting a route whose path has parameters is refused (a button's URL is
/// the template as is, so such a route cannot work as documented anyway), or the click is
/// refused; never a run with the unverified id.
#[tokio::test]
async fn a_path_parameter_of_an_action_route_is_not_taken_from_the_unverified_url() {
    const DELETE: ActionRoute =
        ActionRoute::new("plugin:stock-tools/action:delete", "/items/{id}/delete");
    async fn delete(
        State(app): State<App>,
        Path(id): Path<u32>,
        action: Action<Value>,
    ) -> Json<Value> {
        app.runs.fetch_add(1, Ordering::SeqCst);
        Json(json!({"deleted": id, "button_was_for": action.payload["item"]}))
    }
    let app = app_state();
    let button = app
        .tessera
        .button(&DELETE, "Delete item 7")
        .caller(Some(&Principal::new("alice")))
        .payload(&json!({"item": 7}))
        .mint()
        .unwrap();
    let mounted = std::panic::catch_unwind(AssertUnwindSafe(|| {
        Router::new()
            .action(&DELETE, delete)
            .with_state(app.clone())
    }));
    let Ok(router) = mounted else {
        return; // refused at mount time: fine
    };
    // The author points the button at its item, as the template invites...
    assert_eq!(button.url, "/items/{id}/delete");
    // ...and the user posts item 7's token to item 8's URL.
    let click = as_user(
        json_click("/items/8/delete", Some(&button.token), None),
        "alice",
    );
    let (status, body) = call(&router, click).await;
    assert_eq!(
        app.runs.load(Ordering::SeqCst),
        0,
        "item 7's button ran the action on item 8 ({status} {body})"
    );
}

// A handler without the `Action` extractor on an action route ran unverified (any request, no
// token, a single-use route any number of times). Mounting one is now a compile error: the
// `compile_fail` example of `tessera_server::ActionHandler` (server/src/handler.rs) checks it.

/// Defect (unsafe default, undocumented): a token leaked from the user's screen or a log is
/// bound to that user (`sub`), so the thief cannot post it himself (`wrong_subject`) — the
/// protection spec §11.2 relies on. But a urlencoded form is a "simple" cross-site request
/// (no CORS preflight), and the extractor accepts the token in the form field
/// `tessera_token`: a page on another site makes the victim's browser post the stolen token,
/// with the victim's cookies and **input of the attacker's choosing** (`qty=900`), and the
/// action runs. The click script never uses forms (it posts JSON, which needs a preflight),
/// yet every route accepts them, with no way to turn them off; neither README, SECURITY.md nor
/// spec §8/§11 mentions cross-site requests. Expected: a request that the browser marks as
/// cross-site (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not the host's) is
/// refused, at least for a form-carried token (or form transport is opt-in per route).
#[tokio::test]
async fn a_cross_site_form_post_of_a_leaked_token_is_refused() {
    async fn take(State(app): State<App>, action: Action<Value, Value>) -> Json<Value> {
        app.runs.fetch_add(1, Ordering::SeqCst);
        Json(json!({"took": action.input["qty"]}))
    }
    let app = app_state();
    let router = Router::new().action(&TAKE, take).with_state(app.clone());
    let leaked = app
        .tessera
        .button(&TAKE, "Take 1")
        .caller(Some(&Principal::new("alice")))
        .payload(&json!({"part": 7}))
        .mint()
        .unwrap()
        .token;
    // The thief cannot use it himself...
    let own = as_user(json_click("/take", Some(&leaked), None), "mallory");
    assert_eq!(send(&router, own).await.status(), StatusCode::FORBIDDEN);
    // ...but the victim's browser, sent by a form on evil.example, can (the identity the
    // browser's cookie or the authenticating proxy establishes: alice).
    let cross_site = Request::post("/take")
        .header("host", "inventory.example")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("tessera_token={leaked}&qty=900")))
        .unwrap();
    let (status, body) = call(&router, as_user(cross_site, "alice")).await;
    assert_eq!(
        app.runs.load(Ordering::SeqCst),
        0,
        "a cross-site form post ran the action with the attacker's input ({status} {body})"
    );
}

/// Sound (pinned): a single-use handler that panics keeps its replay record (the effect may
/// have happened, spec §10.1 point 3), and the app keeps serving.
#[tokio::test]
async fn a_single_use_handler_that_panics_keeps_the_token_used_up() {
    const PAY: ActionRoute = ActionRoute::new("plugin:shop/action:pay", "/pay").single_use();
    async fn pay(State(app): State<App>, action: Action<Value, Value>) -> &'static str {
        app.runs.fetch_add(1, Ordering::SeqCst);
        if action.input["boom"] == true {
            panic!("a bug in the handler, after its effect");
        }
        "paid"
    }
    let app = app_state();
    let router = Router::new().action(&PAY, pay).with_state(app.clone());
    let token = app
        .tessera
        .button(&PAY, "Pay")
        .caller(Some(&Principal::new("alice")))
        .payload(&json!(10))
        .mint()
        .unwrap()
        .token;
    let (panicking, token2) = (router.clone(), token.clone());
    let joined = tokio::spawn(async move {
        let click = json_click("/pay", Some(&token2), Some(json!({"boom": true})));
        panicking.oneshot(as_user(click, "alice")).await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    let again = as_user(json_click("/pay", Some(&token), None), "alice");
    assert_eq!(
        refusal(&router, again).await,
        (StatusCode::CONFLICT, "replayed".to_owned())
    );
    let fresh = app
        .tessera
        .button(&PAY, "Pay")
        .caller(Some(&Principal::new("alice")))
        .payload(&json!(10))
        .mint()
        .unwrap()
        .token;
    let click = as_user(json_click("/pay", Some(&fresh), None), "alice");
    assert_eq!(send(&router, click).await.status(), StatusCode::OK);
    assert_eq!(app.runs.load(Ordering::SeqCst), 2);
}

/// The cross-origin check lets through what is not a browser's cross-site request: no browser
/// headers (curl, the CLI), the page's own origin, and an origin the state trusts; and a trusted
/// origin that is not `scheme://host[:port]` is a configuration error.
#[tokio::test]
async fn same_origin_and_trusted_origins_pass_and_a_bad_trusted_origin_is_refused() {
    async fn take(State(app): State<App>, _: Action<Value>) -> &'static str {
        app.runs.fetch_add(1, Ordering::SeqCst);
        "taken"
    }
    let mut app = app_state();
    // Served over HTTPS (through a TLS-terminating proxy), as browsers reach it.
    app.tessera = config(keys())
        .with_trusted_origin("https://app.example")
        .with_scheme("https")
        .build()
        .unwrap();
    let router = Router::new().action(&TAKE, take).with_state(app.clone());
    let token = take_token(&app);
    let click = |headers: &[(&str, &str)]| {
        let mut request = Request::post("/take")
            .header("host", "inventory.example")
            .header("tessera-token", token.as_str());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::empty()).unwrap()
    };
    for (headers, want) in [
        (&[][..], StatusCode::OK),
        (&[("sec-fetch-site", "same-origin")][..], StatusCode::OK),
        (&[("sec-fetch-site", "none")][..], StatusCode::OK),
        (
            &[("origin", "https://inventory.example")][..],
            StatusCode::OK,
        ),
        (
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://app.example"),
            ][..],
            StatusCode::OK,
        ),
        (
            &[("sec-fetch-site", "same-site")][..],
            StatusCode::FORBIDDEN,
        ),
        (&[("origin", "null")][..], StatusCode::FORBIDDEN),
        (
            &[("origin", "https://inventory.example.evil")][..],
            StatusCode::FORBIDDEN,
        ),
    ] {
        let response = send(&router, click(headers)).await;
        assert_eq!(response.status(), want, "{headers:?}");
    }
    assert_eq!(app.runs.load(Ordering::SeqCst), 5);
    for bad in [
        "app.example",
        "https://app.example/",
        "https://",
        "https://a.example/x",
        "https://App.example",
        "https://app.example:443",
        "http://app.example:80",
        "https://app.example:0",
        "https://app.example:70000",
    ] {
        let err = config(keys()).with_trusted_origin(bad).build().unwrap_err();
        assert_eq!(
            err.code(),
            tessera_protocol::ErrorCode::InvalidConfig,
            "{bad}"
        );
    }
    for good in [
        "http://localhost:8080",
        "https://[::1]:8443",
        "https://app.example:8443",
    ] {
        assert!(
            config(keys()).with_trusted_origin(good).build().is_ok(),
            "{good}"
        );
    }
}

// `ActionRoute::layer()` bound an action route by hand with neither mount-time guarantee
// (a handler without `Action` compiled; a path parameter mounted). It is gone: `post` and
// `action` are the only ways to bind a handler to an action, and both check.

/// Defect (false refusal): `check_origin` compares `Origin` with the `Host` header only. Over
/// HTTP/2 a browser sends no `Host` header (the authority is the `:authority` pseudo-header,
/// which hyper puts in the request URI), and an HTTP/1.1 request may carry it in the
/// absolute-form target. A browser that sends `Origin` but not `Sec-Fetch-Site` (the fallback
/// the doc describes) posting from the host's own page is then refused with `cross_origin`.
/// The doc promises "one with `Origin` passes when it names the request's own host" (Go's
/// `CrossOriginProtection`, which it cites, compares with `req.Host`, which covers both).
#[tokio::test]
async fn a_same_origin_request_whose_host_is_only_in_the_uri_is_not_cross_origin() {
    async fn take(_: Action<Value>) -> &'static str {
        "taken"
    }
    let app = app_state();
    let router = Router::new().action(&TAKE, take).with_state(app.clone());
    let token = take_token(&app);
    // As hyper hands over an HTTP/2 request: the authority in the URI, no Host header.
    let request = Request::post("https://inventory.example/take")
        .header("origin", "https://inventory.example")
        .header("tessera-token", token.as_str())
        .body(Body::empty())
        .unwrap();
    let (status, body) = call(&router, request).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the host's own origin was refused: {body}"
    );
}

/// Doc mismatch made observable: `TesseraConfig::with_trusted_origin` says "An origin that is
/// not `scheme://host[:port]` fails `TesseraConfig::build` with `invalid_config`", but
/// `is_origin` accepts a port that is not a number and an empty port; such an entry can never
/// equal an `Origin` a browser sends, so the mistake is silent.
#[test]
fn a_trusted_origin_with_a_port_that_is_not_a_number_is_invalid_config() {
    for bad in ["https://app.example:", "https://app.example:https"] {
        let built = config(keys()).with_trusted_origin(bad).build();
        assert_eq!(
            built.err().map(|e| e.code()),
            Some(tessera_protocol::ErrorCode::InvalidConfig),
            "{bad}"
        );
    }
}
