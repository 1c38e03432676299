//! The Redis replay guard against a real `redis-server` started on an ephemeral port.
//! Needs the `redis` feature and `redis-server` on PATH (`.ci/run` installs it).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_server::replay::{RedisReplayGuard, ReplayGuard, Use};

/// A redis-server child, killed on drop.
pub(crate) struct RedisServer {
    child: Child,
    pub(crate) url: String,
}

impl RedisServer {
    pub(crate) fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        RedisServer::start_on(port)
    }

    pub(crate) fn start_on(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisServer {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        }
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn far_future() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_guard_records_first_use_atomically_and_fails_closed_when_stopped() {
    let mut redis = RedisServer::start();
    let guard = Arc::new(RedisReplayGuard::new(&redis.url).unwrap());
    let exp = far_future();
    assert_eq!(
        guard.first_use("iss|aud", "jti-1", exp).await.unwrap(),
        Use::First
    );
    assert_eq!(
        guard.first_use("iss|aud", "jti-1", exp).await.unwrap(),
        Use::Replayed
    );
    assert_eq!(
        guard.first_use("iss|other", "jti-1", exp).await.unwrap(),
        Use::First,
        "scoped by action"
    );

    // 50 concurrent first uses of one jti, each through its own guard (its own connection),
    // as separate processes would: exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let url = redis.url.clone();
        tasks.push(tokio::spawn(async move {
            let guard = RedisReplayGuard::new(&url).unwrap();
            guard.first_use("iss|aud", "jti-race", exp).await.unwrap()
        }));
    }
    let mut firsts = 0;
    for t in tasks {
        if t.await.unwrap() == Use::First {
            firsts += 1;
        }
    }
    assert_eq!(firsts, 1);

    // The record expires at the token's expiry: one for an already-expired exp lives for the
    // shortest lifetime Redis takes, one second, and is then gone.
    let past = far_future() - 1200;
    let _ = guard.first_use("iss|aud", "jti-old", past).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        guard.first_use("iss|aud", "jti-old", exp).await.unwrap(),
        Use::First
    );

    // A stopped store: fail closed, never "first use".
    redis.stop();
    assert!(guard.first_use("iss|aud", "jti-2", exp).await.is_err());
    let fresh = RedisReplayGuard::new(&redis.url).unwrap();
    assert!(fresh.first_use("iss|aud", "jti-3", exp).await.is_err());
}

#[test]
fn redis_guard_debug_never_prints_the_url() {
    let guard = RedisReplayGuard::new("redis://:hunter2@127.0.0.1:1/").unwrap();
    assert!(!format!("{guard:?}").contains("hunter2"));
}

#[tokio::test]
async fn redis_guard_reconnects_after_a_redis_restart_without_failing_a_click() {
    let mut redis = RedisServer::start();
    let port: u16 = redis
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let guard = RedisReplayGuard::new(&redis.url).unwrap();
    let exp = far_future();
    assert_eq!(
        guard.first_use("s", "before", exp).await.unwrap(),
        Use::First
    );
    redis.stop();
    let _restarted = RedisServer::start_on(port);
    // The cached connection is dead; the guard reconnects once instead of answering 503.
    assert_eq!(
        guard.first_use("s", "after", exp).await.unwrap(),
        Use::First
    );
    assert_eq!(
        guard.first_use("s", "after", exp).await.unwrap(),
        Use::Replayed
    );
}

#[tokio::test]
async fn redis_guard_release_deletes_the_record() {
    let redis = RedisServer::start();
    let guard = RedisReplayGuard::new(&redis.url).unwrap();
    let exp = far_future();
    assert_eq!(guard.first_use("s", "j", exp).await.unwrap(), Use::First);
    guard.release("s", "j").await.unwrap();
    assert_eq!(guard.first_use("s", "j", exp).await.unwrap(), Use::First);
    assert_eq!(guard.first_use("s", "j", exp).await.unwrap(), Use::Replayed);
    guard.release("s", "never-used").await.unwrap();
}

/// A host whose clock runs 2 minutes behind the Redis server's (two machines, NTP drift or a
/// VM resumed from a snapshot). The host still accepts the token (by its own clock it expires
/// in 60 s, plus the 30 s leeway); a guard that recorded it with `EXAT exp+leeway`, an absolute
/// time that Redis reads on *its* clock, where it has already passed, would see the record
/// dropped at once and the same token run again. The record's lifetime must not depend on
/// Redis's clock: the guard sends `EX until - host_now`.
#[tokio::test]
async fn a_host_clock_behind_redis_does_not_let_a_single_use_token_run_twice() {
    use axum::Router;
    use axum::http::StatusCode;
    use tessera_protocol::{FixedClock, Minter};
    use tessera_server::{Action, ActionRoute, ActionRouterExt};

    use crate::util::*;

    const ONCE: ActionRoute = ActionRoute::new("plugin:shop/action:once", "/once").single_use();
    async fn once(_action: Action<serde_json::Value>) -> &'static str {
        "ran"
    }

    let redis = RedisServer::start();
    let real_now = far_future() - 600;
    let host_now = real_now - 120;
    let host_clock = Arc::new(FixedClock(host_now));
    let state = config(keys())
        .with_clock(host_clock.clone())
        .with_replay_guard(RedisReplayGuard::new(&redis.url).unwrap())
        .build()
        .unwrap();
    let app: Router = Router::new().action(&ONCE, once).with_state(state);
    let token = Minter::new(keys(), ISS)
        .with_clock(host_clock)
        .token(ONCE.id().as_str())
        .subject("alice")
        .ttl(Duration::from_secs(60))
        .payload(&serde_json::json!({}))
        .mint()
        .unwrap();
    let click = || as_user(json_click("/once", Some(&token), None), "alice");
    let (status, _) = call(&app, click()).await;
    assert_eq!(status, StatusCode::OK, "the first click runs");
    let response = send(&app, click()).await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "the second click of a single-use token the host still accepts must be `replayed`"
    );
}
