//! Bodies over the cap are refused with 413 `too_large` without being read whole: by their
//! `Content-Length` before any byte is polled, and while streaming when there is no length (or
//! a false one).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::util::*;

const CHUNK: usize = 4 * 1024;

/// A body of `chunks` chunks of `CHUNK` bytes that counts how many were polled.
struct CountingBody {
    remaining: usize,
    polled: Arc<AtomicUsize>,
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.remaining -= 1;
        self.polled.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'{'; CHUNK])))))
    }

    fn size_hint(&self) -> SizeHint {
        // No exact length: like a chunked request.
        SizeHint::default()
    }
}

fn counting(chunks: usize) -> (Body, Arc<AtomicUsize>) {
    let polled = Arc::new(AtomicUsize::new(0));
    let body = Body::new(CountingBody {
        remaining: chunks,
        polled: polled.clone(),
    });
    (body, polled)
}

const MIB_CHUNKS: usize = 1024 * 1024 / CHUNK;

#[tokio::test]
async fn content_length_over_the_cap_is_refused_before_reading() {
    let app = app(state());
    let (body, polled) = counting(MIB_CHUNKS);
    let request = Request::post(TRANSFER.path())
        .header("content-type", "application/json")
        .header("content-length", (1024 * 1024).to_string())
        .body(body)
        .unwrap();
    assert_eq!(
        refusal(&app, request).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large".to_owned())
    );
    assert_eq!(polled.load(Ordering::SeqCst), 0, "the body was read");
}

#[tokio::test]
async fn streamed_body_over_the_cap_is_refused_while_streaming() {
    let app = app(state());
    let (body, polled) = counting(MIB_CHUNKS);
    let request = Request::post(TRANSFER.path())
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    assert_eq!(
        refusal(&app, request).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large".to_owned())
    );
    let polled = polled.load(Ordering::SeqCst);
    assert!(
        polled <= BODY_LIMIT / CHUNK + 1,
        "{polled} chunks of {MIB_CHUNKS} were read for a {BODY_LIMIT}-byte cap"
    );
}

#[tokio::test]
async fn lying_content_length_does_not_lift_the_cap() {
    let app = app(state());
    let (body, polled) = counting(MIB_CHUNKS);
    let request = Request::post(TRANSFER.path())
        .header("content-type", "application/json")
        .header("content-length", "10")
        .body(body)
        .unwrap();
    assert_eq!(
        refusal(&app, request).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large".to_owned())
    );
    assert!(polled.load(Ordering::SeqCst) <= BODY_LIMIT / CHUNK + 1);
}

#[tokio::test]
async fn body_just_under_the_cap_is_read() {
    // A valid click padded with input up to near the cap still works: the cap is not too tight.
    let app = app(state());
    let token = transfer_token("alice");
    let padding = "x".repeat(BODY_LIMIT - token.len() - 200);
    let body = serde_json::json!({"token": token, "input": {"note": padding, "count": 1}});
    let request = as_user(
        Request::post(TRANSFER.path())
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        "alice",
    );
    assert_eq!(call(&app, request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn invalid_content_length_is_malformed() {
    let app = app(state());
    let request = Request::post(TRANSFER.path())
        .header("content-type", "application/json")
        .header("content-length", "lots")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        refusal(&app, request).await,
        (StatusCode::BAD_REQUEST, "malformed".to_owned())
    );
}
