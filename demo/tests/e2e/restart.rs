//! Tokens survive a restart of the whole host: the key file created on first run is reused.

use std::os::unix::fs::PermissionsExt;

use crate::host::fresh_client;
use serde_json::json;

use crate::util::{KeyDir, PANELS, TRANSFER, button, get, post_json, start_host, url_and_token};

#[tokio::test]
async fn a_token_minted_before_a_restart_is_accepted_after_it() {
    let keys = KeyDir::new();
    assert!(!keys.path().exists());
    let client = fresh_client();

    let first = start_host(2, &keys, &[]);
    let mode = std::fs::metadata(keys.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the key file is created private");
    let key_file = std::fs::read(keys.path()).unwrap();
    let panels = get(&client, &first, PANELS, Some("alice")).await;
    let (url, token) = url_and_token(button(&panels.body, TRANSFER));
    let status = first.stop();
    assert!(status.success(), "{status}");

    let second = start_host(2, &keys, &[]);
    assert_eq!(
        std::fs::read(keys.path()).unwrap(),
        key_file,
        "the key file is reused as is"
    );
    let click = post_json(
        &client,
        &second,
        &url,
        Some("alice"),
        &json!({"token": token, "input": {"qty": 5}}),
    )
    .await;
    assert_eq!(click.status, 200, "{click:?}");
    assert_eq!(click.body["moved"], 5);
    assert_ne!(
        click.body["rendered_by"], click.body["handled_by"],
        "different processes"
    );

    // A host with other keys does not know the token's key: the key file is what matters.
    let other_keys = KeyDir::new();
    let third = start_host(1, &other_keys, &[]);
    let click = post_json(
        &client,
        &third,
        &url,
        Some("alice"),
        &json!({"token": token}),
    )
    .await;
    assert_eq!(click.status, 401, "{click:?}");
    assert_eq!(click.code(), "unknown_key");
}
