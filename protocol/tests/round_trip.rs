//! Mint then verify with a typed payload, for both algorithms.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use tessera_protocol::dangerous::decode_unverified;
use tessera_protocol::{Algorithm, Expected, TYP};

use crate::util::*;

fn round_trip(keys: std::sync::Arc<tessera_protocol::KeySet>, alg: Algorithm) {
    let token = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .payload(&transfer())
        .mint()
        .unwrap();
    let ok = verifier(&keys)
        .verify::<Transfer>(&token, &expected())
        .unwrap();
    assert_eq!(ok.claims.dat, transfer());
    assert_eq!(ok.header.alg, alg);
    assert_eq!(ok.claims.iss, ISS);
    assert_eq!(ok.claims.aud, AUD);
    assert_eq!(ok.claims.sub.as_deref(), Some(SUB));
    assert_eq!(ok.claims.iat, NOW);
    assert_eq!(ok.claims.nbf, NOW);
    assert_eq!(ok.claims.exp, NOW + 300);
    assert_eq!(ok.claims.jti.len(), 22, "128 random bits, base64url");
    // The header carries explicit typing and the key id; the algorithm is the key's.
    let raw = decode_unverified(&token).unwrap();
    assert_eq!(raw.header["typ"], TYP);
    assert_eq!(raw.header["alg"], alg.as_str());
    assert_eq!(raw.header["kid"], keys.active().unwrap().kid().as_str());
    assert_eq!(raw.header.as_object().unwrap().len(), 3);
}

#[test]
fn hs256_round_trip_with_typed_payload() {
    round_trip(hs_keys(), Algorithm::Hs256);
}

#[test]
fn eddsa_round_trip_with_typed_payload() {
    round_trip(ed_keys(), Algorithm::EdDsa);
}

#[test]
fn reference_token_is_barely_longer_than_a_plain_jwt_of_the_same_claims() {
    // A plain JWT ({"alg":"HS256","typ":"JWT"}, same claims with nbf) of the reference payload
    // is 452 bytes; tessera's is 457 (README): its explicit typ and kid cost more than the nbf
    // it omits (nbf equal to iat) saves. 4-character kids keep the difference small.
    let keys = tessera_protocol::KeySet::generate(Algorithm::Hs256).unwrap();
    let keys = std::sync::Arc::new(keys);
    let token = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .payload(&transfer())
        .mint()
        .unwrap();
    assert!(
        token.len() <= 460,
        "reference token is {} bytes",
        token.len()
    );
}

#[test]
fn jti_is_fresh_for_every_token() {
    let keys = hs_keys();
    let m = minter(&keys);
    let jtis: HashSet<String> = (0..200)
        .map(|_| {
            let t = m.token(AUD).mint().unwrap();
            verifier(&keys)
                .verify::<Value>(&t, &Expected::audience(AUD))
                .unwrap()
                .claims
                .jti
        })
        .collect();
    assert_eq!(jtis.len(), 200);
}

#[test]
fn token_without_payload_or_subject_carries_null_and_verifies_without_expected_subject() {
    let keys = hs_keys();
    let token = minter(&keys).token(AUD).mint().unwrap();
    let ok = verifier(&keys)
        .verify::<Option<u8>>(&token, &Expected::audience(AUD))
        .unwrap();
    assert_eq!(ok.claims.dat, None);
    assert_eq!(ok.claims.sub, None);
}

#[test]
fn not_before_and_fingerprint_travel_in_the_token() {
    let keys = hs_keys();
    let token = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .not_before(NOW + 100)
        .fingerprint("v7")
        .ttl(Duration::from_secs(600))
        .mint()
        .unwrap();
    let ok = verifier_at(&keys, NOW + 100)
        .verify::<Value>(&token, &expected())
        .unwrap();
    assert_eq!(ok.claims.nbf, NOW + 100);
    assert_eq!(ok.claims.fpr.as_deref(), Some("v7"));
}

#[test]
fn leeway_accepts_a_token_just_past_exp() {
    let keys = hs_keys();
    let token = minter(&keys).token(AUD).subject(SUB).mint().unwrap();
    assert!(
        verifier_at(&keys, NOW + 300 + 29)
            .verify::<Value>(&token, &expected())
            .is_ok()
    );
    assert!(
        verifier_at(&keys, NOW + 300 + 30)
            .verify::<Value>(&token, &expected())
            .is_err()
    );
}
