//! Stale-state detection over HTTP on 4 worker processes sharing the stock ledger: the
//! return-all button is bound to the ledger version it was rendered from (its token's `fpr`).
//! Clicked before any change it succeeds; clicked after the ledger changed — whichever worker
//! made the change and whichever handles the click — it is refused with 409 `stale` and
//! changes nothing.

use std::sync::Arc;

use crate::host::{Host, WorkerLabel, fresh_client};
use serde_json::{Value, json};
use tessera_protocol::{Expected, KeySet, Verifier};

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
        assert_eq!(
            b.fingerprint,
            format!("ledger:{}:{LEDGER_PART}:v{version}", keys.data_folder_id())
        );
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

/// Spec §10.2: a route that requires a fingerprint refuses a click rendered from other state.
/// The demo's fingerprint is `ledger:PART:vN`, a version counter that starts again at v1 in
/// a new ledger. With inline keys (`TESSERA_KEYS`) the ledger lives in a temporary data
/// folder removed when the host stops, while tokens stay valid across the restart: a
/// return-all button rendered at v2 of the first run matches v2 of the second run, whose
/// stock differs, and moves the quantity counted in the first run.
#[tokio::test]
async fn with_inline_keys_a_return_all_button_from_before_a_restart_is_stale() {
    let keys = KeySet::generate(tessera_protocol::Algorithm::Hs256)
        .unwrap()
        .to_private_json();
    let env = [("TESSERA_KEYS", keys.as_str())];
    let client = fresh_client();
    let confirm = |qty: u64| json!({"input": {"qty": qty}});

    // First run: one transfer of 2 (v1 -> v2), then render return-all at v2 (it moves 42).
    let first = Host::start_with_env(&["--workers", "1"], &env);
    let panels = get(&client, &first, PANELS, USER).await;
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    let mut body = confirm(2);
    body["token"] = Value::from(token);
    assert_eq!(
        post_json(&client, &first, &url, USER, &body).await.status,
        200
    );
    let panels = get(&client, &first, PANELS, USER).await;
    let (back_url, back_token) = url_and_token(button(&panels.body, RETURN_ALL));
    assert!(first.stop().success());

    // Second run: a transfer of 100 (v1 -> v2): the bin now holds 140, not 42.
    let second = Host::start_with_env(&["--workers", "1"], &env);
    let panels = get(&client, &second, PANELS, USER).await;
    let (url, token) = url_and_token(button(&panels.body, CONFIRM_TRANSFER));
    let mut body = confirm(100);
    body["token"] = Value::from(token);
    let moved = post_json(&client, &second, &url, USER, &body).await;
    assert_eq!((moved.status, &moved.body["version"]), (200, &json!(2)));

    // The button from the first run's v2 is stale here.
    let click = post_json(
        &client,
        &second,
        &back_url,
        USER,
        &json!({"token": back_token}),
    )
    .await;
    assert_eq!(
        (click.status, click.body["code"].as_str()),
        (409, Some("stale")),
        "a button rendered from other state ran: {click:?}"
    );
}
