//! The fault-injection soak (`--features redis`): 4 worker processes with the Redis replay
//! guard take a steady stream of clicks from several users while the harness kills a worker
//! every few seconds, rotates the keys in two stages (each with a reload), and stops and
//! restarts Redis. Every click is recorded with its outcome; the figures are printed and the
//! test fails if a figure that must be 0 is not. `TESSERA_SOAK_SECS` sets the length (default
//! 60 s; `.ci/run` runs it with `--nocapture` so the figures show).
//!
//! Accounting of the clicks that change the shared stock ledger (the single-use
//! `confirm-transfer`, and `return-all`, bound to the ledger version) against the ledger, each
//! applied change being one new version: *acknowledged* is a `200`; *unknown* is a click whose
//! connection broke (a worker killed mid-request) and whose retry of the same button did not
//! succeed (`replayed`, `stale`): it may have run or not, and the user cannot tell — the one
//! outcome `kill -9` makes possible. The ledger must hold every acknowledged change
//! (*acknowledged but not applied* = 0) and nothing that no click can explain (*applied without
//! acknowledgement* = applied − acknowledged − unknown, when positive, = 0).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_protocol::{Algorithm, Key, KeySet, Kid};

use crate::host::{Host, signal};
use crate::redis_replay::RedisServer;
use crate::reload::{reload, write_keys};
use crate::util::{
    Answer, CONFIRM_TRANSFER, KeyDir, PANELS, RETURN_ALL, TRANSFER, USER, button, start_host,
    try_get, url_and_token,
};

/// Simulated users clicking at once.
const USERS: usize = 6;

/// Everything recorded.
#[derive(Debug, Default)]
struct Figures {
    sent: u64,
    succeeded: u64,
    refused: BTreeMap<String, u64>,
    connection_errors: u64,
    connection_errors_in_reloads: u64,
    single_use_buttons: u64,
    ran_twice: u64,
    acknowledged: u64,
    unknown: u64,
    server_errors_other_than_replay_unavailable: u64,
    replay_unavailable: u64,
    replay_unavailable_while_redis_up: u64,
}

/// What the fault task tells the clicks: whether a reload is under way, whether Redis is down.
#[derive(Debug, Default)]
struct Phase {
    reloading: bool,
    redis_down: bool,
}

type Shared<T> = Arc<Mutex<T>>;

fn record(
    figures: &Shared<Figures>,
    phase: &Shared<Phase>,
    answer: &Result<Answer, reqwest::Error>,
) {
    let phase = phase.lock().unwrap();
    let mut f = figures.lock().unwrap();
    f.sent += 1;
    match answer {
        Err(_) => {
            f.connection_errors += 1;
            if phase.reloading {
                f.connection_errors_in_reloads += 1;
            }
        }
        Ok(a) if a.status == 200 => f.succeeded += 1,
        Ok(a) => {
            let code = a.body["code"].as_str().unwrap_or("(no code)").to_owned();
            if a.status >= 500 {
                if code == "replay_unavailable" && a.status == 503 {
                    f.replay_unavailable += 1;
                    if !phase.redis_down {
                        f.replay_unavailable_while_redis_up += 1;
                    }
                } else {
                    f.server_errors_other_than_replay_unavailable += 1;
                }
            }
            *f.refused.entry(format!("{} {code}", a.status)).or_default() += 1;
        }
    }
}

/// `GET base+path` as `user`.
async fn get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    user: &str,
) -> Result<Answer, reqwest::Error> {
    let res = client
        .get(format!("{base}{path}"))
        .header(USER, user)
        .send()
        .await?;
    Answer::from(res).await
}

/// `POST base+path` with a JSON body, as `user`.
async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    user: &str,
    body: String,
) -> Result<Answer, reqwest::Error> {
    let res = client
        .post(format!("{base}{path}"))
        .header(USER, user)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    Answer::from(res).await
}

