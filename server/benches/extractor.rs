//! What the [`Action`] extractor adds to a request, measured in process (no sockets).
//!
//! `cargo bench -p tessera-server` drives one axum router through `tower::ServiceExt::oneshot`
//! with three endpoints that answer the same JSON for the same request body
//! `{"token": "...", "input": {"qty": 1}}` and the same `X-Demo-User` identity:
//! - `parse-only`: axum's `Bytes` body, `serde_json` into `{token: String, input}`, the caller
//!   from the identity source, the payload built in the handler; nothing verified (the floor);
//! - `by-hand`: the same, plus `Verifier::verify` of the token called in the handler;
//! - `action`: [`Action<Payload, Option<Input>>`]: the body read under the cap, the envelope
//!   parsed, the HS256 token verified for the route's action and the caller, payload and input
//!   decoded.
//!
//! It then times the three again in one interleaved loop (round-robin batches, median per
//! batch) and prints what verification adds per request, how much of it is the extractor's own
//! work, and the parse-only / action ratio. The HTTP
//! benchmark (`bench/http.sh`) puts the same difference on top of hyper and the kernel.
//! Under `cargo test --benches` each endpoint runs once and the summary is skipped.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use criterion::Criterion;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tessera_protocol::{Algorithm, Expected, KeySet, json_rules};
use tessera_server::{
    Action, ActionRoute, ActionRouterExt, Caller, HeaderIdentity, Principal, TesseraConfig,
    TesseraState,
};
use tower::ServiceExt;

const TRANSFER: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:transfer",
    "/api/plugins/stock-tools/actions/transfer",
);
const PARSE_ONLY: &str = "/bench/parse-only";
const BY_HAND: &str = "/bench/by-hand";

/// The demo host's transfer payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Payload {
    part_id: u32,
    part_name: String,
    from: String,
    to: String,
    available: u32,
    rendered_by: String,
}

fn payload() -> Payload {
    Payload {
        part_id: 1234,
        part_name: "M3 hex bolt, stainless".to_owned(),
        from: "A1-04".to_owned(),
        to: "B2-11".to_owned(),
        available: 240,
        rendered_by: "w1/pid4242".to_owned(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct Input {
    qty: Option<u32>,
    note: Option<String>,
}

fn result(payload: &Payload, input: &Input, user: Option<&Principal>) -> Value {
    let qty = input.qty.unwrap_or(1);
    json!({
        "action": "transfer",
        "moved": qty,
        "part_id": payload.part_id,
        "from": payload.from,
        "to": payload.to,
        "remaining_at_source": payload.available - qty,
        "note": input.note,
        "user": user,
        "rendered_by": payload.rendered_by,
    })
}

async fn transfer(action: Action<Payload, Option<Input>>) -> Json<Value> {
    let input = action.input.unwrap_or_default();
    Json(result(&action.payload, &input, action.principal.as_ref()))
}

/// The body as the extractor reads it: the token borrowed, the input kept raw and typed under
/// the JSON rules.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Click<'a> {
    #[serde(borrow)]
    token: Cow<'a, str>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
}

impl Click<'_> {
    fn input(&self) -> Result<Input, StatusCode> {
        match self.input.filter(|raw| raw.get() != "null") {
            Some(raw) => json_rules::from_str::<Option<Input>>(raw.get())
                .map(Option::unwrap_or_default)
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY),
            None => Ok(Input::default()),
        }
    }
}

