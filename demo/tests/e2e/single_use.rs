//! Single-use actions: the host's default file replay store counts a button once across
//! every worker process; the in-memory store counts it once per worker process (what `--help`
//! and the page say); a refused click does not use the button up; a bad `--replay-store`
//! stops the host at startup.

use std::collections::BTreeSet;
use std::process::Command;

use crate::host::{fresh_client, server_binary};
use serde_json::json;

use crate::util::{
    Answer, CONFIRM_TRANSFER, INITIAL_BIN, INITIAL_SHELF, KeyDir, PANELS, SHELF, button, get,
    post_concurrently, post_json, run_to_exit, start_host, url_and_token,
};

const CLICKS: usize = 50;

/// Splits answers into (successes, `replayed` refusals), asserting there is nothing else.
pub(crate) fn tally(answers: &[Answer]) -> (Vec<&Answer>, Vec<&Answer>) {
    let (ok, refused): (Vec<&Answer>, Vec<&Answer>) = answers.iter().partition(|a| a.status == 200);
    for answer in &refused {
        assert_eq!(answer.status, 409, "{answer:?}");
        assert_eq!(answer.code(), "replayed", "{answer:?}");
    }
    (ok, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_worker_with_the_memory_store_runs_a_single_use_click_once_of_fifty() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &["--replay-store", "memory"]);
    let client = fresh_client();
    let panels = get(&client, &host, PANELS, Some("alice")).await;
    assert_eq!(panels.status, 200, "{panels:?}");
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    assert!(keys.ledger().is_none(), "no change yet");

    let body = json!({"token": token, "input": {"qty": 2}});
    let answers = post_concurrently(&host, &url, Some("alice"), &body, CLICKS).await;
    let (ok, replayed) = tally(&answers);
    assert_eq!((ok.len(), replayed.len()), (1, CLICKS - 1), "{answers:?}");
    let done = ok[0];
    assert_eq!(done.body["moved"], 2);
    assert_eq!(done.body["single_use"], true);
    assert_eq!(done.body["version"], 2);
    for refusal in &replayed {
        assert!(
            !refusal.body.to_string().contains(&token),
            "a refusal never echoes the token"
        );
    }

    // The action ran exactly once: one change in the shared ledger.
    let ledger = keys.ledger().expect("the first change wrote the ledger");
    assert_eq!(ledger["version"], 2);
    assert_eq!(ledger["stock"][SHELF], INITIAL_SHELF - 2);

    // Still used up later, over a new connection.
    let again = post_json(&client, &host, &url, Some("alice"), &body).await;
    assert_eq!((again.status, again.code()), (409, "replayed"));

    // A freshly rendered button is a new token: it runs once too.
    let panels = get(&client, &host, PANELS, Some("alice")).await;
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    let fresh = post_json(
        &client,
        &host,
        &url,
        Some("alice"),
        &json!({"token": token, "input": {"qty": 3}}),
    )
    .await;
    assert_eq!(fresh.status, 200, "{fresh:?}");
    assert_eq!(fresh.body["version"], 3);
    let ledger = keys.ledger().unwrap();
    assert_eq!(ledger["stock"][SHELF], INITIAL_SHELF - 5);
    assert_eq!(
        ledger["stock"][crate::util::BIN],
        INITIAL_BIN + 5,
        "{ledger}"
    );
    // One worker: nothing to warn about.
    let (_, logs) = host.stop_with_logs();
    assert!(
        !logs.contains("--replay-store memory with several workers"),
        "{logs}"
    );
}