/// One user's clicks until `until`: a panel, then either a transfer or a single-use confirm
/// clicked twice (the second must be refused).
async fn user_clicks(
    base: String,
    user: String,
    until: Instant,
    figures: Shared<Figures>,
    phase: Shared<Phase>,
) {
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let client = crate::host::fresh_client();
        let panels = get(&client, &base, PANELS, &user).await;
        record(&figures, &phase, &panels);
        let Ok(panels) = panels else { continue };
        if panels.status != 200 {
            continue;
        }
        if n % 3 == 2 {
            // Return-all: bound to the ledger version it was rendered from (often stale under
            // the others' clicks); a broken click is retried once with the same button.
            let (url, token) = url_and_token(button(&panels.body, RETURN_ALL));
            let body = json!({"token": token}).to_string();
            let first = post(
                &crate::host::fresh_client(),
                &base,
                &url,
                &user,
                body.clone(),
            )
            .await;
            record(&figures, &phase, &first);
            let outcome = if first.is_err() {
                let again = post(&crate::host::fresh_client(), &base, &url, &user, body).await;
                record(&figures, &phase, &again);
                match again {
                    Ok(a) if a.status == 200 => Some(true),
                    // Broken twice, or refused after a broken first click: it may have run.
                    _ => None,
                }
            } else {
                Some(first.as_ref().is_ok_and(|a| a.status == 200))
            };
            let mut f = figures.lock().unwrap();
            match outcome {
                Some(true) => f.acknowledged += 1,
                Some(false) => {}
                None => f.unknown += 1,
            }
            continue;
        }
        if n.is_multiple_of(3) {
            let (url, token) = url_and_token(button(&panels.body, TRANSFER));
            let body = json!({"token": token, "input": {"qty": 1}}).to_string();
            let click = post(&client, &base, &url, &user, body).await;
            record(&figures, &phase, &click);
            continue;
        }
        let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
        let body = json!({"token": token, "input": {"qty": 1}}).to_string();
        let first = post(
            &crate::host::fresh_client(),
            &base,
            &url,
            &user,
            body.clone(),
        )
        .await;
        record(&figures, &phase, &first);
        let again = post(&crate::host::fresh_client(), &base, &url, &user, body).await;
        record(&figures, &phase, &again);
        let mut f = figures.lock().unwrap();
        f.single_use_buttons += 1;
        let ok = |a: &Result<Answer, reqwest::Error>| a.as_ref().is_ok_and(|a| a.status == 200);
        let replayed = |a: &Result<Answer, reqwest::Error>| {
            a.as_ref()
                .is_ok_and(|a| a.status == 409 && a.body["code"] == "replayed")
        };
        match (ok(&first), ok(&again)) {
            (true, true) => f.ran_twice += 1,
            (true, false) | (false, true) => f.acknowledged += 1,
            // The first click broke and its retry did not run it: it may have run.
            (false, false) if first.is_err() && (replayed(&again) || again.is_err()) => {
                f.unknown += 1;
            }
            (false, false) => {}
        }
    }
}