async fn parse_only(
    State(_): State<TesseraState>,
    Caller(who): Caller,
    body: Bytes,
) -> Result<Json<Value>, StatusCode> {
    let click: Click = serde_json::from_slice(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
    black_box(&click.token);
    let input = click.input()?;
    Ok(Json(result(&payload(), &input, who.as_ref())))
}

/// The same verification called by hand in the handler, without the extractor: shows what the
/// extractor itself adds (envelope, identity, route binding) beyond `Verifier::verify`.
async fn by_hand(
    State(state): State<TesseraState>,
    Caller(who): Caller,
    body: Bytes,
) -> Result<Json<Value>, StatusCode> {
    let click: Click = serde_json::from_slice(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let user = who.as_ref().ok_or(StatusCode::FORBIDDEN)?;
    let route = TRANSFER;
    let expected = Expected::audience(route.id().as_str()).subject(user.as_str());
    let verified = state
        .verifier()
        .verify::<Payload>(&click.token, &expected)
        .map_err(|_| StatusCode::FORBIDDEN)?;
    let input = click.input()?;
    Ok(Json(result(&verified.claims.dat, &input, who.as_ref())))
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: Router,
    body: Bytes,
}

impl Fixture {
    fn new() -> Fixture {
        let keys = KeySet::generate(Algorithm::Hs256).expect("HS256 key set");
        let state = TesseraConfig::new(keys, "inventree")
            .with_identity(HeaderIdentity::new(HeaderName::from_static("x-demo-user")))
            .build()
            .expect("tessera state");
        let token = state
            .button(&TRANSFER, "Transfer")
            .caller(Some(&Principal::new("bench")))
            .payload(&payload())
            .mint()
            .expect("button")
            .token;
        let body = Bytes::from(json!({"token": token, "input": {"qty": 1}}).to_string());
        let app = Router::new()
            .action(&TRANSFER, transfer)
            .route(PARSE_ONLY, post(parse_only))
            .route(BY_HAND, post(by_hand))
            .with_state(state);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        Fixture { runtime, app, body }
    }

    /// Sends one request to `path` and returns the response body.
    async fn call(&self, path: &str) -> Bytes {
        let request = Request::post(path)
            .header("content-type", "application/json")
            .header("x-demo-user", "bench")
            .body(Body::from(self.body.clone()))
            .expect("request");
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("response body")
    }

    /// Runs `n` requests to `path` and returns the mean time per request.
    fn run(&self, path: &str, n: u32) -> Duration {
        self.runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..n {
                black_box(self.call(path).await);
            }
            start.elapsed() / n
        })
    }
}

fn criterion_groups(c: &mut Criterion, f: &Fixture) {
    // The three endpoints answer the same document.
    let route = TRANSFER;
    let [action, floor, by_hand] = f.runtime.block_on(async {
        [
            f.call(route.path()).await,
            f.call(PARSE_ONLY).await,
            f.call(BY_HAND).await,
        ]
    });
    assert_eq!(action, floor, "the endpoints must answer the same body");
    assert_eq!(action, by_hand, "the endpoints must answer the same body");
    let mut group = c.benchmark_group("extractor");
    group.bench_function("parse-only", |b| {
        b.iter_custom(|n| f.run(PARSE_ONLY, n as u32) * n as u32)
    });
    group.bench_function("by-hand", |b| {
        b.iter_custom(|n| f.run(BY_HAND, n as u32) * n as u32)
    });
    group.bench_function("action", |b| {
        b.iter_custom(|n| f.run(TRANSFER.path(), n as u32) * n as u32)
    });
    group.finish();
}

/// Interleaved timing of the three endpoints; returns the medians (parse-only, by hand,
/// action) in ns per request.
fn summary(f: &Fixture) -> [f64; 3] {
    const BATCH: u32 = 2_000;
    const ROUNDS: usize = 41;
    let route = TRANSFER;
    let paths = [PARSE_ONLY, BY_HAND, route.path()];
    let mut times: [Vec<f64>; 3] = Default::default();
    for path in paths {
        f.run(path, BATCH);
    }
    for _ in 0..ROUNDS {
        for (path, times) in paths.iter().zip(&mut times) {
            times.push(f.run(path, BATCH).as_nanos() as f64);
        }
    }
    times.map(|mut t| median(&mut t))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Whether criterion runs in benchmark mode (`cargo bench`), not test (`cargo test --benches`),
/// list or profile mode: the same rule as criterion's own argument parsing.
fn benchmark_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench")
        && !has("--test")
        && !has("--list")
        && !args.iter().any(|a| a.starts_with("--profile-time"))
}

fn main() {
    let f = Fixture::new();
    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &f);
    c.final_summary();
    if !benchmark_mode() {
        println!(
            "extractor summary skipped (not in benchmark mode); every endpoint ran and checked"
        );
        return;
    }
    let [floor, by_hand, action] = summary(&f);
    println!();
    println!("extractor summary (interleaved, median of 41 batches of 2000 requests):");
    println!("  parse-only  {floor:8.0} ns/request");
    println!("  by hand     {by_hand:8.0} ns/request   (Verifier::verify called in the handler)");
    println!("  action      {action:8.0} ns/request   (the Action extractor)");
    println!(
        "  verification adds {:.0} ns per request, of which the extractor's own work {:.0} ns;",
        action - floor,
        action - by_hand
    );
    println!("  parse-only / action = {:.3}", floor / action);
}
