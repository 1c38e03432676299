//! The rest of the HTTP surface: the panels document, the page, the JWKS, health, click.js.

use std::sync::Arc;

use crate::host::{WorkerLabel, fresh_client};
use serde_json::Value;
use tessera_protocol::{Expected, KeySet, Verifier};

use crate::util::{
    CONFIRM_TRANSFER, KeyDir, LEDGER_PART, NAIVE_PANELS, PANELS, PRINT_LABEL, PROCESS_DATA,
    RETURN_ALL, TRANSFER, get, start_host,
};

#[tokio::test]
async fn the_panels_document_has_the_documented_shape() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &["--ttl", "120"]);
    let panels = get(&fresh_client(), &host, PANELS, Some("alice")).await;
    assert_eq!(panels.status, 200);
    let doc = &panels.body;
    let key_set = KeySet::from_file(keys.path()).unwrap();
    let verifier = Verifier::new(Arc::new(key_set), "tessera-demo");
    assert_eq!(doc["plugin"], "stock-tools");
    assert_eq!(doc["user"], "alice");
    assert_eq!(doc["rendered_by"], panels.worker.to_string().as_str());
    let list = doc["panels"].as_array().unwrap();
    assert!(list.len() >= 2, "at least two panels: {doc}");
    let mut actions = Vec::new();
    for panel in list {
        assert!(
            panel["key"].is_string() && panel["title"].is_string(),
            "{panel}"
        );
        for button in panel["buttons"].as_array().unwrap() {
            for member in ["label", "action", "url", "method", "token", "expires_at"] {
                assert!(
                    !button[member].is_null(),
                    "button without {member}: {button}"
                );
            }
            assert_eq!(button["method"], "POST");
            let action = button["action"].as_str().unwrap();
            let name = action.rsplit(':').next().unwrap();
            assert_eq!(
                button["url"],
                format!("/api/plugins/stock-tools/actions/{name}").as_str()
            );
            // The token verifies with the key file, for this action and this user, issued
            // by the demo host, for --ttl seconds, and names the rendering worker.
            let token = button["token"].as_str().unwrap();
            let expected = Expected::audience(action).subject("alice");
            let claims = verifier.verify::<Value>(token, &expected).unwrap().claims;
            assert_eq!(claims.exp - claims.iat, 120);
            assert_eq!(button["expires_at"], claims.exp);
            assert_eq!(claims.dat["rendered_by"], doc["rendered_by"]);
            // Only the state-bound buttons carry a fingerprint: the stale-checked one the
            // ledger's version, the single-use one the ledger (its data folder); both name the
            // data folder by its id.
            let id = keys.data_folder_id();
            if action == RETURN_ALL {
                assert_eq!(
                    claims.fpr.as_deref(),
                    Some(format!("ledger:{id}:{LEDGER_PART}:v1").as_str())
                );
            } else if action == CONFIRM_TRANSFER {
                assert_eq!(claims.fpr.as_deref(), Some(format!("ledger:{id}").as_str()));
            } else {
                assert_eq!(claims.fpr, None, "{action}");
            }
            actions.push(action.to_owned());
        }
    }
    actions.sort();
    assert_eq!(
        actions,
        [
            CONFIRM_TRANSFER,
            PRINT_LABEL,
            PROCESS_DATA,
            RETURN_ALL,
            TRANSFER
        ]
    );
    let naive = get(&fresh_client(), &host, NAIVE_PANELS, None).await;
    assert_eq!(naive.body["user"], "guest", "no header means guest");
    assert_eq!(naive.body["naive"], true);
}

#[tokio::test]
async fn the_page_jwks_health_and_script_are_served() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &["--key-alg", "eddsa"]);
    let client = fresh_client();

    let res = client.get(host.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let worker = WorkerLabel::of(&res).unwrap().to_string();
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "pages with tokens are not cached"
    );
    // Not to be framed by another site (clickjacking).
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert_eq!(
        res.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("data-tessera-rendered-by=\"{worker}\"")));
    assert!(html.contains("<script src=\"/tessera/click.js\" defer></script>"));
    for action in [
        TRANSFER,
        PRINT_LABEL,
        PROCESS_DATA,
        CONFIRM_TRANSFER,
        RETURN_ALL,
    ] {
        assert!(
            html.contains(&format!("data-tessera-action=\"{action}\"")),
            "{action}"
        );
    }
    assert!(
        html.contains("id=\"naive-panels\""),
        "the naive panel sits beside"
    );
    assert!(html.contains("NAIVE"), "and is labelled");
    assert!(
        html.contains("id=\"shared-stock\"") && html.contains("409 replayed"),
        "the stateful panel explains itself"
    );
    assert!(
        html.contains("Replay store: <b>file")
            && html.contains("every replay is refused, whichever of the 2 workers it reaches"),
        "the page names the default replay store, shared by every worker"
    );

    let res = client
        .get(host.url("/tessera/click.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("tessera:result"));

    let res = client.get(host.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let worker = WorkerLabel::of(&res).unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["worker"], worker.as_str());

    // An Ed25519 key: its public half is published, never the private one.
    let res = client
        .get(host.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let jwks: Value = res.json().await.unwrap();
    let published = jwks["keys"].as_array().unwrap();
    assert_eq!(published.len(), 1, "{jwks}");
    assert_eq!(published[0]["kty"], "OKP");
    assert!(published[0]["x"].is_string());
    assert!(published[0].get("d").is_none(), "{jwks}");
    let file: Value = serde_json::from_slice(&std::fs::read(keys.path()).unwrap()).unwrap();
    assert_eq!(
        published[0]["kid"], file["active"],
        "the key file's active key"
    );
}

#[tokio::test]
async fn an_hmac_host_publishes_no_key() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let jwks: Value = fresh_client()
        .get(host.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks, serde_json::json!({"keys": []}));
}

/// The `Connection` header of a `/healthz` answer from a host started with `args` and `env`.
async fn connection_header(args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let keys = KeyDir::new();
    let key_arg = keys.arg();
    let mut all = vec!["--workers", "1", "--keys", &key_arg];
    all.extend_from_slice(args);
    let host = crate::host::Host::start_with_env(&all, env);
    let res = fresh_client()
        .get(host.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.headers()
        .get("connection")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn keep_alive_is_off_by_default_and_on_with_the_flag_or_its_environment_variable() {
    assert_eq!(connection_header(&[], &[]).await.as_deref(), Some("close"));
    assert_eq!(connection_header(&["--keep-alive"], &[]).await, None);
    // The usual spellings of a boolean environment variable, as for every TESSERA_* option.
    for on in ["1", "true", "yes", "on"] {
        let env = [("TESSERA_KEEP_ALIVE", on)];
        assert_eq!(
            connection_header(&[], &env).await,
            None,
            "TESSERA_KEEP_ALIVE={on}"
        );
    }
    for off in ["0", "false", "no", "off"] {
        let env = [("TESSERA_KEEP_ALIVE", off)];
        assert_eq!(
            connection_header(&[], &env).await.as_deref(),
            Some("close"),
            "TESSERA_KEEP_ALIVE={off}"
        );
    }
}