/// What `--help` and the page warn about: each worker's in-memory guard knows only the clicks
/// it handled, so a single-use button is bound to the memory of the worker that rendered it:
/// a click that reaches another worker is refused as `stale` instead of running again (it ran
/// again before the binding). (The default file store serves every worker of one machine, see
/// below; the Redis store, `--features redis`, every machine: see `redis_replay`.)
#[tokio::test]
async fn with_the_memory_store_a_single_use_button_runs_once_on_its_own_worker_only() {
    let keys = KeyDir::new();
    let host = start_host(4, &keys, &["--replay-store", "memory"]);
    let client = fresh_client();
    let panels = get(&client, &host, PANELS, Some("bob")).await;
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    let body = json!({"token": token, "input": {"qty": 1}});

    let mut ran_on = Vec::new();
    let mut stale_on = BTreeSet::new();
    let mut replayed_on = BTreeSet::new();
    for _ in 0..200 {
        let click = post_json(&client, &host, &url, Some("bob"), &body).await;
        if click.status == 200 {
            ran_on.push(click.worker.clone());
            continue;
        }
        match (click.status, click.code()) {
            (409, "stale") => {
                stale_on.insert(click.worker.clone());
            }
            (409, "replayed") => {
                replayed_on.insert(click.worker.clone());
            }
            _ => panic!("{click:?}"),
        }
        if !ran_on.is_empty() && !stale_on.is_empty() && !replayed_on.is_empty() {
            break;
        }
    }
    assert_eq!(ran_on.len(), 1, "the button ran on {ran_on:?}");
    assert!(!stale_on.is_empty(), "no click reached another worker");
    assert!(
        !stale_on.contains(&ran_on[0]),
        "only other workers call it stale: {stale_on:?} vs {ran_on:?}"
    );
    assert_eq!(
        replayed_on.iter().collect::<Vec<_>>(),
        [&ran_on[0]],
        "the worker that ran it refuses it as used"
    );
    // One run moved one unit.
    let ledger = keys.ledger().unwrap();
    assert_eq!(ledger["stock"][SHELF], INITIAL_SHELF - 1, "{ledger}");
    // The host said so when it started, once.
    let (_, logs) = host.stop_with_logs();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("--replay-store memory with several workers"))
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
}

/// Whether the binary under test says it has Redis support.
fn binary_has_redis() -> bool {
    let out = Command::new(server_binary())
        .arg("--help")
        .output()
        .expect("--help runs");
    String::from_utf8_lossy(&out.stdout).contains(crate::host::REDIS_BUILD_MARKER)
}

