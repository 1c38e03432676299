//! Refused clicks over HTTP: each failure gets its status and stable problem+json code, and
//! the refusal never echoes the token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::host::{Host, fresh_client};
use serde_json::{Value, json};

use crate::util::{
    Answer, KeyDir, PANELS, PARSE_ONLY, PRINT_LABEL, TRANSFER, button, get, post_json,
    post_oversized, start_host, try_post, url_and_token,
};

/// Renders the panels as `user` and returns the button of `action` (URL, token, expiry).
async fn render(host: &Host, user: &str, action: &str) -> (String, String, u64) {
    let panels = get(&fresh_client(), host, PANELS, Some(user)).await;
    assert_eq!(panels.status, 200, "{panels:?}");
    let button = button(&panels.body, action);
    let (url, token) = url_and_token(button);
    (
        url,
        token,
        button["expires_at"].as_u64().expect("expires_at"),
    )
}

fn assert_refused(answer: &Answer, status: u16, code: &str, token: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.code(), code, "{answer:?}");
    assert_eq!(answer.body["status"], status);
    let text = answer.body.to_string();
    assert!(
        !text.contains(token),
        "the refusal echoes the token: {text}"
    );
}

/// The headers of a problem answer from the demo host: problem+json, never cached.
fn assert_problem_headers(res: &reqwest::Response, what: &str) {
    let header = |name| res.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(
        header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    assert_eq!(header("cache-control"), Some("no-store"), "{what}");
}

/// Flips one character in the middle of the signature segment (keeping it canonical
/// base64url: a middle character's bits are all used).
fn flip_signature_byte(token: &str) -> String {
    let sig_start = token.rfind('.').expect("three segments") + 1;
    let at = sig_start + (token.len() - sig_start) / 2;
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII")
}

#[tokio::test]
async fn tampered_misdirected_and_malformed_clicks_are_refused_with_their_codes() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &[]);
    let client = fresh_client();
    let (url, token, _) = render(&host, "alice", TRANSFER).await;
    let alice = Some("alice");

    // The untouched token works (so each refusal below is caused by its one change).
    let ok = post_json(
        &client,
        &host,
        &url,
        alice,
        &json!({"token": token, "input": {"qty": 1}}),
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");

    // One flipped byte in the signature.
    let flipped = flip_signature_byte(&token);
    let answer = post_json(&client, &host, &url, alice, &json!({"token": flipped})).await;
    assert_refused(&answer, 401, "bad_signature", &flipped);

    // A print-label token posted to the transfer action.
    let (_, label_token, _) = render(&host, "alice", PRINT_LABEL).await;
    let answer = post_json(&client, &host, &url, alice, &json!({"token": label_token})).await;
    assert_refused(&answer, 403, "wrong_audience", &label_token);

    // Alice's token clicked by Bob, and by an anonymous caller (who is `guest`).
    let answer = post_json(&client, &host, &url, Some("bob"), &json!({"token": token})).await;
    assert_refused(&answer, 403, "wrong_subject", &token);
    let answer = post_json(&client, &host, &url, None, &json!({"token": token})).await;
    assert_refused(&answer, 403, "wrong_subject", &token);

    // Garbage: not JSON at all, and a token that is not a token.
    let answer = try_post(&client, &host, &url, alice, "}{ not json".to_owned())
        .await
        .unwrap();
    assert_refused(&answer, 400, "malformed", &token);
    let answer = post_json(&client, &host, &url, alice, &json!({"token": "garbage"})).await;
    assert_refused(&answer, 400, "malformed", &token);

    // Input that does not fit the action is refused after the token verified.
    let answer = post_json(
        &client,
        &host,
        &url,
        alice,
        &json!({"token": token, "input": {"qty": 100000}}),
    )
    .await;
    assert_refused(&answer, 422, "bad_input", &token);

    // A repeated input member is refused, not resolved to one of its values (which would a
    // proxy in front have checked?). Raw text: a JSON value cannot repeat a name. (Members
    // the action does not read are ignored: a panel's fields are sent to each of its buttons.)
    let body = format!(r#"{{"token": "{token}", "input": {{"qty": 1, "qty": 900}}}}"#);
    let answer = try_post(&client, &host, &url, alice, body).await.unwrap();
    assert_refused(&answer, 422, "bad_input", &token);
}

#[tokio::test]
async fn a_one_mebibyte_body_is_refused_with_413() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &[]);
    let (url, token, _) = render(&host, "alice", TRANSFER).await;
    let padding = "x".repeat(1024 * 1024);
    let body = json!({"token": token, "input": {"note": padding}}).to_string();
    assert!(body.len() > 1024 * 1024);
    let answer = post_oversized(&fresh_client(), &host, &url, Some("alice"), &body).await;
    assert_refused(&answer, 413, "too_large", &token);
}

