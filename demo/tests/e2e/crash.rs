//! `kill -9` of a worker in the middle of a run of clicks: the supervisor restarts it and
//! the clicks keep succeeding.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::host::{Host, WorkerLabel, fresh_client, process_exists, signal};
use serde_json::json;

use crate::util::{KeyDir, PANELS, TRANSFER, button, start_host, try_get, try_post, url_and_token};

/// Rounds before the kill; the most rounds allowed until the restart shows; rounds after it.
const BEFORE: usize = 30;
const MAX_ROUNDS: usize = 3000;
const AFTER: usize = 100;

/// One render+click round: the workers that rendered and handled it, or a transport error
/// (a connection the killed worker had accepted and never answered).
type Round = Result<(WorkerLabel, WorkerLabel), String>;

async fn round(host: &Host, client: &reqwest::Client) -> Round {
    let user = Some("alice");
    let panels = try_get(client, host, PANELS, user)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(panels.status, 200);
    let (url, token) = url_and_token(button(&panels.body, TRANSFER));
    let body = json!({"token": token, "input": {"qty": 1}}).to_string();
    let click = try_post(client, host, &url, user, body)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        click.status, 200,
        "every answered click succeeds: {click:?}"
    );
    Ok((panels.worker, click.worker))
}

#[tokio::test]
async fn a_killed_worker_is_restarted_and_later_clicks_succeed() {
    let keys = KeyDir::new();
    let host = start_host(4, &keys, &[]);
    let client = fresh_client();
    let rounds: Mutex<Vec<Round>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let lock = || rounds.lock().unwrap_or_else(|p| p.into_inner());

    // The clicker runs rounds back to back until told to stop (or the bound).
    let clicker = async {
        for _ in 0..MAX_ROUNDS {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let outcome = round(&host, &client).await;
            lock().push(outcome);
        }
    };
    // The killer waits for BEFORE rounds, kills a worker that served one while the clicker
    // is mid-round, then waits until the clicker sees the slot served by a new process and
    // AFTER more rounds have run.
    let killer = async {
        while lock().len() < BEFORE {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let victim = {
            let done = lock();
            let (rendered, _) = done[0].as_ref().expect("no errors before the kill");
            rendered.clone()
        };
        assert!(signal(victim.pid, "KILL"), "kill -9 {victim}");
        let killed_at = lock().len();
        let replaced_at = loop {
            let (found, len) = {
                let done = lock();
                let found = done[killed_at..].iter().position(|r| {
                    r.as_ref().is_ok_and(|(a, b)| {
                        [a, b]
                            .iter()
                            .any(|w| w.id == victim.id && w.pid != victim.pid)
                    })
                });
                (found, done.len())
            };
            if let Some(i) = found {
                break killed_at + i;
            }
            assert!(
                len < MAX_ROUNDS - AFTER,
                "the killed worker {victim} was not replaced within {len} rounds"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        // Bounded: the clicker stops by itself after MAX_ROUNDS.
        while lock().len() < (replaced_at + 1 + AFTER).min(MAX_ROUNDS) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        stop.store(true, Ordering::Relaxed);
        (victim, killed_at, replaced_at)
    };
    let ((), (victim, killed_at, replaced_at)) = tokio::join!(clicker, killer);

    let done = lock();
    assert!(
        done[..killed_at].iter().all(Result::is_ok),
        "errors before the kill"
    );
    let lost = done[killed_at..=replaced_at]
        .iter()
        .filter(|r| r.is_err())
        .count();
    let mut handlers = BTreeSet::new();
    for (i, outcome) in done.iter().enumerate().skip(replaced_at + 1) {
        match outcome {
            Ok((rendered, handled)) => {
                assert_ne!(rendered, &victim, "round {i}: the dead worker rendered");
                assert_ne!(handled, &victim, "round {i}: the dead worker handled");
                handlers.insert(handled.clone());
            }
            Err(e) => panic!("round {i}, after the restart, failed: {e}"),
        }
    }
    assert!(!process_exists(victim.pid), "the killed worker was reaped");
    eprintln!(
        "killed {victim} after {killed_at} rounds; replaced by round {replaced_at} \
         ({lost} connections lost meanwhile); {} later rounds all succeeded, handled by \
         {handlers:?}",
        done.len() - replaced_at - 1
    );
}
