//! Over a real socket (127.0.0.1, ephemeral port): render, click, refusals and a 1 MiB body.

use std::net::SocketAddr;

use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::util::*;

async fn serve() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app(state());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

#[tokio::test]
async fn render_then_click_over_http() {
    let (addr, task) = serve().await;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let panel: Value = client
        .get(format!("{base}/panels"))
        .header(USER_HEADER, "alice")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let button = &panel["buttons"][0];
    let url = format!("{base}{}", button["url"].as_str().unwrap());
    let click = json!({"token": button["token"], "input": {"note": "n", "count": 2}});

    let response = client
        .post(&url)
        .header(USER_HEADER, "alice")
        .json(&click)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["payload"]["part_id"], 1234);
    assert_eq!(body["input"]["count"], 2);

    // Bob's click with alice's button.
    let response = client
        .post(&url)
        .header(USER_HEADER, "bob")
        .json(&click)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "wrong_subject");

    // JWKS and the click script are there too.
    let jwks = client
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let script = client
        .get(format!("{base}/tessera/click.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    task.abort();
}

/// A click whose only fault is its size: a valid token for the caller, with 1 MiB of input.
/// (A 1 MiB *token* would be refused `too_large` by the token length cap even with no body
/// cap at all, so it would prove nothing about the body cap.)
#[tokio::test]
async fn one_mebibyte_body_is_refused_over_http() {
    let (addr, task) = serve().await;
    let url = format!("http://{addr}{}", TRANSFER.path());
    let padding = "x".repeat(1024 * 1024);
    let click = json!({"token": transfer_token("alice"), "input": {"note": padding, "count": 1}});
    let response = reqwest::Client::new()
        .post(&url)
        .header(USER_HEADER, "alice")
        .json(&click)
        .send()
        .await;
    // The server answers 413 from the Content-Length, before the body; the client may still be
    // writing it, so a reset while sending is the other acceptable outcome (the body was not read).
    match response {
        Ok(response) => {
            assert_eq!(response.status(), 413);
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], "too_large");
        }
        Err(err) => assert!(err.is_request() || err.is_body(), "{err}"),
    }
    task.abort();
}
