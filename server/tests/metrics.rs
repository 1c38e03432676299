//! Verified actions and refusals are counted through the `metrics` facade, by action id and
//! code, with no token or user name in any label.

use axum::http::StatusCode;
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::json;

use crate::util::*;

/// The value of the sample `name{labels}` in a Prometheus text rendering (0 when absent).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .find(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().unwrap())
}

#[test]
fn verified_actions_and_refusals_are_counted_by_action_and_code() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let token = transfer_token("alice");
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let app = app(state());
            for _ in 0..2 {
                let click = as_user(json_click(TRANSFER.path(), Some(&token), None), "alice");
                assert_eq!(call(&app, click).await.0, StatusCode::OK);
            }
            let forged = as_user(
                json_click(TRANSFER.path(), Some(&flip_signature(&token)), None),
                "alice",
            );
            assert_eq!(refusal(&app, forged).await.1, "bad_signature");
            let stolen = as_user(json_click(TRANSFER.path(), Some(&token), None), "bob");
            assert_eq!(refusal(&app, stolen).await.1, "wrong_subject");
            let empty = as_user(json_click(TRANSFER.path(), None, Some(json!({}))), "alice");
            assert_eq!(refusal(&app, empty).await.1, "missing_token");
        });
    });
    let text = handle.render();
    let route = TRANSFER;
    let transfer = route.id().as_str();
    assert_eq!(
        sample(
            &text,
            tessera_server::metrics::VERIFIED_ACTIONS,
            &[("action", transfer)]
        ),
        2.0,
        "{text}"
    );
    for code in ["bad_signature", "wrong_subject", "missing_token"] {
        assert_eq!(
            sample(
                &text,
                tessera_server::metrics::REFUSALS,
                &[("code", code), ("action", transfer)]
            ),
            1.0,
            "{code}: {text}"
        );
    }
    // No label carries a user name or any part of a token.
    assert!(!text.contains("alice") && !text.contains("bob"), "{text}");
    for segment in token.split('.') {
        assert!(!text.contains(segment), "{text}");
    }
}
