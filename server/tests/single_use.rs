//! Single-use routes (replay guard keyed on `jti`) and stale-state detection (`fpr`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tessera_protocol::FixedClock;
use tessera_server::replay::{
    GuardFuture, MemoryReplayGuard, ReleaseFuture, ReplayGuard, StoreUnavailable, Use,
};
use tessera_server::{Action, ActionRoute, ActionRouterExt, Caller, Rejection, TesseraState};

use crate::util::*;

const PAY: ActionRoute = ActionRoute::new("plugin:shop/action:pay", "/pay").single_use();
const MOVE: ActionRoute = ActionRoute::new("plugin:stock-tools/action:move", "/move");
/// Single-use, and its handler may refuse: 422 for `qty` over 5, 500 for `qty` 13.
const TAKE: ActionRoute = ActionRoute::new("plugin:shop/action:take", "/take").single_use();

/// Counts handler runs, so a test can prove a refused request never ran the action.
#[derive(Clone, Default)]
struct Runs(Arc<AtomicUsize>);

#[derive(Clone)]
struct AppState {
    tessera: TesseraState,
    runs: Runs,
    /// The current version of the part the MOVE button acts on.
    version: Arc<AtomicUsize>,
}

impl axum::extract::FromRef<AppState> for TesseraState {
    fn from_ref(s: &AppState) -> TesseraState {
        s.tessera.clone()
    }
}

async fn pay(State(s): State<AppState>, action: Action<Value>) -> Json<Value> {
    s.runs.0.fetch_add(1, Ordering::SeqCst);
    Json(json!({"paid": action.payload}))
}

/// Refuses (4xx) before doing anything when the input is not acceptable; fails (5xx) on 13.
async fn take(
    State(s): State<AppState>,
    action: Action<Value, Value>,
) -> Result<Json<Value>, Rejection> {
    let qty = action.input["qty"].as_u64().unwrap_or(0);
    if qty == 13 {
        return Err(Rejection::replay_unavailable("an unlucky failure"));
    }
    if qty > 5 {
        return Err(Rejection::bad_input("qty must be at most 5"));
    }
    s.runs.0.fetch_add(1, Ordering::SeqCst);
    Ok(Json(json!({"took": qty})))
}

async fn move_stock(
    State(s): State<AppState>,
    action: Action<Value>,
) -> Result<Json<Value>, Rejection> {
    let current = format!("part:1234:v{}", s.version.load(Ordering::SeqCst));
    action.require_fingerprint(&current)?;
    s.runs.0.fetch_add(1, Ordering::SeqCst);
    Ok(Json(json!({"moved": action.payload})))
}

async fn move_button(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<Value>, Rejection> {
    let current = format!("part:1234:v{}", s.version.load(Ordering::SeqCst));
    let button = s
        .tessera
        .button(&MOVE, "Move 25")
        .caller(who.as_ref())
        .payload(&json!({"qty": 25}))
        .fingerprint(&current)
        .mint()?;
    Ok(Json(serde_json::to_value(button).unwrap()))
}

fn app_with(guard: Option<Arc<dyn ReplayGuard>>) -> (Router, AppState) {
    let mut cfg = config(keys());
    if let Some(guard) = guard {
        cfg = cfg.with_shared_replay_guard(guard);
    }
    let state = AppState {
        tessera: cfg.build().unwrap(),
        runs: Runs::default(),
        version: Arc::new(AtomicUsize::new(1)),
    };
    let app = Router::new()
        .action(&PAY, pay)
        .action(&MOVE, move_stock)
        .action(&TAKE, take)
        .route("/move-button", get(move_button))
        .with_state(state.clone());
    (app, state)
}

fn pay_token(sub: &str) -> String {
    minter()
        .token(PAY.id().as_str())
        .subject(sub)
        .payload(&json!({"amount": 10}))
        .mint()
        .unwrap()
}

fn memory_guard() -> Arc<dyn ReplayGuard> {
    Arc::new(MemoryReplayGuard::with_clock(
        1000,
        Arc::new(FixedClock(NOW)),
    ))
}

#[tokio::test]
async fn a_single_use_token_runs_once_and_then_is_replayed() {
    let (app, state) = app_with(Some(memory_guard()));
    let token = pay_token("alice");
    let (status, body) = call(
        &app,
        as_user(json_click("/pay", Some(&token), None), "alice"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, code) = refusal(
        &app,
        as_user(json_click("/pay", Some(&token), None), "alice"),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "replayed"));
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 1);
    // Another token for the same action is a new first use.
    let (status, _) = call(
        &app,
        as_user(json_click("/pay", Some(&pay_token("alice")), None), "alice"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_posts_of_one_token_give_one_success_and_49_replayed() {
    let (app, state) = app_with(Some(memory_guard()));
    let token = pay_token("alice");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let app = app.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let response = send(
                &app,
                as_user(json_click("/pay", Some(&token), None), "alice"),
            )
            .await;
            response.status()
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 49));
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_token_or_bad_input_does_not_use_up_the_token() {
    let (app, state) = app_with(Some(memory_guard()));
    let token = pay_token("alice");
    // Another user's click is refused before the guard is consulted...
    let (status, code) =
        refusal(&app, as_user(json_click("/pay", Some(&token), None), "bob")).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "wrong_subject")
    );
    // ...so the owner's first click still runs.
    let (status, _) = call(
        &app,
        as_user(json_click("/pay", Some(&token), None), "alice"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_single_use_route_without_a_guard_fails_closed() {
    let (app, state) = app_with(None);
    let (status, code) = refusal(
        &app,
        as_user(json_click("/pay", Some(&pay_token("alice")), None), "alice"),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "replay_unavailable")
    );
    assert_eq!(
        state.runs.0.load(Ordering::SeqCst),
        0,
        "the action never runs unguarded"
    );
}

#[derive(Debug)]
struct DownStore;

impl ReplayGuard for DownStore {
    fn first_use<'a>(&'a self, _: &'a str, _: &'a str, _: u64) -> GuardFuture<'a> {
        Box::pin(async {
            Err(StoreUnavailable {
                reason: "store is down".to_owned(),
            })
        })
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a str) -> ReleaseFuture<'a> {
        Box::pin(async {
            Err(StoreUnavailable {
                reason: "store is down".to_owned(),
            })
        })
    }
}

