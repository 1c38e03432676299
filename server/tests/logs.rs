//! Rejections are logged with their code and route (target `tessera::rejection`), and the text
//! of a rejected token never appears in the logs, whatever the transport.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tessera_server::ActionRouterExt as _;
use tower::ServiceExt as _;
use tracing_subscriber::fmt::MakeWriter;

// Its own test binary: tracing's callsite interest is process-wide, so a log-capture test must
// not share a process with tests that run concurrently without a subscriber.
#[path = "util.rs"]
#[allow(dead_code)] // Shared helpers; this binary uses some of them.
mod util;

use crate::util::*;

/// A `MakeWriter` appending everything to one shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn rejected_tokens_never_appear_in_the_logs() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buffer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // The only test in this process, so a global subscriber sees every event.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = app(state());
    let valid = transfer_token("alice");
    let tokens = [
        ("bad_signature", flip_signature(&valid)),
        ("wrong_subject", valid.clone()), // clicked by bob below
        (
            "wrong_audience",
            minter()
                .token(PRINT.id().as_str())
                .subject("bob")
                .mint()
                .unwrap(),
        ),
        (
            "unsupported_algorithm",
            with_header(
                &valid,
                &json!({"alg": "none", "typ": "tessera+jwt", "kid": "hs1"}),
            ),
        ),
        ("malformed", format!("{valid}.extra")),
    ];
    for (code, token) in &tokens {
        let requests = [
            json_click(TRANSFER.path(), Some(token), None),
            Request::post(TRANSFER.path())
                .header("tessera-token", token.as_str())
                .body(Body::empty())
                .unwrap(),
            Request::post(TRANSFER.path())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("tessera_token={token}")))
                .unwrap(),
        ];
        for request in requests {
            let (_, got) = refusal(&app, as_user(request, "bob")).await;
            assert_eq!(&got, code);
        }
    }

    let logs = buffer.text();
    // The rejections were logged, with code and route...
    for (code, _) in &tokens {
        assert!(
            logs.contains(&format!("code=\"{code}\"")) || logs.contains(&format!("code={code}")),
            "no log line for {code}:\n{logs}"
        );
    }
    assert!(logs.contains("tessera::rejection"), "{logs}");
    assert!(logs.contains(TRANSFER.path()), "{logs}");
    assert_eq!(logs.matches("request rejected").count(), tokens.len() * 3);
    // ...and no token, nor any of its segments, is in them.
    for (_, token) in &tokens {
        for segment in token.split('.').filter(|s| s.len() >= 16) {
            assert!(
                !logs.contains(segment),
                "a token segment was logged:\n{logs}"
            );
        }
    }
    assert!(!logs.contains(&b64(HS_SECRET)));

    // A handler that answers a rejection in its own format logs it the same way with
    // `Rejection::log`.
    let own_format = axum::Router::new()
        .action(&PRINT, own_format_print)
        .with_state(state());
    let request = Request::post(PRINT.path())
        .header("tessera-token", flip_signature(&valid))
        .body(Body::empty())
        .unwrap();
    let response = own_format.oneshot(as_user(request, "bob")).await.unwrap();
    assert_eq!(response.status(), 401);
    let logs = buffer.text();
    assert_eq!(
        logs.matches("request rejected").count(),
        tokens.len() * 3 + 1,
        "{logs}"
    );
    let line = logs.lines().last().unwrap();
    assert!(line.contains("bad_signature"), "{line}");
    assert!(line.contains(PRINT.path()), "{line}");
    assert!(line.contains(PRINT.id().as_str()), "{line}");

    // A rejection the handler of an action route raises and locates is logged at that route,
    // and one raised outside any action route without one.
    let refusing = axum::Router::new()
        .action(&PRINT, refuse_print)
        .route("/elsewhere", axum::routing::post(refuse_elsewhere))
        .with_state(state());
    let token = minter()
        .token(PRINT.id().as_str())
        .subject("bob")
        .mint()
        .unwrap();
    let request = Request::post(PRINT.path())
        .header("tessera-token", token.as_str())
        .body(Body::empty())
        .unwrap();
    let response = refusing
        .clone()
        .oneshot(as_user(request, "bob"))
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let elsewhere = Request::post("/elsewhere").body(Body::empty()).unwrap();
    assert_eq!(refusing.oneshot(elsewhere).await.unwrap().status(), 422);
    let logs = buffer.text();
    let lines: Vec<&str> = logs.lines().rev().take(2).collect();
    let (elsewhere, bound) = (lines[0], lines[1]);
    assert!(bound.contains("bad_input"), "{bound}");
    assert!(bound.contains(PRINT.path()), "{bound}");
    assert!(bound.contains(PRINT.id().as_str()), "{bound}");
    assert!(elsewhere.contains("bad_input"), "{elsewhere}");
    assert!(
        elsewhere.contains("route=\"-\"") || elsewhere.contains("route=-"),
        "{elsewhere}"
    );
    assert!(!logs.contains(&token), "{logs}");

    // A replay store that fails: the log line names the cause for the operator; the client's
    // detail stays generic (it need not learn how the host's storage is doing).
    let single_use = PRINT.single_use();
    let broken = axum::Router::new()
        .action(
            &single_use,
            |_: tessera_server::Action<serde_json::Value>| async { "printed" },
        )
        .with_state(config(keys()).with_replay_guard(FullDisk).build().unwrap());
    let request = Request::post(PRINT.path())
        .header("tessera-token", token.as_str())
        .body(Body::empty())
        .unwrap();
    let response = broken.oneshot(as_user(request, "bob")).await.unwrap();
    assert_eq!(response.status(), 503);
    let (_, code) = refused_detail(response).await;
    assert_eq!(code.0, "replay_unavailable");
    assert!(
        !code.1.contains(FULL_DISK),
        "the client's detail: {}",
        code.1
    );
    let logs = buffer.text();
    let line = logs.lines().last().unwrap();
    assert!(line.contains("replay_unavailable"), "{line}");
    assert!(
        line.contains(FULL_DISK),
        "the log line names the cause: {line}"
    );
}

