//! The JWKS endpoint serves public Ed25519 keys only: never `d` (a private seed) or `k` (an
//! HMAC secret), for HS256-only, EdDSA-only and mixed key sets.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tessera_protocol::{Algorithm, KeySet};

use crate::util::*;

async fn fetch_jwks(keys: KeySet) -> Value {
    let app = app(config(Arc::new(keys)).build().unwrap());
    let response = send(
        &app,
        Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert_eq!(
        response.headers()["content-type"],
        "application/jwk-set+json"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(!text.contains("\"d\""), "{text}");
    assert!(!text.contains("\"k\""), "{text}");
    serde_json::from_slice(&bytes).unwrap()
}

fn members(jwk: &Value) -> Vec<String> {
    let mut names: Vec<String> = jwk.as_object().unwrap().keys().cloned().collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn hmac_only_set_serves_no_keys() {
    let mut keys = KeySet::with_active(hs_key()).unwrap();
    keys.rotate(Algorithm::Hs256).unwrap();
    let jwks = fetch_jwks(keys).await;
    assert_eq!(jwks, serde_json::json!({"keys": []}));
}

#[tokio::test]
async fn eddsa_only_set_serves_public_parts() {
    let mut keys = KeySet::with_active(ed_key()).unwrap();
    keys.rotate(Algorithm::EdDsa).unwrap();
    let jwks = fetch_jwks(keys).await;
    let list = jwks["keys"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for jwk in list {
        assert_eq!(members(jwk), ["alg", "crv", "kid", "kty", "use", "x"]);
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
    }
    let ed1 = list.iter().find(|k| k["kid"] == "ed1").unwrap();
    assert_eq!(
        ed1["x"].as_str().unwrap(),
        b64(ed_key().ed25519_public_key().unwrap())
    );
    assert_ne!(ed1["x"].as_str().unwrap(), b64(ED_SEED));
}

#[tokio::test]
async fn mixed_set_serves_only_the_eddsa_keys() {
    // HS256 (active), Ed25519 and an A256GCM sealing key.
    let jwks = fetch_jwks(KeySet::from_json(&keys().to_private_json()).unwrap()).await;
    let list = jwks["keys"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["kid"], "ed1");
    assert_eq!(members(&list[0]), ["alg", "crv", "kid", "kty", "use", "x"]);
    let text = jwks.to_string();
    assert!(!text.contains(&b64(HS_SECRET)));
    assert!(!text.contains(&b64(ED_SEED)));
    assert!(!text.contains(&b64(SEAL_SECRET)));
    assert!(!text.contains("se1"), "sealing keys are never published");
}