#[tokio::test]
async fn an_unreachable_store_fails_closed_with_503() {
    let (app, state) = app_with(Some(Arc::new(DownStore)));
    let (status, code) = refusal(
        &app,
        as_user(json_click("/pay", Some(&pay_token("alice")), None), "alice"),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "replay_unavailable")
    );
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn routes_not_marked_single_use_stay_stateless() {
    // MOVE is not single-use: the same token works twice and the guard is never touched.
    let guard = Arc::new(MemoryReplayGuard::with_clock(
        1000,
        Arc::new(FixedClock(NOW)),
    ));
    let (app, _) = app_with(Some(guard.clone()));
    let (_, button) = call(
        &app,
        as_user(
            axum::http::Request::get("/move-button")
                .body(axum::body::Body::empty())
                .unwrap(),
            "alice",
        ),
    )
    .await;
    let token = button["token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (status, _) = call(
            &app,
            as_user(json_click("/move", Some(&token), None), "alice"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert!(guard.is_empty());
}

#[tokio::test]
async fn memory_guard_is_bounded_and_drops_expired_entries() {
    let clock = Arc::new(FixedClock(NOW));
    let guard = MemoryReplayGuard::with_clock(2, clock);
    assert_eq!(
        guard.first_use("s", "a", NOW + 10).await.unwrap(),
        Use::First
    );
    assert_eq!(
        guard.first_use("s", "b", NOW + 10).await.unwrap(),
        Use::First
    );
    // Full of live entries: fail closed rather than evict (eviction would allow a replay).
    assert!(guard.first_use("s", "c", NOW + 10).await.is_err());
    assert_eq!(
        guard.first_use("s", "a", NOW + 10).await.unwrap(),
        Use::Replayed
    );
    // Expired entries are dropped to make room.
    let later = MemoryReplayGuard::with_clock(2, Arc::new(FixedClock(NOW + 100)));
    assert_eq!(
        later.first_use("s", "a", NOW + 10).await.unwrap(),
        Use::First
    );
    assert_eq!(
        later.first_use("s", "b", NOW + 10).await.unwrap(),
        Use::First
    );
    assert_eq!(
        later.first_use("s", "c", NOW + 200).await.unwrap(),
        Use::First,
        "expired a and b were purged"
    );
    assert_eq!(later.len(), 1);
}

#[tokio::test]
async fn a_click_after_the_state_changed_is_stale_and_before_it_succeeds() {
    let (app, state) = app_with(Some(memory_guard()));
    let get_button = || {
        as_user(
            axum::http::Request::get("/move-button")
                .body(axum::body::Body::empty())
                .unwrap(),
            "alice",
        )
    };
    let (_, button) = call(&app, get_button()).await;
    let token = button["token"].as_str().unwrap().to_owned();
    let (status, body) = call(
        &app,
        as_user(json_click("/move", Some(&token), None), "alice"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Someone else changes the part: the old button is now stale.
    state.version.store(2, Ordering::SeqCst);
    let (status, code) = refusal(
        &app,
        as_user(json_click("/move", Some(&token), None), "alice"),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "stale"));
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 1);
    // A freshly rendered button works again.
    let (_, fresh) = call(&app, get_button()).await;
    let (status, _) = call(
        &app,
        as_user(
            json_click("/move", Some(fresh["token"].as_str().unwrap()), None),
            "alice",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A token without any fingerprint is stale on a route that requires one.
    let bare = minter()
        .token(MOVE.id().as_str())
        .subject("alice")
        .payload(&json!({"qty": 25}))
        .mint()
        .unwrap();
    let (status, code) = refusal(
        &app,
        as_user(json_click("/move", Some(&bare), None), "alice"),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "stale"));
}

fn take_token(sub: &str) -> String {
    minter()
        .token(TAKE.id().as_str())
        .subject(sub)
        .payload(&json!({}))
        .mint()
        .unwrap()
}

/// spec §10.1: a click the handler refuses (4xx: it did not act) does not use up the token;
/// a click that ran (2xx) does, and so does one that failed (5xx: it may have acted).
#[tokio::test]
async fn a_click_the_handler_refuses_does_not_use_up_the_token() {
    let (app, state) = app_with(Some(memory_guard()));
    let token = take_token("alice");
    let click = |qty: u64| {
        as_user(
            json_click("/take", Some(&token), Some(json!({"qty": qty}))),
            "alice",
        )
    };
    let (status, code) = refusal(&app, click(9)).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "bad_input")
    );
    let (status, code) = refusal(&app, click(8)).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "bad_input")
    );
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 0);
    // Still usable after two refusals: it runs once, then is used up.
    let (status, body) = call(&app, click(2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["took"], 2);
    let (status, code) = refusal(&app, click(2)).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "replayed"));
    // A refusal after the success does not free it either: the record stays.
    let (status, code) = refusal(&app, click(9)).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "replayed"));
    let (status, code) = refusal(&app, click(1)).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "replayed"));
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 1);

    // A server error (5xx) is never released: the handler may have acted.
    let token = take_token("alice");
    let click = |qty: u64| {
        as_user(
            json_click("/take", Some(&token), Some(json!({"qty": qty}))),
            "alice",
        )
    };
    let (status, _) = refusal(&app, click(13)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, code) = refusal(&app, click(1)).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "replayed"));
}

