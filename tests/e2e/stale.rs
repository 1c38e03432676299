//! Stale-state detection over HTTP on 4 worker processes sharing the stock ledger: the
//! return-all button is bound to the ledger version it was rendered from (its token's `fpr`).
//! Clicked before any change it succeeds; clicked after the ledger changed — whichever worker
//! made the change and whichever handles the click — it is refused with 409 `stale` and
//! changes nothing.

use std::sync::Arc;

use serde_json::{Value, json};
use tessera_protocol::{Expected, KeySet, Verifier};
use tessera_tests::{Host, WorkerLabel, fresh_client};

use crate::util::{
    Answer, BIN, CONFIRM_TRANSFER, INITIAL_BIN, INITIAL_SHELF, KeyDir, LEDGER_PART, PANELS,
    RETURN_ALL, SHELF, button, get, post_json, url_and_token,
};

const ROUNDS: usize = 10;
const USER: Option<&str> = Some("carol");

/// A rendered shared-stock panel: its two buttons, and the fingerprint bound to return-all.
struct Render {
    confirm: (String, String),
    back: (String, String),
    fingerprint: String,
    /// The quantity at the bin the return-all button will move.
    back_qty: u64,
}

async fn render(host: &Host, verifier: &Verifier) -> Render {
    let panels = get(&fresh_client(), host, PANELS, USER).await;
    assert_eq!(panels.status, 200, "{panels:?}");
    let back = url_and_token(button(&panels.body, RETURN_ALL));
    let claims = verifier
        .verify::<Value>(&back.1, &Expected::audience(RETURN_ALL).subject("carol"))
        .expect("the return-all token verifies")
        .claims;
    Render {
        confirm: url_and_token(button(&panels.body, CONFIRM_TRANSFER)),
        fingerprint: claims.fpr.expect("return-all is bound to a fingerprint"),
        back_qty: claims.dat["qty"].as_u64().expect("a quantity"),
        back,
    }
}

async fn click(host: &Host, (url, token): &(String, String), input: Value) -> Answer {
    post_json(
        &fresh_client(),
        host,
        url,
        USER,
        &json!({"token": token, "input": input}),
    )
    .await
}

fn assert_stale(answer: &Answer) {
    assert_eq!((answer.status, answer.code()), (409, "stale"), "{answer:?}");
}

fn ledger_version(keys: &KeyDir) -> u64 {
    keys.ledger().expect("the ledger file")["version"]
        .as_u64()
        .expect("a version")
}

#[tokio::test]
async fn a_click_after_the_ledger_changed_is_stale_and_before_it_succeeds() {
    let keys = KeyDir::new();
    let host = crate::util::start_host(4, &keys, &[]);
    let verifier = Verifier::new(
        Arc::new(KeySet::from_file(keys.path()).unwrap()),
        "tessera-demo",
    );
    // (worker that changed the ledger, worker that refused the stale click)
    let mut pairs: Vec<(WorkerLabel, WorkerLabel)> = Vec::new();

    for round in 0..ROUNDS {
        // A panel rendered now, then a change by a transfer from that same panel.
        let a = render(&host, &verifier).await;
        let moved = click(&host, &a.confirm, json!({"qty": 2})).await;
        assert_eq!(moved.status, 200, "round {round}: {moved:?}");
        let version = ledger_version(&keys);
        assert_eq!(moved.body["version"], version);
        assert_ne!(
            a.fingerprint,
            format!("ledger:{LEDGER_PART}:v{version}"),
            "the panel was rendered before the change"
        );
        // Its return-all button was rendered before the transfer: stale, and nothing moves.
        let refused = click(&host, &a.back, json!({})).await;
        assert_stale(&refused);
        assert_eq!(
            ledger_version(&keys),
            version,
            "a stale click changes nothing"
        );
        pairs.push((moved.worker.clone(), refused.worker.clone()));

        // Two panels rendered from the same, current version.
        let b = render(&host, &verifier).await;
        let c = render(&host, &verifier).await;
        assert_eq!(b.fingerprint, format!("ledger:{LEDGER_PART}:v{version}"));
        assert_eq!(b.fingerprint, c.fingerprint);
        assert!(b.back_qty > 0, "the transfer put stock in the bin");
        // Before any change: the click succeeds and moves what the panel showed.
        let back = click(&host, &b.back, json!({})).await;
        assert_eq!(back.status, 200, "round {round}: {back:?}");
        assert_eq!(back.body["moved"], b.back_qty);
        assert_eq!(back.body["fingerprint"], b.fingerprint.as_str());
        assert_eq!(back.body["stock"][BIN], 0);
        assert_eq!(back.body["version"], version + 1);
        // After that change: the twin panel's button is stale.
        let refused = click(&host, &c.back, json!({})).await;
        assert_stale(&refused);
        assert_eq!(ledger_version(&keys), version + 1);
        pairs.push((back.worker.clone(), refused.worker.clone()));
    }

    // Every change is in the file; the stale clicks moved nothing (2 changes per round).
    let ledger = keys.ledger().unwrap();
    assert_eq!(ledger["version"], 1 + 2 * ROUNDS as u64, "{ledger}");
    assert_eq!(ledger["stock"][BIN], 0, "{ledger}");
    assert_eq!(
        ledger["stock"][SHELF],
        INITIAL_SHELF + INITIAL_BIN,
        "{ledger}"
    );
    // The ledger is shared: a worker that did not make the change still saw it.
    assert!(
        pairs.iter().any(|(changed, refused)| changed != refused),
        "every stale refusal came from the worker that made the change: {pairs:?}"
    );
}