#[tokio::test]
async fn an_expired_token_is_refused_with_401_expired() {
    let keys = KeyDir::new();
    // One-second tokens and no leeway, so expiry comes quickly.
    let host = start_host(2, &keys, &["--ttl", "1", "--leeway", "0"]);
    let (url, token, expires_at) = render(&host, "alice", TRANSFER).await;
    // Wait until the wall clock (whole seconds, as tokens count) reaches `exp` (bounded).
    for _ in 0..100 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if now >= expires_at {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = post_json(
        &fresh_client(),
        &host,
        &url,
        Some("alice"),
        &json!({"token": token}),
    )
    .await;
    assert_refused(&answer, 401, "expired", &token);
}

#[tokio::test]
async fn the_token_also_arrives_by_header_and_by_form() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &[]);
    let (url, token, _) = render(&host, "alice", TRANSFER).await;
    let client = fresh_client();
    let res = client
        .post(host.url(&url))
        .header("x-demo-user", "alice")
        .header("tessera-token", &token)
        .header("content-type", "application/json")
        .body(json!({"input": {"qty": 4}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["moved"], 4);
    let res = client
        .post(host.url(&url))
        .header("x-demo-user", "alice")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("tessera_token={token}&qty=6"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["moved"], 6);
}

#[tokio::test]
async fn the_benchmark_twin_answers_like_the_action_but_verifies_nothing() {
    // bench/http.sh compares the transfer action with /bench/parse-only: they must do the same
    // work apart from verification, so they must answer the same document for the same body.
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let client = fresh_client();
    let (url, token, _) = render(&host, "alice", TRANSFER).await;
    let body = json!({"token": token, "input": {"qty": 2, "note": "bench"}});
    let action = post_json(&client, &host, &url, Some("alice"), &body).await;
    let twin = post_json(&client, &host, PARSE_ONLY, Some("alice"), &body).await;
    assert_eq!(action.status, 200, "{action:?}");
    assert_eq!(twin.status, 200, "{twin:?}");
    assert_eq!(twin.body, action.body);
    // It verifies nothing: a flipped signature changes nothing there (and is refused by the
    // action).
    let flipped =
        json!({"token": flip_signature_byte(&token), "input": {"qty": 2, "note": "bench"}});
    let twin = post_json(&client, &host, PARSE_ONLY, Some("alice"), &flipped).await;
    assert_eq!(twin.body, action.body);
    let refused = post_json(&client, &host, &url, Some("alice"), &flipped).await;
    assert_eq!(refused.status, 401);
    // The same body cap as the action's.
    let padding = "x".repeat(1024 * 1024);
    let big = json!({"token": token, "input": {"note": padding}}).to_string();
    let answer = post_oversized(&client, &host, PARSE_ONLY, Some("alice"), &big).await;
    assert_refused(&answer, 413, "too_large", &token);
}

/// The naive panel's click reads its body under its own 64 KiB cap, and refuses more with the
/// same 413 problem+json as the actions (not axum's text/plain answer above 2 MiB).
#[tokio::test]
async fn an_oversized_naive_click_is_a_413_problem() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let client = fresh_client();
    for size in [100 * 1024, 3 * 1024 * 1024] {
        let padding = "x".repeat(size);
        let body = json!({"token": "naive:w1/pid1:1", "input": {"note": padding}}).to_string();
        let answer = post_oversized(
            &client,
            &host,
            "/api/plugins/naive-stock/actions/transfer",
            Some("alice"),
            &body,
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (413, "too_large"),
            "{answer:?}"
        );
    }
}

/// A GET (wrong method) on an action URL: 405 problem+json with a stable code, and `Allow`.
#[tokio::test]
async fn a_wrong_method_on_an_action_url_is_a_405_problem_with_allow() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let client = fresh_client();
    for path in [
        "/api/plugins/stock-tools/actions/confirm-transfer",
        "/api/plugins/stock-tools/actions/transfer",
        "/api/plugins/naive-stock/actions/transfer",
    ] {
        let res = client.get(host.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 405, "{path}");
        let allow = res.headers().get("allow").and_then(|v| v.to_str().ok());
        assert!(
            allow.is_some_and(|a| a.contains("POST")),
            "{path}: {allow:?}"
        );
        assert_problem_headers(&res, path);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed", "{path}: {body}");
        assert_eq!(body["status"], 405, "{body}");
    }
}