#[test]
fn a_bad_replay_store_stops_the_host_at_startup_without_echoing_it() {
    let keys = KeyDir::new();
    let key_arg = keys.arg();
    // Runs the host with `store` as --replay-store until it exits.
    let with_store = |store: &str| {
        run_to_exit(&[
            "--bind",
            "127.0.0.1:0",
            "--keys",
            &key_arg,
            "--replay-store",
            store,
        ])
    };
    let (code, stderr) = with_store("memroy");
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("--replay-store must be `file`, `memory` or a Redis URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("memroy"), "{stderr}");

    let (code, stderr) = with_store("rediss://:hunter2@127.0.0.1:1/");
    assert_ne!(code, Some(0));
    assert!(stderr.contains("rediss://"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");

    // A build without the `redis` feature refuses redis:// and says how to get it. (A build
    // with it, as under `--features redis`, accepts the URL: the redis_replay tests use it.)
    if !binary_has_redis() {
        let (code, stderr) = with_store("redis://:hunter2@127.0.0.1:1/0");
        assert_ne!(code, Some(0));
        assert!(stderr.contains("built without Redis support"), "{stderr}");
        assert!(stderr.contains("--features redis"), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

/// spec §10.1: a click the action refuses (a quantity over the stock on hand: 422 bad_input)
/// does not use up the single-use button; the corrected click runs once, then it is used up.
#[tokio::test]
async fn a_refused_confirm_transfer_does_not_use_up_the_button() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let client = fresh_client();
    let panels = get(&client, &host, PANELS, Some("alice")).await;
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    for qty in [100_000, INITIAL_SHELF + 1] {
        let body = json!({"token": token, "input": {"qty": qty}});
        let refused = post_json(&client, &host, &url, Some("alice"), &body).await;
        assert_eq!(
            (refused.status, refused.code()),
            (422, "bad_input"),
            "{refused:?}"
        );
    }
    assert!(keys.ledger().is_none(), "nothing moved");
    let body = json!({"token": token, "input": {"qty": 3}});
    let done = post_json(&client, &host, &url, Some("alice"), &body).await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["moved"], 3);
    let again = post_json(&client, &host, &url, Some("alice"), &body).await;
    assert_eq!((again.status, again.code()), (409, "replayed"), "{again:?}");
    let bad_again = json!({"token": token, "input": {"qty": 100_000}});
    let again = post_json(&client, &host, &url, Some("alice"), &bad_again).await;
    assert_eq!((again.status, again.code()), (409, "replayed"), "{again:?}");
    assert_eq!(keys.ledger().unwrap()["stock"][SHELF], INITIAL_SHELF - 3);
}

/// spec §10.1's MUST: the processes serving an action share one store. With the default file
/// store, one token clicked many times over fresh connections (so across the 4 workers), in
/// sequence and at once, runs exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_with_the_default_file_store_run_a_single_use_click_once() {
    let keys = KeyDir::new();
    let host = start_host(4, &keys, &[]);
    let client = fresh_client();
    let panels = get(&client, &host, PANELS, Some("carol")).await;
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    let body = json!({"token": token, "input": {"qty": 1}});

    let mut answers = post_concurrently(&host, &url, Some("carol"), &body, CLICKS).await;
    for _ in 0..CLICKS {
        answers.push(post_json(&client, &host, &url, Some("carol"), &body).await);
    }
    let (ok, replayed) = tally(&answers);
    assert_eq!(
        (ok.len(), replayed.len()),
        (1, 2 * CLICKS - 1),
        "{answers:?}"
    );
    let workers: BTreeSet<_> = answers.iter().map(|a| a.worker.clone()).collect();
    assert!(
        workers.len() >= 2,
        "the clicks reached several workers: {workers:?}"
    );
    let ledger = keys.ledger().unwrap();
    assert_eq!(ledger["stock"][SHELF], INITIAL_SHELF - 1, "{ledger}");
}

/// Spec §10.1 point 3: a replay-guard entry "MUST be kept at least until the token can no
/// longer verify". With inline keys (`TESSERA_KEYS`, the form `--help` recommends over a
/// command-line value) the host's default file store lives in a private temporary data folder
/// that is removed when the host stops, while the keys, and so every unexpired token, stay
/// valid for the next run with the same `TESSERA_KEYS`. The new run cannot know the button
/// was used (its records went with the folder), but it knows the button was rendered against
/// another data folder (the fingerprint `ledger:ID`): `409 stale`, never a second run. A button
/// rendered by the new run works.
#[tokio::test]
async fn with_inline_keys_a_used_single_use_button_stays_used_after_a_restart() {
    let keys = tessera_protocol::KeySet::generate(tessera_protocol::Algorithm::Hs256)
        .unwrap()
        .to_private_json();
    let env = [("TESSERA_KEYS", keys.as_str())];
    let client = fresh_client();

    let first = crate::host::Host::start_with_env(&["--workers", "1"], &env);
    let panels = get(&client, &first, PANELS, Some("alice")).await;
    assert_eq!(panels.status, 200, "{panels:?}");
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    let body = json!({"token": token, "input": {"qty": 2}});
    let used = post_json(&client, &first, &url, Some("alice"), &body).await;
    assert_eq!(used.status, 200, "{used:?}");
    let again = post_json(&client, &first, &url, Some("alice"), &body).await;
    assert_eq!((again.status, again.code()), (409, "replayed"));
    assert!(first.stop().success());

    // Same keys, a new run, well within the token's 300 s lifetime.
    let second = crate::host::Host::start_with_env(&["--workers", "1"], &env);
    let after_restart = post_json(&client, &second, &url, Some("alice"), &body).await;
    assert_eq!(
        (after_restart.status, after_restart.body["code"].as_str()),
        (409, Some("stale")),
        "the used button ran again after a restart: {after_restart:?}"
    );
    let panels = get(&client, &second, PANELS, Some("alice")).await;
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    let body = json!({"token": token, "input": {"qty": 2}});
    let fresh = post_json(&client, &second, &url, Some("alice"), &body).await;
    assert_eq!(fresh.status, 200, "{fresh:?}");
    assert!(second.stop().success());
}