#[tokio::test]
async fn the_memory_guard_releases_a_record() {
    let guard = MemoryReplayGuard::with_clock(10, Arc::new(FixedClock(NOW)));
    let exp = NOW + 60;
    assert_eq!(guard.first_use("s", "j", exp).await.unwrap(), Use::First);
    guard.release("s", "j").await.unwrap();
    assert!(guard.is_empty());
    assert_eq!(guard.first_use("s", "j", exp).await.unwrap(), Use::First);
    assert_eq!(guard.first_use("s", "j", exp).await.unwrap(), Use::Replayed);
    // Releasing what is not recorded is not an error.
    guard.release("s", "other").await.unwrap();
}

/// A clock the test moves (the host's and its guard's: one clock).
#[derive(Debug)]
struct MovingClock(std::sync::atomic::AtomicU64);

impl tessera_protocol::Clock for MovingClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The memory guard, reached one second after the extractor verified the token when `late`
/// is set: a click in the last second of its token's validity, during which the second turns
/// over (a loaded worker, a blocking-pool hop for the file guard, a network round trip for
/// Redis).
#[derive(Debug)]
struct LateGuard {
    inner: MemoryReplayGuard,
    clock: Arc<MovingClock>,
    late: std::sync::atomic::AtomicBool,
}

impl ReplayGuard for LateGuard {
    fn first_use<'a>(&'a self, scope: &'a str, jti: &'a str, expires_at: u64) -> GuardFuture<'a> {
        if self.late.load(Ordering::SeqCst) {
            self.clock.0.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.first_use(scope, jti, expires_at)
    }

    fn release<'a>(&'a self, scope: &'a str, jti: &'a str) -> ReleaseFuture<'a> {
        self.inner.release(scope, jti)
    }
}

/// The record of a use lives exactly until the last second its token verifies (`exp` +
/// leeway), with no margin: a replay verified in that last second whose guard check lands in
/// the next one finds the record expired and runs the action again. The record must outlive
/// every instant at which its token can still pass verification (a margin past `exp` +
/// leeway, or the verifier's `now` handed to the guard).
#[tokio::test]
async fn a_replay_verified_in_the_tokens_last_second_is_still_refused() {
    let clock = Arc::new(MovingClock(std::sync::atomic::AtomicU64::new(NOW)));
    let guard = Arc::new(LateGuard {
        inner: MemoryReplayGuard::with_clock(1000, clock.clone()),
        clock: clock.clone(),
        late: std::sync::atomic::AtomicBool::new(false),
    });
    let state = AppState {
        tessera: config(keys())
            .with_clock(clock.clone())
            .with_shared_replay_guard(guard.clone())
            .build()
            .unwrap(),
        runs: Runs::default(),
        version: Arc::new(AtomicUsize::new(1)),
    };
    let app = Router::new().action(&PAY, pay).with_state(state.clone());
    let token = pay_token("alice"); // minted at NOW: exp NOW + 300, leeway 30
    let click = || as_user(json_click("/pay", Some(&token), None), "alice");
    let (status, body) = call(&app, click()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The token's last valid second: verification passes; the guard is reached a moment later.
    clock.0.store(NOW + 300 + 30 - 1, Ordering::SeqCst);
    guard.late.store(true, Ordering::SeqCst);
    let response = send(&app, click()).await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "the replay ran the single-use action again (runs: {})",
        state.runs.0.load(Ordering::SeqCst)
    );
    assert_eq!(state.runs.0.load(Ordering::SeqCst), 1);
}