/// The faults, spread over `length`: a `kill -9` of a worker every 4 s (none during reloads),
/// a staged key rotation (add inactive + reload, activate + reload), Redis stopped for a while.
async fn faults(
    host: &Host,
    keys: &KeyDir,
    redis: &mut RedisServer,
    length: Duration,
    phase: Shared<Phase>,
) -> u32 {
    let start = Instant::now();
    let at = |fraction: f64| start + length.mul_f64(fraction);
    let (rotate, activate, redis_off, redis_on) = (at(0.25), at(0.40), at(0.60), at(0.72));
    let mut stage = 0;
    let mut kills = 0;
    let mut next_kill = start + Duration::from_secs(4);
    let mut set = KeySet::from_file(keys.path()).unwrap();
    let kid = Kid::new("soak-next").unwrap();
    while Instant::now() < start + length {
        let now = Instant::now();
        if stage == 0 && now >= rotate {
            phase.lock().unwrap().reloading = true;
            set.insert(Key::generate(Algorithm::Hs256, kid.clone()).unwrap())
                .unwrap();
            write_keys(keys, &set.to_private_json());
            reload(host, 1, "reload finished").await;
            phase.lock().unwrap().reloading = false;
            stage = 1;
        } else if stage == 1 && now >= activate {
            phase.lock().unwrap().reloading = true;
            set.set_active(&kid).unwrap();
            write_keys(keys, &set.to_private_json());
            reload(host, 2, "reload finished").await;
            phase.lock().unwrap().reloading = false;
            stage = 2;
        } else if stage == 2 && now >= redis_off {
            phase.lock().unwrap().redis_down = true;
            redis.stop();
            stage = 3;
        } else if stage == 3 && now >= redis_on {
            *redis = RedisServer::start_on(redis.port);
            phase.lock().unwrap().redis_down = false;
            stage = 4;
        } else if now >= next_kill {
            let health = try_get(&crate::host::fresh_client(), host, "/healthz", None).await;
            if let Ok(health) = health
                && signal(health.worker.pid, "KILL")
            {
                kills += 1;
            }
            next_kill = now + Duration::from_secs(4);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kills
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_clicks_through_worker_kills_key_rotation_and_a_redis_outage() {
    let length = Duration::from_secs(
        std::env::var("TESSERA_SOAK_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    );
    let mut redis = RedisServer::start();
    let keys = KeyDir::new();
    let store = redis.url();
    let host = start_host(
        4,
        &keys,
        &["--replay-store", &store, "--header-timeout", "5"],
    );
    let figures: Shared<Figures> = Arc::default();
    let phase: Shared<Phase> = Arc::default();
    let until = Instant::now() + length;
    let mut users = tokio::task::JoinSet::new();
    for n in 0..USERS {
        users.spawn(user_clicks(
            host.url(""),
            format!("user{n}"),
            until,
            figures.clone(),
            phase.clone(),
        ));
    }
    let kills = faults(&host, &keys, &mut redis, length, phase.clone()).await;
    while let Some(done) = users.join_next().await {
        done.unwrap();
    }
    // Each change the ledger applied made one new version (version 1 is the initial stock).
    let ledger: Value = keys.ledger().unwrap_or(json!({"version": 1}));
    let applied = ledger["version"].as_u64().unwrap() - 1;
    let f = figures.lock().unwrap();
    let acknowledged_not_applied = f.acknowledged.saturating_sub(applied);
    let applied_without_ack = applied.saturating_sub(f.acknowledged + f.unknown);
    println!(
        "soak: {} s, 4 workers, {USERS} users, {kills} workers killed (kill -9), 2 reloads \
         (staged key rotation), Redis stopped and restarted\n\
         clicks sent {}, succeeded {}, connection errors {} ({} during reloads)\n\
         refused by code: {:?}\n\
         single-use buttons {}: ran more than once {} (must be 0)\n\
         ledger changes: applied {applied}, acknowledged {}, unknown outcome (connection broken \
         by a kill, retry refused) {}; acknowledged but not applied {acknowledged_not_applied} \
         (must be 0); applied without acknowledgement {applied_without_ack} (must be 0)\n\
         5xx other than 503 replay_unavailable {} (must be 0); 503 replay_unavailable {} \
         ({} while Redis was up, when workers reconnect)",
        length.as_secs(),
        f.sent,
        f.succeeded,
        f.connection_errors,
        f.connection_errors_in_reloads,
        f.refused,
        f.single_use_buttons,
        f.ran_twice,
        f.acknowledged,
        f.unknown,
        f.server_errors_other_than_replay_unavailable,
        f.replay_unavailable,
        f.replay_unavailable_while_redis_up,
    );
    assert!(f.succeeded > 0 && kills > 0, "the soak ran");
    assert_eq!(f.ran_twice, 0, "a single-use button ran more than once");
    assert_eq!(
        acknowledged_not_applied, 0,
        "an acknowledged change is missing"
    );
    assert_eq!(
        applied_without_ack, 0,
        "the ledger changed with no click to explain it"
    );
    assert_eq!(
        f.server_errors_other_than_replay_unavailable, 0,
        "a 5xx other than 503"
    );
    assert_eq!(
        f.connection_errors_in_reloads, 0,
        "a reload dropped a connection"
    );
    drop(host);
    drop(redis);
}
