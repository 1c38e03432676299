//! Known-answer tests: the published RFC examples verify through the ring provider, and a
//! pinned tessera token keeps verifying (and minting byte-identically) across refactors.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_protocol::{Algorithm, ErrorCode, Key, KeySet, Kid, crypto};

use crate::util::*;

fn d(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn split(token: &str) -> (&str, &str) {
    let i = token.rfind('.').unwrap();
    (&token[..i], &token[i + 1..])
}

const RFC7515_A1_K: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const RFC7515_A1: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[test]
fn rfc7515_a1_hs256_verifies_and_reproduces_through_the_ring_provider() {
    let key = d(RFC7515_A1_K);
    let (input, sig) = split(RFC7515_A1);
    assert!(crypto::verify_raw(
        Algorithm::Hs256,
        &key,
        input.as_bytes(),
        sig
    ));
    assert_eq!(
        crypto::sign_raw(Algorithm::Hs256, &key, input.as_bytes()).as_deref(),
        Some(sig)
    );
    // One flipped bit of the key no longer verifies.
    let mut bad = key;
    bad[0] ^= 1;
    assert!(!crypto::verify_raw(
        Algorithm::Hs256,
        &bad,
        input.as_bytes(),
        sig
    ));
}

#[test]
fn rfc7515_a1_is_refused_by_the_tessera_profile() {
    // typ "JWT" and no kid: the tessera profile refuses it before any key is used.
    let key = Key::hs256(Kid::new("a1").unwrap(), &d(RFC7515_A1_K)).unwrap();
    let keys = std::sync::Arc::new(KeySet::with_active(key).unwrap());
    let err = verifier_at(&keys, 1_300_819_000)
        .verify::<Value>(RFC7515_A1, &expected())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed);
}

#[test]
fn rfc7797_b64_examples_verify_raw_and_unencoded_payloads_are_refused_by_the_profile() {
    let key = d(RFC7515_A1_K);
    // §4.1, "b64": true (the default): an ordinary JWS over the payload "$.02".
    let (input, sig) =
        split("eyJhbGciOiJIUzI1NiJ9.JC4wMg.5mvfOroL-g7HyqJoozehmsaqmvTYGEq5jTI1gVvoEoQ");
    assert_eq!(d(input.split_once('.').unwrap().1), b"$.02");
    assert!(crypto::verify_raw(
        Algorithm::Hs256,
        &key,
        input.as_bytes(),
        sig
    ));
    // §4.2, "b64": false: the signing input holds the payload itself, unencoded.
    let protected = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19";
    assert_eq!(
        d(protected),
        br#"{"alg":"HS256","b64":false,"crit":["b64"]}"#
    );
    let sig = "A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY";
    assert!(crypto::verify_raw(
        Algorithm::Hs256,
        &key,
        format!("{protected}.$.02").as_bytes(),
        sig
    ));
    // The profile refuses an unencoded payload in every compact shape, and a tessera header
    // that asks for one (b64 false, crit b64) even when it is signed as an ordinary JWS.
    let k = Key::hs256(Kid::new("hs1").unwrap(), &key).unwrap();
    let keys = std::sync::Arc::new(KeySet::with_active(k).unwrap());
    let claims = serde_json::to_string(&claims()).unwrap();
    let header = r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","b64":false,"crit":["b64"]}"#;
    let ordinary = format!("{}.{}", b64(header), b64(&claims));
    let signed_ordinary = crypto::sign_raw(Algorithm::Hs256, &key, ordinary.as_bytes()).unwrap();
    let unencoded = format!("{}.{claims}", b64(header));
    let signed_unencoded = crypto::sign_raw(Algorithm::Hs256, &key, unencoded.as_bytes()).unwrap();
    for token in [
        format!("{protected}..{sig}"),
        format!("{protected}.$.02.{sig}"),
        format!("{ordinary}.{signed_ordinary}"),
        format!("{}..{signed_unencoded}", b64(header)),
        format!("{unencoded}.{signed_unencoded}"),
    ] {
        let err = verifier(&keys)
            .verify::<Value>(&token, &expected())
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Malformed, "{token}");
    }
}

const RFC7520_44_K: &str = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";
const RFC7520_44: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

#[test]
fn rfc7520_4_4_hs256_with_kid_verifies() {
    let (input, sig) = split(RFC7520_44);
    assert!(crypto::verify_raw(
        Algorithm::Hs256,
        &d(RFC7520_44_K),
        input.as_bytes(),
        sig
    ));
}

