//! The proof of the mission: 200 renders and clicks over fresh connections on 4 worker
//! processes. Every tessera click succeeds wherever it lands; the naive panel, which keeps
//! its data in the rendering worker's memory, fails exactly when the click lands elsewhere.

use std::collections::BTreeSet;

use crate::host::fresh_client;
use serde_json::json;

use crate::util::{
    KeyDir, NAIVE_PANELS, PANELS, PRINT_LABEL, PROCESS_DATA, TRANSFER, button, get, post_json,
    start_host, url_and_token,
};

const ROUNDS: usize = 200;
const OPS: [&str; 4] = ["sum", "mean", "min", "max"];

#[tokio::test]
async fn tessera_clicks_succeed_on_every_worker_while_the_naive_panel_fails_across_workers() {
    let keys = KeyDir::new();
    let host = start_host(4, &keys, &[]);
    let client = fresh_client();
    let user = Some("alice");

    let mut renderers = BTreeSet::new();
    let mut handlers = BTreeSet::new();
    let mut crossed = 0;
    let (mut naive_ok, mut naive_failed) = (0, 0);

    for round in 0..ROUNDS {
        // Tessera: render on some worker, click on whichever worker takes the new connection.
        let panels = get(&client, &host, PANELS, user).await;
        assert_eq!(panels.status, 200, "{panels:?}");
        assert_eq!(panels.body["plugin"], "stock-tools");
        let rendered_by = panels.worker.to_string();
        let action = [TRANSFER, PRINT_LABEL, PROCESS_DATA][round % 3];
        let (url, token) = url_and_token(button(&panels.body, action));
        let input = match action {
            TRANSFER => json!({"qty": 1 + round % 7, "note": format!("round {round}")}),
            PRINT_LABEL => json!({"copies": 1 + round % 3}),
            _ => json!({"op": OPS[round % OPS.len()]}),
        };
        let click = post_json(
            &client,
            &host,
            &url,
            user,
            &json!({"token": token, "input": input}),
        )
        .await;
        assert_eq!(click.status, 200, "round {round}, {action}: {click:?}");
        assert_eq!(click.body["ok"], true);
        assert_eq!(click.body["user"], "alice");
        // The rendering worker travelled inside the token; the handler names itself.
        assert_eq!(click.body["rendered_by"], rendered_by.as_str(), "{click:?}");
        assert_eq!(click.body["handled_by"], click.worker.to_string().as_str());
        if action == TRANSFER {
            assert_eq!(click.body["moved"], 1 + round % 7);
            assert_eq!(click.body["part_id"], 1234);
        }
        renderers.insert(panels.worker.clone());
        handlers.insert(click.worker.clone());
        if click.worker != panels.worker {
            crossed += 1;
        }

        // Naive: the same flow with the data kept in the rendering worker's memory.
        let naive = get(&client, &host, NAIVE_PANELS, user).await;
        assert_eq!(naive.status, 200, "{naive:?}");
        assert_eq!(naive.body["naive"], true);
        let (url, render_id) = url_and_token(&naive.body["panels"][0]["buttons"][0]);
        let click = post_json(
            &client,
            &host,
            &url,
            user,
            &json!({"token": render_id, "input": {"qty": 2}}),
        )
        .await;
        if click.worker == naive.worker {
            assert_eq!(
                click.status, 200,
                "same worker, so the memory is there: {click:?}"
            );
            assert_eq!(click.body["moved"], 2);
            naive_ok += 1;
        } else {
            assert_eq!(
                click.status, 410,
                "another worker has no memory of it: {click:?}"
            );
            assert_eq!(click.code(), "render_state_missing");
            assert_eq!(click.body["rendered_by"], naive.worker.to_string().as_str());
            assert_eq!(click.body["handled_by"], click.worker.to_string().as_str());
            naive_failed += 1;
        }
    }

    assert!(
        renderers.len() >= 2,
        "panels were rendered by {renderers:?}"
    );
    assert!(handlers.len() >= 2, "clicks were handled by {handlers:?}");
    assert!(crossed > 0, "no click crossed workers in {ROUNDS} rounds");
    assert!(
        naive_failed > 0,
        "the naive panel never failed: the test did not cross workers"
    );
    assert_eq!(naive_ok + naive_failed, ROUNDS);
    eprintln!(
        "{ROUNDS} rounds: rendered by {} workers, handled by {} workers, {crossed} tessera \
         clicks crossed workers (all succeeded); naive: {naive_ok} ok, {naive_failed} failed",
        renderers.len(),
        handlers.len()
    );
}
