//! Algorithm confusion (RFC 8725 §3.1): the key decides the algorithm, never the header.

use std::sync::Arc;

use serde_json::{Value, json};
use tessera_protocol::{ErrorCode, Key, KeySet, Kid};

use crate::util::*;

/// A key set with both an HS256 key (hs1) and an Ed25519 key (ed1).
fn mixed() -> Arc<KeySet> {
    let mut set = KeySet::new();
    set.insert(Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap())
        .unwrap();
    set.insert(Key::ed25519(Kid::new("ed1").unwrap(), &ED_SEED, None).unwrap())
        .unwrap();
    Arc::new(set)
}

fn claims_text() -> String {
    serde_json::to_string(&claims()).unwrap()
}

#[test]
fn hs256_header_on_an_ed25519_kid_signed_with_the_public_key_is_refused() {
    let keys = mixed();
    let public = *keys.get("ed1").unwrap().ed25519_public_key().unwrap();
    let header = r#"{"alg":"HS256","typ":"tessera+jwt","kid":"ed1"}"#;
    // The classic attack: HMAC with the (public) Ed25519 key bytes as the secret.
    let mut secret = public.to_vec();
    secret.extend_from_slice(&public); // also ≥ 32 bytes either way
    for s in [public.as_slice(), secret.as_slice()] {
        let token = forge_with(header, &claims_text(), s);
        let err = verify_json(&keys, &token).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnsupportedAlgorithm);
    }
    // The public JWK's base64url text as the secret.
    let x = b64(public);
    let token = forge_with(header, &claims_text(), x.as_bytes());
    assert_eq!(
        verify_json(&keys, &token).unwrap_err().code(),
        ErrorCode::UnsupportedAlgorithm
    );
}

#[test]
fn eddsa_header_on_an_hmac_kid_is_refused() {
    let keys = mixed();
    let header = r#"{"alg":"EdDSA","typ":"tessera+jwt","kid":"hs1"}"#;
    let token = forge(header, &claims_text());
    assert_eq!(
        verify_json(&keys, &token).unwrap_err().code(),
        ErrorCode::UnsupportedAlgorithm
    );
}

#[test]
fn hs512_computed_with_the_hs256_secret_is_refused() {
    let header = r#"{"alg":"HS512","typ":"tessera+jwt","kid":"hs1"}"#;
    let input = format!("{}.{}", b64(header), b64(claims_text()));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA512, &HS_SECRET);
    let token = format!("{input}.{}", b64(ring::hmac::sign(&key, input.as_bytes())));
    assert_eq!(code_of(&token), ErrorCode::UnsupportedAlgorithm);
}

#[test]
fn alg_none_with_an_empty_or_any_signature_is_refused() {
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "tessera+jwt", "kid": "hs1"}).to_string();
        let unsigned = format!("{}.{}.", b64(&header), b64(claims_text()));
        assert_eq!(
            code_of(&unsigned),
            ErrorCode::Malformed,
            "empty signature segment"
        );
        let with_sig = format!("{unsigned}AAAA");
        assert_eq!(code_of(&with_sig), ErrorCode::UnsupportedAlgorithm);
    }
}

#[test]
fn weak_guessable_secrets_do_not_verify() {
    let keys = hs_keys();
    for secret in [
        &b"secret"[..],
        b"",
        b"password",
        b"hs1",
        &HS_SECRET[..16],
        b64(HS_SECRET).as_bytes(),
        hex(&HS_SECRET).as_bytes(),
    ] {
        let token = forge_with(HEADER, &claims_text(), secret);
        assert_eq!(
            verify_json(&keys, &token).unwrap_err().code(),
            ErrorCode::BadSignature
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn an_hmac_token_cannot_be_verified_by_an_eddsa_only_set_and_vice_versa() {
    let hs_token = minter(&hs_keys()).token(AUD).subject(SUB).mint().unwrap();
    let ed_token = minter(&ed_keys()).token(AUD).subject(SUB).mint().unwrap();
    assert_eq!(
        verify_json(&ed_keys(), &hs_token).unwrap_err().code(),
        ErrorCode::UnknownKey
    );
    assert_eq!(
        verify_json(&hs_keys(), &ed_token).unwrap_err().code(),
        ErrorCode::UnknownKey
    );
    // Both verify under the mixed set that holds both kids.
    let keys = mixed();
    assert!(
        verifier(&keys)
            .verify::<Value>(&hs_token, &expected())
            .is_ok()
    );
    assert!(
        verifier(&keys)
            .verify::<Value>(&ed_token, &expected())
            .is_ok()
    );
}

#[test]
fn non_canonical_or_zero_ed25519_signatures_are_refused() {
    let keys = ed_keys();
    let token = minter(&keys).token(AUD).subject(SUB).mint().unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    // S + L (the group order) is the same scalar mod L but non-canonical: must fail.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut s_plus_l = sig.clone();
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        s_plus_l[32 + i] = v as u8;
        carry = v >> 8;
    }
    for bad in [s_plus_l, vec![0u8; 64]] {
        let t = format!("{input}.{}", b64(&bad));
        assert_eq!(
            verify_json(&keys, &t).unwrap_err().code(),
            ErrorCode::BadSignature
        );
    }
}
