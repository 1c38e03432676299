//! `GET /metrics` with 4 worker processes: whichever worker a scrape lands on, it reports the
//! whole host's counts of verified actions and refusals, exactly, and no label carries a
//! token or a user name.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::host::fresh_client;
use crate::util::{
    KeyDir, PANELS, PRINT_LABEL, TRANSFER, button, get, post_json, start_host, url_and_token,
};

/// A guard against counts that never arrive (not an assertion on timing).
const SETTLE_GUARD: Duration = Duration::from_secs(20);

/// The value of `name{labels}` in a Prometheus text rendering (0 when absent).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    text.lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .find(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0, |v| v.parse::<f64>().unwrap() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_report_the_whole_hosts_counts_whichever_worker_is_scraped() {
    let keys = KeyDir::new();
    let host = start_host(4, &keys, &[]);
    let client = fresh_client();
    let panels = get(&client, &host, PANELS, Some("alice")).await;
    let (transfer_url, token) = url_and_token(button(&panels.body, TRANSFER));
    let (print_url, print_token) = url_and_token(button(&panels.body, PRINT_LABEL));

    // Known clicks over fresh connections (so they spread over the workers): 12 transfers and
    // 5 label prints that verify; 3 forged, 2 by the wrong user, 1 without a token.
    let mut handled_by = BTreeSet::new();
    for _ in 0..12 {
        let click = post_json(
            &fresh_client(),
            &host,
            &transfer_url,
            Some("alice"),
            &json!({"token": token, "input": {"qty": 1}}),
        )
        .await;
        assert_eq!(click.status, 200, "{click:?}");
        handled_by.insert(click.worker);
    }
    for _ in 0..5 {
        let click = post_json(
            &fresh_client(),
            &host,
            &print_url,
            Some("alice"),
            &json!({"token": print_token, "input": {"copies": 1}}),
        )
        .await;
        assert_eq!(click.status, 200, "{click:?}");
        handled_by.insert(click.worker);
    }
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{signed}.{first}{}", &signature[1..]);
    for _ in 0..3 {
        let click = post_json(
            &fresh_client(),
            &host,
            &transfer_url,
            Some("alice"),
            &json!({"token": forged}),
        )
        .await;
        assert_eq!((click.status, click.code()), (401, "bad_signature"));
    }
    for _ in 0..2 {
        let click = post_json(
            &fresh_client(),
            &host,
            &transfer_url,
            Some("bob"),
            &json!({"token": token}),
        )
        .await;
        assert_eq!((click.status, click.code()), (403, "wrong_subject"));
    }
    let click = post_json(
        &fresh_client(),
        &host,
        &transfer_url,
        Some("alice"),
        &json!({}),
    )
    .await;
    assert_eq!((click.status, click.code()), (400, "missing_token"));
    assert!(handled_by.len() >= 2, "the clicks reached {handled_by:?}");

    let expected = |text: &str| {
        sample(
            text,
            "tessera_actions_verified_total",
            &[("action", TRANSFER)],
        ) == 12
            && sample(
                text,
                "tessera_actions_verified_total",
                &[("action", PRINT_LABEL)],
            ) == 5
            && sample(
                text,
                "tessera_refusals_total",
                &[("code", "bad_signature"), ("action", TRANSFER)],
            ) == 3
            && sample(
                text,
                "tessera_refusals_total",
                &[("code", "wrong_subject"), ("action", TRANSFER)],
            ) == 2
            && sample(
                text,
                "tessera_refusals_total",
                &[("code", "missing_token"), ("action", TRANSFER)],
            ) == 1
    };
    // Scrapes over fresh connections land on different workers; once every worker has written
    // its counts, each scrape reports all of them.
    let deadline = Instant::now() + SETTLE_GUARD;
    let mut scraped_on = BTreeSet::new();
    let mut settled = 0;
    while settled < 8 {
        let scrape = get(&fresh_client(), &host, "/metrics", None).await;
        assert_eq!(scrape.status, 200, "{scrape:?}");
        let text = scrape.body.as_str().expect("a text body").to_owned();
        if expected(&text) {
            settled += 1;
            scraped_on.insert(scrape.worker);
            // Never more than happened, nor a user name or a token in a label.
            assert!(!text.contains("alice") && !text.contains("bob"), "{text}");
            for segment in token.split('.').chain(forged.split('.')) {
                assert!(!text.contains(segment), "{text}");
            }
        } else {
            assert!(
                Instant::now() < deadline,
                "the counts did not settle:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(
        scraped_on.len() >= 2,
        "every settled scrape landed on {scraped_on:?}"
    );
}