const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_A4: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// RFC 8410 PKCS#8 v1 wrapping of an Ed25519 seed.
fn pkcs8(seed: &[u8]) -> Vec<u8> {
    let mut doc = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    doc.extend_from_slice(seed);
    doc
}

#[test]
fn rfc8037_a4_ed25519_verifies_and_signing_is_deterministic() {
    let (input, sig) = split(RFC8037_A4);
    assert!(crypto::verify_raw(
        Algorithm::EdDsa,
        &d(RFC8037_X),
        input.as_bytes(),
        sig
    ));
    // Ed25519 is deterministic: signing with d reproduces the published signature.
    assert_eq!(
        crypto::sign_raw(Algorithm::EdDsa, &pkcs8(&d(RFC8037_D)), input.as_bytes()).as_deref(),
        Some(sig)
    );
    // d derives x: the key loads as a consistent pair, and the public part is x.
    let key = Key::ed25519(Kid::new("a4").unwrap(), &d(RFC8037_D), Some(&d(RFC8037_X))).unwrap();
    assert_eq!(
        key.ed25519_public_key().unwrap().as_slice(),
        d(RFC8037_X).as_slice()
    );
    // A signature over a different message fails.
    assert!(!crypto::verify_raw(
        Algorithm::EdDsa,
        &d(RFC8037_X),
        b"other",
        sig
    ));
}

#[test]
fn rfc8037_a1_private_key_with_a_foreign_public_key_is_refused() {
    let err = Key::ed25519(Kid::new("a4").unwrap(), &d(RFC8037_D), Some(&[9u8; 32])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
}

/// Minted with the fixed HS256 test key at NOW with jti "AAAAAAAAAAAAAAAAAAAAAA", in the
/// minted form of spec §2.6 (the payload struct's members sorted by name). If this changes, the
/// minter no longer writes the spec's bytes (the mint vectors say where).
const PINNED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6InRlc3NlcmErand0Iiwia2lkIjoiaHMxIn0.eyJpc3MiOiJpbnZlbnRyZWUiLCJhdWQiOiJwbHVnaW46c3RvY2stdG9vbHMvYWN0aW9uOnRyYW5zZmVyIiwic3ViIjoidXNlcjo0MiIsImlhdCI6MTc5MDAwMDAwMCwiZXhwIjoxNzkwMDAwMzAwLCJqdGkiOiJBQUFBQUFBQUFBQUFBQUFBQUFBQUFBIiwiZGF0Ijp7ImxvY2F0aW9uIjoiV0gtMDEvQS8zIiwibW9kZSI6InRyYW5zZmVyIiwibm90ZSI6InJlc3RvY2sgZnJvbSBzdXBwbGllciBvcmRlciBQTy0yMjMxIiwicGFydF9pZCI6MTIzNCwicXR5IjoyNX19.2Z1zm92DTWbIkvi-Ejo2oWGT4Saf54YFNPlA07n94C0";

/// The same token as minted before spec §2.6 fixed the member order of `dat` (the struct's
/// field order): tokens minted then must keep verifying.
const PINNED_FIELD_ORDER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6InRlc3NlcmErand0Iiwia2lkIjoiaHMxIn0.eyJpc3MiOiJpbnZlbnRyZWUiLCJhdWQiOiJwbHVnaW46c3RvY2stdG9vbHMvYWN0aW9uOnRyYW5zZmVyIiwic3ViIjoidXNlcjo0MiIsImlhdCI6MTc5MDAwMDAwMCwiZXhwIjoxNzkwMDAwMzAwLCJqdGkiOiJBQUFBQUFBQUFBQUFBQUFBQUFBQUFBIiwiZGF0Ijp7InBhcnRfaWQiOjEyMzQsImxvY2F0aW9uIjoiV0gtMDEvQS8zIiwicXR5IjoyNSwibW9kZSI6InRyYW5zZmVyIiwibm90ZSI6InJlc3RvY2sgZnJvbSBzdXBwbGllciBvcmRlciBQTy0yMjMxIn19.1Qg59NZAm3G9-orRN4cJYsW9MZYtEc-gRSFk87NkwdQ";

#[test]
fn pinned_token_is_minted_byte_identically_and_verifies() {
    let keys = hs_keys();
    let token = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .payload(&transfer())
        .mint_with_jti("AAAAAAAAAAAAAAAAAAAAAA")
        .unwrap();
    assert_eq!(token, PINNED);
    for pinned in [PINNED, PINNED_FIELD_ORDER] {
        let ok = verifier(&keys)
            .verify::<Transfer>(pinned, &expected())
            .unwrap();
        assert_eq!(ok.claims.dat, transfer());
    }
}
