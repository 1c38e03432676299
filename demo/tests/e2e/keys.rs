//! Where the host's keys come from: inline JSON in `TESSERA_KEYS` works like a key file, and
//! tokens minted with the protocol library from the same key set are accepted by the host.

use std::sync::Arc;

use crate::host::{Host, fresh_client};
use serde_json::json;
use tessera_protocol::{Algorithm, KeySet, Minter};

use crate::util::{TRANSFER, post_json};

#[tokio::test]
async fn inline_keys_reach_every_worker_and_accept_tokens_minted_elsewhere() {
    let keys = KeySet::generate(Algorithm::Hs256).unwrap();
    let json = keys.to_private_json();
    let data_home = tempfile::tempdir().unwrap();
    let data_home_path = data_home.path().display().to_string();
    let host = Host::start_with_env(
        &["--workers", "3"],
        &[("TESSERA_KEYS", &json), ("XDG_DATA_HOME", &data_home_path)],
    );
    assert_eq!(
        std::fs::read_dir(data_home.path()).unwrap().count(),
        0,
        "inline keys never create a key file"
    );

    // A token minted by another program holding the same key set (issuer tessera-demo).
    let minter = Minter::new(Arc::new(keys), "tessera-demo");
    let payload = json!({
        "part_id": 77, "part_name": "washer", "from": "C3", "to": "D4",
        "available": 10, "rendered_by": "another program",
    });
    let token = minter
        .token(TRANSFER)
        .subject("dave")
        .payload(&payload)
        .mint()
        .unwrap();
    let client = fresh_client();
    let mut handlers = std::collections::BTreeSet::new();
    // Until all three workers have handled one (each fresh connection lands on one of three,
    // so 300 clicks miss a given worker with probability (2/3)^300, about 1e-53).
    for _ in 0..300 {
        let click = post_json(
            &client,
            &host,
            "/api/plugins/stock-tools/actions/transfer",
            Some("dave"),
            &json!({"token": token, "input": {"qty": 3}}),
        )
        .await;
        assert_eq!(click.status, 200, "{click:?}");
        assert_eq!(click.body["part_id"], 77);
        assert_eq!(click.body["to"], "D4");
        assert_eq!(click.body["rendered_by"], "another program");
        handlers.insert(click.worker);
        if handlers.len() == 3 {
            break;
        }
    }
    assert_eq!(
        handlers.len(),
        3,
        "every worker got the inline keys: {handlers:?}"
    );

    // The same JSON given as --keys reaches the workers too (through their environment).
    let by_arg = Host::start_with_env(
        &["--workers", "2", "--keys", &json],
        &[("XDG_DATA_HOME", &data_home_path)],
    );
    let click = post_json(
        &client,
        &by_arg,
        "/api/plugins/stock-tools/actions/transfer",
        Some("dave"),
        &json!({"token": token, "input": {"qty": 1}}),
    )
    .await;
    assert_eq!(click.status, 200, "{click:?}");
    drop(by_arg);

    // A different issuer with the same key is refused.
    let stranger = Minter::new(minter.keys().clone(), "someone-else");
    let token = stranger
        .token(TRANSFER)
        .subject("dave")
        .payload(&payload)
        .mint()
        .unwrap();
    let click = post_json(
        &client,
        &host,
        "/api/plugins/stock-tools/actions/transfer",
        Some("dave"),
        &json!({"token": token}),
    )
    .await;
    assert_eq!(click.status, 403, "{click:?}");
    assert_eq!(click.code(), "wrong_issuer");
}

/// An issuer-signed payload whose values overflow i64 when summed: a clean refusal
/// (422 bad_payload) for `sum`, a mean computed without overflow, never a panic or a
/// wrapped result.
#[tokio::test]
async fn process_data_with_huge_signed_values_never_overflows() {
    let keys = KeySet::generate(Algorithm::Hs256).unwrap();
    let host = Host::start_with_env(
        &["--workers", "1"],
        &[("TESSERA_KEYS", &keys.to_private_json())],
    );
    let minter = Minter::new(Arc::new(keys), "tessera-demo");
    let payload = json!({
        "dataset": "huge", "unit": "pcs", "values": [i64::MAX, i64::MAX, 2],
        "rendered_by": "another program",
    });
    let token = minter
        .token(crate::util::PROCESS_DATA)
        .subject("dave")
        .payload(&payload)
        .mint()
        .unwrap();
    let client = fresh_client();
    let path = "/api/plugins/stock-tools/actions/process-data";
    let click = |op: &str| json!({"token": token, "input": {"op": op}});
    let sum = post_json(&client, &host, path, Some("dave"), &click("sum")).await;
    assert_eq!((sum.status, sum.code()), (422, "bad_payload"), "{sum:?}");
    let mean = post_json(&client, &host, path, Some("dave"), &click("mean")).await;
    assert_eq!(mean.status, 200, "{mean:?}");
    let expected = (2.0 * i64::MAX as f64 + 2.0) / 3.0;
    assert_eq!(mean.body["result"].as_f64(), Some(expected), "{mean:?}");
    let max = post_json(&client, &host, path, Some("dave"), &click("max")).await;
    assert_eq!(max.body["result"], i64::MAX, "{max:?}");
    // The host is still up (a debug build would have panicked in the worker).
    let health = crate::util::get(&client, &host, "/healthz", None).await;
    assert_eq!(health.status, 200);
}