/// A URL no route serves (an unknown plugin, action or page), with any method: 404
/// problem+json with the stable code `not_found`, which does not repeat the path.
#[tokio::test]
async fn an_unknown_url_is_a_404_problem_with_a_stable_code() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let client = fresh_client();
    for (method, path) in [
        ("GET", "/api/plugins/nope/panels"),
        ("POST", "/api/plugins/stock-tools/actions/nope"),
        ("GET", "/no-such-page-eyJhbGciOi"),
    ] {
        let res = client
            .request(method.parse().unwrap(), host.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} {path}");
        assert!(res.headers().contains_key("tessera-worker"), "{path}");
        assert_problem_headers(&res, &format!("{method} {path}"));
        let text = res.text().await.unwrap();
        assert!(!text.contains("eyJhbGciOi"), "the path is echoed: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["code"], "not_found", "{method} {path}: {body}");
        assert_eq!(body["status"], 404, "{body}");
    }
}

/// The 405 problem's detail names the methods the URL answers, as its `Allow` header does
/// (the detail once read "this URL answers only " with nothing after it).
#[tokio::test]
async fn a_405_problem_names_the_allowed_methods_in_its_detail() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let client = fresh_client();
    for (method, path, allowed) in [
        ("GET", "/api/plugins/stock-tools/actions/transfer", "POST"),
        ("DELETE", "/api/plugins/stock-tools/panels", "GET"),
    ] {
        let res = client
            .request(method.parse().unwrap(), host.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        let allow = res
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = res.json().await.unwrap();
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            !allow.is_empty() && detail.ends_with(&allow) && detail.contains(allowed),
            "{method} {path}: Allow {allow:?}, detail {detail:?}"
        );
    }
}

/// A refusal the plugin's handler raises itself (a quantity the panel did not offer) is
/// logged with the action's route, like the extractor's refusals, and without the token.
#[tokio::test]
async fn a_refusal_raised_by_the_handler_is_logged_at_its_route() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let (url, token, _) = render(&host, "alice", TRANSFER).await;
    let refused = post_json(
        &fresh_client(),
        &host,
        &url,
        Some("alice"),
        &json!({"token": token, "input": {"qty": 0}}),
    )
    .await;
    assert_refused(&refused, 422, "bad_input", &token);
    let route = format!("route=\"{url}\"");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let logs = host.logs();
        let line = logs
            .lines()
            .find(|l| l.contains("request rejected") && l.contains("bad_input"));
        if let Some(line) = line {
            assert!(line.contains(&route), "{line}");
            assert!(
                line.contains("plugin:stock-tools/action:transfer"),
                "{line}"
            );
            assert!(!logs.contains(&token), "the token was logged:\n{logs}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no rejection logged:\n{logs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A repeated or invalid `X-Demo-User` (as a client adding its own copy would send it) is
/// `400 bad_identity` on the panels, the page and an action, and is never read as the
/// cookie's user or `guest`.
#[tokio::test]
async fn an_unusable_user_header_is_bad_identity_not_another_user() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let (url, token, _) = render(&host, "alice", TRANSFER).await;
    let client = fresh_client();
    for (path, body) in [
        (PANELS, None),
        ("/", None),
        (
            url.as_str(),
            Some(json!({"token": token, "input": {"qty": 1}})),
        ),
    ] {
        let request = match &body {
            Some(body) => client.post(host.url(path)).json(body),
            None => client.get(host.url(path)),
        };
        let res = request
            .header("x-demo-user", "alice")
            .header("x-demo-user", "mallory")
            .header("cookie", "tessera_demo_user=alice")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        assert_problem_headers(&res, path);
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["code"], "bad_identity", "{path}: {problem}");
        assert!(
            !problem.to_string().contains("mallory"),
            "{path}: {problem}"
        );
    }
    // A value that is not a user name (over 256 bytes) too; one clean header still works.
    let long = client
        .get(host.url(PANELS))
        .header("x-demo-user", "a".repeat(300))
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), 400);
    let ok = get(&client, &host, PANELS, Some("alice")).await;
    assert_eq!(ok.status, 200, "{ok:?}");
}
