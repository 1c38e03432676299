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

    // The record expires at the token's expiry: an already-expired exp leaves nothing behind.
    let past = far_future() - 1200;
    let _ = guard.first_use("iss|aud", "jti-old", past).await;
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
