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

/// The encodings (`y` little-endian, sign bit clear) of the Ed25519 points of small order:
/// y = 0 (order 4), 1 (the identity), ±y8 (order 8) and p − 1 (order 2), then the
/// non-canonical p (≡ 0) and p + 1 (≡ 1). Each also with the sign bit set (below).
const SMALL_ORDER_Y: [[u8; 32]; 7] = {
    let zero = [0u8; 32];
    let mut one = [0u8; 32];
    one[0] = 1;
    let y8 = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    let minus_y8 = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let mut p_minus_1 = [0xffu8; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    let mut p = p_minus_1;
    p[0] = 0xed;
    let mut p_plus_1 = p_minus_1;
    p_plus_1[0] = 0xee;
    [zero, one, y8, minus_y8, p_minus_1, p, p_plus_1]
};

/// Every small-order encoding, with the sign bit clear and set.
fn small_order_public_keys() -> Vec<[u8; 32]> {
    SMALL_ORDER_Y
        .iter()
        .flat_map(|y| {
            let mut signed = *y;
            signed[31] |= 0x80;
            [*y, signed]
        })
        .collect()
}

/// `R || 0` for each small-order encoding `R`: the signatures to try against a small-order key.
fn small_order_signatures() -> impl Iterator<Item = [u8; 64]> {
    small_order_public_keys().into_iter().map(|r| {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig
    })
}

#[test]
fn each_canonical_small_order_key_admits_a_forgery_under_ring() {
    // Why such keys must be refused, and a check of the list above: under a public key A of
    // small order, ring's check [S]B == R + [h]A with S = 0 holds whenever R = -[h]A, a point
    // of the same small subgroup, so one of the small-order encodings R makes `R || 0` a
    // valid signature of any message. (The non-canonical encodings, y >= p, are refused as
    // such whether or not ring decodes them.)
    let message = b"eyJhbGciOiJFZERTQSJ9.any claims at all";
    for y in &SMALL_ORDER_Y[..5] {
        for sign in [0, 0x80] {
            let mut public = *y;
            public[31] |= sign;
            let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public);
            assert!(
                small_order_signatures().any(|sig| key.verify(message, &sig).is_ok()),
                "{}",
                b64(public)
            );
        }
    }
    // A real public key admits no such forgery.
    let real = Key::ed25519(Kid::new("real").unwrap(), &ED_SEED, None).unwrap();
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ED25519,
        *real.ed25519_public_key().unwrap(),
    );
    assert!(small_order_signatures().all(|sig| key.verify(message, &sig).is_err()));
}

#[test]
fn a_small_order_ed25519_public_key_is_refused_so_no_token_is_forged_with_it() {
    // A verify-only key is the one place tessera takes a public key as given (a key file
    // without "d", a published key set): a small-order x would let anyone sign anything.
    let claims = claims_text();
    for public in small_order_public_keys() {
        let x = b64(public);
        let doc = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "weak", "use": "sig",
            "alg": "EdDSA", "x": x}]})
        .to_string();
        for loaded in [
            KeySet::from_public_jwks(&doc),
            KeySet::from_json(&doc),
            Key::ed25519_public(Kid::new("weak").unwrap(), &public).and_then(|key| {
                let mut set = KeySet::new();
                set.insert(key).map(|()| set)
            }),
        ] {
            match loaded {
                Err(e) => {
                    assert_eq!(e.code(), ErrorCode::InvalidKey, "{x}");
                    assert!(!e.to_string().contains(&x), "{e}");
                }
                Ok(keys) => {
                    let keys = Arc::new(keys);
                    let header = r#"{"alg":"EdDSA","typ":"tessera+jwt","kid":"weak"}"#;
                    let input = format!("{}.{}", b64(header), b64(&claims));
                    let accepted = small_order_signatures().find(|sig| {
                        let token = format!("{input}.{}", b64(sig));
                        verifier(&keys).verify::<Value>(&token, &expected()).is_ok()
                    });
                    panic!(
                        "the small-order key {x} was loaded; a token with a forged signature {}",
                        if accepted.is_some() {
                            "VERIFIED"
                        } else {
                            "did not verify"
                        }
                    );
                }
            }
        }
    }
}
