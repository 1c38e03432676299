//! Single-use actions across worker processes: 4 workers sharing one `redis-server` (started
//! here on an ephemeral loopback port) count a button once however many concurrent clicks
//! reach however many workers; a stopped Redis makes the single-use action fail closed while
//! the other actions keep working. Needs `--features redis` and `redis-server` on PATH
//! (`.ci/run` installs it).

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::host::{Host, fresh_client};
use serde_json::json;

use crate::single_use::tally;
use crate::util::{
    CONFIRM_TRANSFER, INITIAL_SHELF, KeyDir, PANELS, RETURN_ALL, SHELF, TRANSFER, button, get,
    post_concurrently, post_json, start_host, url_and_token,
};

const CLICKS: usize = 50;
const USER: Option<&str> = Some("dora");

/// A `redis-server` child on 127.0.0.1, without persistence; killed on drop.
pub(crate) struct RedisServer {
    child: Option<Child>,
    pub(crate) port: u16,
}

impl RedisServer {
    /// Starts one on a free port.
    pub(crate) fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        RedisServer::start_on(port)
    }

    /// Starts one on `port` and waits (at most 10 s) until it accepts connections.
    pub(crate) fn start_on(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install redis-server)");
        let mut server = RedisServer {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(Ok(Some(status))) = server.child.as_mut().map(Child::try_wait) {
                panic!("redis-server exited ({status}) instead of listening on {port}");
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn confirm_button(host: &Host) -> (String, String) {
    let panels = get(&fresh_client(), host, PANELS, USER).await;
    assert_eq!(panels.status, 200, "{panels:?}");
    url_and_token(button(&panels.body, CONFIRM_TRANSFER))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_sharing_redis_run_a_single_use_click_once_and_fail_closed_without_it() {
    let mut redis = RedisServer::start();
    let keys = KeyDir::new();
    let store = redis.url();
    let host = start_host(4, &keys, &["--replay-store", &store]);
    let client = fresh_client();

    // 50 concurrent clicks of one button over fresh connections: exactly one runs.
    let (url, token) = confirm_button(&host).await;
    let body = json!({"token": token, "input": {"qty": 4}});
    let answers = post_concurrently(&host, &url, USER, &body, CLICKS).await;
    let (ok, replayed) = tally(&answers);
    assert_eq!((ok.len(), replayed.len()), (1, CLICKS - 1), "{answers:?}");
    let workers: BTreeSet<_> = answers.iter().map(|a| a.worker.clone()).collect();
    assert!(
        workers.len() >= 2,
        "the clicks reached several worker processes: {workers:?}"
    );
    // Workers that never ran the token refuse it too: the guard is shared.
    let ran = &ok[0].worker;
    assert!(
        replayed.iter().any(|a| &a.worker != ran),
        "some replay was refused by a worker that did not run it"
    );
    let ledger = keys.ledger().expect("the one run changed the ledger");
    assert_eq!(ledger["version"], 2, "{ledger}");
    assert_eq!(ledger["stock"][SHELF], INITIAL_SHELF - 4, "{ledger}");

    // Later replays, one at a time, wherever they land: refused.
    let mut refused_by = BTreeSet::new();
    for _ in 0..40 {
        let again = post_json(&client, &host, &url, USER, &body).await;
        assert_eq!((again.status, again.code()), (409, "replayed"), "{again:?}");
        refused_by.insert(again.worker);
        if refused_by.len() == 4 {
            break;
        }
    }
    assert!(refused_by.len() >= 2, "{refused_by:?}");

    // Redis stops: the single-use action fails closed on every worker and does not run.
    // (Until every worker has failed once, so that each drops its dead connection.)
    redis.stop();
    let mut unavailable_on = BTreeSet::new();
    for _ in 0..60 {
        let (url, token) = confirm_button(&host).await;
        let click = post_json(
            &client,
            &host,
            &url,
            USER,
            &json!({"token": token, "input": {"qty": 1}}),
        )
        .await;
        assert_eq!(
            (click.status, click.code()),
            (503, "replay_unavailable"),
            "{click:?}"
        );
        assert!(!click.body.to_string().contains(&store), "{click:?}");
        unavailable_on.insert(click.worker);
        if unavailable_on.len() == 4 {
            break;
        }
    }
    assert_eq!(unavailable_on.len(), 4, "{unavailable_on:?}");
    assert_eq!(
        keys.ledger().unwrap()["version"],
        2,
        "nothing ran unguarded"
    );

    // The other actions never touch the store: they keep working.
    let panels = get(&client, &host, PANELS, USER).await;
    let (url, token) = url_and_token(button(&panels.body, TRANSFER));
    let transfer = post_json(
        &client,
        &host,
        &url,
        USER,
        &json!({"token": token, "input": {"qty": 1}}),
    )
    .await;
    assert_eq!(transfer.status, 200, "{transfer:?}");
    let (url, token) = url_and_token(button(&panels.body, RETURN_ALL));
    let back = post_json(&client, &host, &url, USER, &json!({"token": token})).await;
    assert_eq!(back.status, 200, "{back:?}");
    assert_eq!(back.body["version"], 3);

    // Redis back on the same address: the guards reconnect and single use works again.
    let redis = RedisServer::start_on(redis.port);
    let (url, token) = confirm_button(&host).await;
    let body = json!({"token": token, "input": {"qty": 1}});
    let answers = post_concurrently(&host, &url, USER, &body, 10).await;
    let (ok, replayed) = tally(&answers);
    assert_eq!((ok.len(), replayed.len()), (1, 9), "{answers:?}");
    drop(host);
    drop(redis);
}

/// Two hosts — each with its own data folder and 2 workers, two machines in all but name —
/// with the same key file and one Redis server: a button rendered by one host works on the
/// other, and a single-use button clicked on both at once runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hosts_sharing_keys_and_redis_take_each_others_buttons_and_run_a_single_use_once() {
    let redis = RedisServer::start();
    let store = redis.url();
    let keys_a = KeyDir::new();
    let host_a = start_host(2, &keys_a, &["--replay-store", &store]);
    // The same keys in another folder: host B's data folder is its own.
    let keys_b = KeyDir::new();
    std::fs::copy(keys_a.path(), keys_b.path()).unwrap();
    let host_b = start_host(2, &keys_b, &["--replay-store", &store]);
    assert_ne!(keys_a.data_folder_id(), keys_b.data_folder_id());

    // Rendered on A, clicked on B (and the reverse).
    for (render, click) in [(&host_a, &host_b), (&host_b, &host_a)] {
        let panels = get(&fresh_client(), render, PANELS, USER).await;
        let (url, token) = url_and_token(button(&panels.body, TRANSFER));
        let done = post_json(
            &fresh_client(),
            click,
            &url,
            USER,
            &json!({"token": token, "input": {"qty": 2}}),
        )
        .await;
        assert_eq!(done.status, 200, "{done:?}");
        assert_eq!(done.body["rendered_by"], panels.body["rendered_by"]);
    }

    // One single-use button, rendered on A, clicked 20 times on each host at once.
    let (url, token) = confirm_button(&host_a).await;
    let body = json!({"token": token, "input": {"qty": 3}});
    let (on_a, on_b) = tokio::join!(
        post_concurrently(&host_a, &url, USER, &body, 20),
        post_concurrently(&host_b, &url, USER, &body, 20),
    );
    let answers: Vec<_> = on_a.into_iter().chain(on_b).collect();
    let (ok, replayed) = tally(&answers);
    assert_eq!((ok.len(), replayed.len()), (1, 39), "{answers:?}");
    // It moved stock once, in the ledger of the host that ran it.
    let moved: u64 = [keys_a.ledger(), keys_b.ledger()]
        .iter()
        .flatten()
        .map(|ledger| INITIAL_SHELF - ledger["stock"][SHELF].as_u64().unwrap())
        .sum();
    assert_eq!(moved, 3);
    drop((host_a, host_b));
    drop(redis);
}