/// The cause a broken replay store gives.
const FULL_DISK: &str = "no storage space";

/// A replay guard whose store is out of space.
#[derive(Debug)]
struct FullDisk;

impl tessera_server::replay::ReplayGuard for FullDisk {
    fn first_use<'a>(
        &'a self,
        _scope: &'a str,
        _jti: &'a str,
        _expires_at: u64,
    ) -> tessera_server::replay::GuardFuture<'a> {
        Box::pin(async {
            Err(tessera_server::replay::StoreUnavailable {
                reason: FULL_DISK.to_owned(),
            })
        })
    }

    fn release<'a>(
        &'a self,
        _scope: &'a str,
        _jti: &'a str,
    ) -> tessera_server::replay::ReleaseFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// A refusal's status, and its code and detail.
async fn refused_detail(
    response: axum::http::Response<Body>,
) -> (axum::http::StatusCode, (String, String)) {
    use http_body_util::BodyExt as _;
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let problem: tessera_server::Problem = serde_json::from_slice(&bytes).unwrap();
    (status, (problem.code, problem.detail))
}

/// Verifies the click, then refuses its input itself.
async fn refuse_print(
    action: tessera_server::Action<serde_json::Value>,
) -> tessera_server::Rejection {
    let refused = tessera_server::Rejection::bad_input("the label printer is out of labels");
    action.route.reject(refused)
}

/// A plain route (no action bound) that refuses.
async fn refuse_elsewhere() -> tessera_server::Rejection {
    tessera_server::Rejection::bad_input("nothing to do here")
}

/// Answers a refused click with the plugin's own body, not problem+json.
async fn own_format_print(
    action: Result<tessera_server::Action<serde_json::Value>, tessera_server::Rejection>,
) -> (axum::http::StatusCode, String) {
    match action {
        Ok(_) => (axum::http::StatusCode::OK, "printed".to_owned()),
        Err(rejection) => {
            rejection.log();
            (rejection.status(), format!("error: {}", rejection.code()))
        }
    }
}
