//! Sealed tokens (JWE compact, `dir` + `A256GCM`): round trips, integrity of every segment,
//! confidentiality of the payload, and no confusion between sealing and signing keys.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_protocol::dangerous::decode_unverified;
use tessera_protocol::{Accept, Algorithm, ErrorCode, Expected, Key, KeySet, Kid};

use crate::util::*;

const SEAL_SECRET: [u8; 32] = [0x33; 32];
const MARKER: &str = "MARKER-internal-price-4711";

/// HS256 signing key hs1 (active) and A256GCM sealing key enc1 (active sealing).
fn keys() -> Arc<KeySet> {
    let mut set =
        KeySet::with_active(Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap()).unwrap();
    set.insert(Key::a256gcm(Kid::new("enc1").unwrap(), &SEAL_SECRET).unwrap())
        .unwrap();
    set.set_active_sealing(&Kid::new("enc1").unwrap()).unwrap();
    Arc::new(set)
}

fn sealed(keys: &Arc<KeySet>) -> String {
    minter(keys)
        .token(AUD)
        .subject(SUB)
        .payload(&json!({"part_id": 1234, "note": MARKER}))
        .seal()
        .unwrap()
}

fn expect_sealed() -> Expected<'static> {
    expected().accept(Accept::Sealed)
}

#[test]
fn sealed_round_trip() {
    let keys = keys();
    let token = sealed(&keys);
    assert_eq!(token.split('.').count(), 5);
    assert_eq!(
        token.split('.').nth(1),
        Some(""),
        "dir: empty encrypted key"
    );
    let ok = verifier(&keys)
        .verify::<Value>(&token, &expect_sealed())
        .unwrap();
    assert_eq!(ok.claims.dat["note"], MARKER);
    assert_eq!(ok.header.alg, Algorithm::A256Gcm);
    assert_eq!(ok.header.kid.as_str(), "enc1");
    // Accept::Either takes it too.
    assert!(
        verifier(&keys)
            .verify::<Value>(&token, &expected().accept(Accept::Either))
            .is_ok()
    );
}

#[test]
fn the_payload_appears_nowhere_in_the_token_or_its_decoded_segments() {
    let keys = keys();
    let token = sealed(&keys);
    assert!(!token.contains(MARKER));
    for segment in token.split('.') {
        let decoded = URL_SAFE_NO_PAD.decode(segment).unwrap();
        let text = String::from_utf8_lossy(&decoded);
        assert!(!text.contains(MARKER), "segment decodes to the marker");
        assert!(!text.contains("part_id"));
    }
    // Inspecting shows the protected header only.
    let u = decode_unverified(&token).unwrap();
    assert_eq!(u.claims, None);
    assert_eq!(
        u.header,
        json!({"alg": "dir", "enc": "A256GCM", "typ": "tessera+jwt", "kid": "enc1"})
    );
}

#[test]
fn nonces_are_fresh_for_every_token() {
    let keys = keys();
    let ivs: std::collections::HashSet<String> = (0..200)
        .map(|_| sealed(&keys).split('.').nth(2).unwrap().to_owned())
        .collect();
    assert_eq!(ivs.len(), 200);
}

#[test]
fn a_flipped_byte_in_any_of_the_five_segments_is_refused() {
    let keys = keys();
    let token = sealed(&keys);
    let segments: Vec<&str> = token.split('.').collect();
    for i in 0..5 {
        let mut parts: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
        if parts[i].is_empty() {
            parts[i] = "AA".to_owned(); // the empty encrypted-key segment gains content
        } else {
            let mut raw = URL_SAFE_NO_PAD.decode(&parts[i]).unwrap();
            raw[0] ^= 0x01;
            parts[i] = URL_SAFE_NO_PAD.encode(&raw);
        }
        let bad = parts.join(".");
        let err = verifier(&keys)
            .verify::<Value>(&bad, &expect_sealed())
            .unwrap_err();
        let want = match i {
            0 => [ErrorCode::Malformed, ErrorCode::BadSignature], // header JSON may break, else AAD fails
            1 => [ErrorCode::Malformed, ErrorCode::Malformed],
            _ => [ErrorCode::BadSignature, ErrorCode::BadSignature],
        };
        assert!(want.contains(&err.code()), "segment {i}: {:?}", err.code());
        if i == 1 {
            // The message states the rule the segment breaks, not the opposite.
            let message = err.to_string();
            assert!(
                message.contains("must be empty") && !message.contains("segment is empty"),
                "{message}"
            );
        }
    }
}

#[test]
fn a_header_change_that_keeps_valid_json_fails_authentication() {
    let keys = keys();
    let token = sealed(&keys);
    let (_, rest) = token.split_once('.').unwrap();
    // Same members, different order: still a valid header, but not the AAD that was sealed.
    let header = r#"{"typ":"tessera+jwt","alg":"dir","enc":"A256GCM","kid":"enc1"}"#;
    let bad = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header));
    assert_eq!(
        verifier(&keys)
            .verify::<Value>(&bad, &expect_sealed())
            .unwrap_err()
            .code(),
        ErrorCode::BadSignature
    );
}

#[test]
fn the_wrong_sealing_key_is_refused() {
    let keys = keys();
    let token = sealed(&keys);
    let mut other = KeySet::new();
    other
        .insert(Key::a256gcm(Kid::new("enc1").unwrap(), &[0x44; 32]).unwrap())
        .unwrap();
    let err = verifier(&Arc::new(other))
        .verify::<Value>(&token, &expect_sealed())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadSignature);
}

#[test]
fn signed_and_sealed_tokens_are_refused_on_each_others_routes() {
    let keys = keys();
    let sealed = sealed(&keys);
    let signed = minter(&keys).token(AUD).subject(SUB).mint().unwrap();
    let err = verifier(&keys)
        .verify::<Value>(&sealed, &expected())
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Malformed,
        "sealed on a signed-only route"
    );
    let err = verifier(&keys)
        .verify::<Value>(&signed, &expect_sealed())
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Malformed,
        "signed on a sealed-only route"
    );
}

#[test]
fn a_sealing_key_never_verifies_and_a_signing_key_never_decrypts() {
    let keys = keys();
    // A JWS whose header names the sealing key, MACed with the sealing key's bytes.
    let header = r#"{"alg":"HS256","typ":"tessera+jwt","kid":"enc1"}"#;
    let jws = forge_with(
        header,
        &serde_json::to_string(&claims()).unwrap(),
        &SEAL_SECRET,
    );
    let err = verifier(&keys)
        .verify::<Value>(&jws, &expected())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedAlgorithm);
    // A JWE whose header names the HMAC key, sealed with the HMAC secret as AES key.
    let h =
        URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256GCM","typ":"tessera+jwt","kid":"hs1"}"#);
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &HS_SECRET).unwrap(),
    );
    let mut body = serde_json::to_vec(&claims()).unwrap();
    let tag = key
        .seal_in_place_separate_tag(
            ring::aead::Nonce::assume_unique_for_key([7; 12]),
            ring::aead::Aad::from(h.as_bytes()),
            &mut body,
        )
        .unwrap();
    let jwe = format!(
        "{h}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode([7u8; 12]),
        URL_SAFE_NO_PAD.encode(&body),
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    );
    let err = verifier(&keys)
        .verify::<Value>(&jwe, &expect_sealed())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedAlgorithm);
}

/// A sealed token with a header of our choosing, encrypted under enc1's secret (so that only
/// the header's checks can refuse it).
fn seal_raw(header: &str, claims: &str) -> String {
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &SEAL_SECRET).unwrap(),
    );
    let header_b64 = URL_SAFE_NO_PAD.encode(header);
    let iv = [7u8; 12];
    let mut data = claims.as_bytes().to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            ring::aead::Nonce::assume_unique_for_key(iv),
            ring::aead::Aad::from(header_b64.as_bytes()),
            &mut data,
        )
        .unwrap();
    format!(
        "{header_b64}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(&data),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

#[test]
fn sealed_alg_and_enc_are_compared_exactly_as_parsed_json() {
    let keys = keys();
    let claims = serde_json::to_string(&claims()).unwrap();
    let good = r#"{"alg":"dir","enc":"A256GCM","typ":"tessera+jwt","kid":"enc1"}"#;
    assert!(
        verifier(&keys)
            .verify::<Value>(&seal_raw(good, &claims), &expect_sealed())
            .is_ok()
    );
    for (alg, enc) in [
        ("DIR", "A256GCM"),
        ("Dir", "A256GCM"),
        (" dir", "A256GCM"),
        ("dir", "a256gcm"),
        ("dir", "A256GCM "),
        ("dir", "A256GCM\\u0000"),
        ("dir", "A256GCM-KW"),
        ("dir", "A128CBC-HS256"),
        ("dir", "HS256"),
        ("A256GCM", "A256GCM"),
        ("none", "A256GCM"),
        ("dir", "none"),
        ("PBES2-HS256+A128KW", "A256GCM"),
        ("ECDH-ES", "A256GCM"),
    ] {
        let header = format!(r#"{{"alg":"{alg}","enc":"{enc}","typ":"tessera+jwt","kid":"enc1"}}"#);
        assert_eq!(
            verifier(&keys)
                .verify::<Value>(&seal_raw(&header, &claims), &expect_sealed())
                .unwrap_err()
                .code(),
            ErrorCode::UnsupportedAlgorithm,
            "{header}"
        );
    }
    // Parsed JSON: escaped spellings of dir and A256GCM are dir and A256GCM.
    let escaped = r#"{"alg":"\u0064ir","enc":"A256\u0047CM","typ":"tessera+jwt","kid":"enc1"}"#;
    assert!(
        verifier(&keys)
            .verify::<Value>(&seal_raw(escaped, &claims), &expect_sealed())
            .is_ok()
    );
}

#[test]
fn other_jwe_algorithms_and_compression_are_refused() {
    let keys = keys();
    let token = sealed(&keys);
    let rest = token.split_once('.').unwrap().1;
    for header in [
        r#"{"alg":"dir","enc":"A128GCM","typ":"tessera+jwt","kid":"enc1"}"#,
        r#"{"alg":"A256KW","enc":"A256GCM","typ":"tessera+jwt","kid":"enc1"}"#,
        r#"{"alg":"none","enc":"A256GCM","typ":"tessera+jwt","kid":"enc1"}"#,
    ] {
        let bad = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header));
        assert_eq!(
            verifier(&keys)
                .verify::<Value>(&bad, &expect_sealed())
                .unwrap_err()
                .code(),
            ErrorCode::UnsupportedAlgorithm,
            "{header}"
        );
    }
    // zip is not offered (RFC 8725 §3.6): a header asking for it is malformed.
    let zip = r#"{"alg":"dir","enc":"A256GCM","zip":"DEF","typ":"tessera+jwt","kid":"enc1"}"#;
    let bad = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(zip));
    assert_eq!(
        verifier(&keys)
            .verify::<Value>(&bad, &expect_sealed())
            .unwrap_err()
            .code(),
        ErrorCode::Malformed
    );
    // A sealed header without enc, and a signed header with enc.
    let no_enc = format!(
        "{}.{rest}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","typ":"tessera+jwt","kid":"enc1"}"#)
    );
    assert_eq!(
        verifier(&keys)
            .verify::<Value>(&no_enc, &expect_sealed())
            .unwrap_err()
            .code(),
        ErrorCode::Malformed
    );
    let with_enc = forge(
        r#"{"alg":"HS256","enc":"A256GCM","typ":"tessera+jwt","kid":"hs1"}"#,
        &serde_json::to_string(&claims()).unwrap(),
    );
    assert_eq!(
        verifier(&keys)
            .verify::<Value>(&with_enc, &expected())
            .unwrap_err()
            .code(),
        ErrorCode::Malformed
    );
}

#[test]
fn sealed_tokens_get_the_same_claim_checks() {
    let keys = keys();
    let token = sealed(&keys);
    let at = |now| {
        verifier_at(&keys, now)
            .verify::<Value>(&token, &expect_sealed())
            .map(|_| ())
            .map_err(|e| e.code())
    };
    assert_eq!(at(NOW + 330), Err(ErrorCode::Expired));
    assert_eq!(at(NOW - 100), Err(ErrorCode::NotYetValid));
    let err = verifier(&keys)
        .verify::<Value>(&token, &Expected::audience("other").accept(Accept::Sealed))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::WrongAudience);
    let err = verifier(&keys)
        .verify::<Value>(
            &token,
            &Expected::audience(AUD)
                .subject("user:7")
                .accept(Accept::Sealed),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::WrongSubject);
}

/// Spec §9.2 and §2.4 rule 5: the protected header and the plaintext claims are JSON objects.
/// Arrays holding the same values in field order, sealed with the right key, are malformed.
#[test]
fn a_sealed_header_or_claims_written_as_json_arrays_are_malformed() {
    let keys = keys();
    let claims_object = serde_json::to_string(&claims()).unwrap();
    let header_object = r#"{"alg":"dir","enc":"A256GCM","typ":"tessera+jwt","kid":"enc1"}"#;
    let code = |token: &str| {
        verifier(&keys)
            .verify::<Value>(token, &expect_sealed())
            .map(|_| ())
            .map_err(|e| e.code())
    };
    // Header as an array (alg, typ, kid, enc), claims an object.
    let header_array = r#"["dir","tessera+jwt","enc1","A256GCM"]"#;
    assert_eq!(
        code(&seal_raw(header_array, &claims_object)),
        Err(ErrorCode::Malformed)
    );
    // Claims as an array (iss, aud, sub, iat, nbf, exp, jti, fpr, dat), header an object.
    let exp = NOW + 300;
    let claims_array = format!(
        r#"["{ISS}","{AUD}","{SUB}",{NOW},{NOW},{exp},"AAAAAAAAAAAAAAAAAAAAAA","v1",null]"#
    );
    assert_eq!(
        code(&seal_raw(header_object, &claims_array)),
        Err(ErrorCode::Malformed)
    );
}

#[test]
fn a_sealed_tokens_errors_do_not_disclose_its_times_or_payload_positions() {
    let keys = keys();
    let token = sealed(&keys);
    let exp = (NOW + 300).to_string();
    let iat = NOW.to_string();
    let err = |now: u64, expected: &Expected<'_>| {
        verifier_at(&keys, now)
            .verify::<Value>(&token, expected)
            .unwrap_err()
    };
    let expired = err(NOW + 400, &expect_sealed());
    assert_eq!(
        expired,
        tessera_protocol::Error::Expired {
            exp: None,
            now: NOW + 400
        }
    );
    let early = err(NOW - 100, &expect_sealed());
    assert_eq!(early.code(), ErrorCode::NotYetValid);
    let lifetime = verifier(&keys)
        .with_max_lifetime(std::time::Duration::from_secs(60))
        .unwrap()
        .verify::<Value>(&token, &expect_sealed())
        .unwrap_err();
    assert_eq!(lifetime.code(), ErrorCode::LifetimeTooLong);
    for e in [&expired, &early, &lifetime] {
        let text = e.to_string();
        assert!(!text.contains(&exp) && !text.contains(&iat), "{text}");
        assert!(!text.contains("300s") && !text.contains("100s"), "{text}");
    }
    // A payload that does not fit: the category, without a position inside the plaintext.
    let bad = verifier(&keys)
        .verify::<u32>(&token, &expect_sealed())
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::BadPayload);
    assert!(!bad.to_string().contains("column"), "{bad}");
    // The same checks on a signed token name the times, which its holder can read anyway.
    let signed = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .payload(&1u32)
        .mint()
        .unwrap();
    let expired = verifier_at(&keys, NOW + 400)
        .verify::<Value>(&signed, &expected())
        .unwrap_err();
    assert!(expired.to_string().contains(&exp), "{expired}");
}

#[test]
fn sealing_keys_rotate_load_and_never_leave_in_public_exports() {
    let mut set = KeySet::generate(Algorithm::Hs256).unwrap();
    let first = set.rotate(Algorithm::A256Gcm).unwrap();
    assert_eq!(set.active_sealing().unwrap().kid(), &first);
    let set_arc = Arc::new(KeySet::from_json(&set.to_private_json()).unwrap());
    let old = minter(&set_arc).token(AUD).seal().unwrap();
    let second = set.rotate(Algorithm::A256Gcm).unwrap();
    let rotated = Arc::new(KeySet::from_json(&set.to_private_json()).unwrap());
    assert_eq!(rotated.active_sealing().unwrap().kid(), &second);
    let any = Expected::audience(AUD).accept(Accept::Sealed);
    assert!(
        verifier(&rotated).verify::<Value>(&old, &any).is_ok(),
        "old sealing key still opens"
    );
    assert_eq!(
        set.retire(&second).unwrap_err().code(),
        ErrorCode::InvalidKey,
        "active"
    );
    set.retire(&first).unwrap();
    let retired = Arc::new(KeySet::from_json(&set.to_private_json()).unwrap());
    assert_eq!(
        verifier(&retired)
            .verify::<Value>(&old, &any)
            .unwrap_err()
            .code(),
        ErrorCode::UnknownKey
    );
    assert_eq!(set.public_jwks(), json!({"keys": []}));
    // A sealing key cannot be the signing key, and a 16-byte key is refused.
    assert_eq!(
        set.set_active(&second).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
    assert_eq!(
        Key::a256gcm(Kid::new("e").unwrap(), &[1; 16])
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKey
    );
    let sealing_json = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"e","use":"sig","alg":"A256GCM","k":"{}"}}]}}"#,
        b64([1u8; 32])
    );
    assert_eq!(
        KeySet::from_json(&sealing_json).unwrap_err().code(),
        ErrorCode::InvalidKey,
        "use sig on an enc key"
    );
}

#[test]
fn rfc7516_a1_content_layer_decrypts_with_ring_aes_256_gcm() {
    // RFC 7516 Appendix A.1: the A256GCM content layer (its key is RSA-OAEP-wrapped; ring has
    // no RSA-OAEP, so the CEK is taken from the RFC directly).
    let d = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
    let cek = d("saH0gFSP4XM_tAP_a5rU9ooHbltwLiJpL4LLLnrqQPw");
    let iv: [u8; 12] = d("48V1_ALb6US04U3b").try_into().unwrap();
    let aad = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ";
    let mut in_out =
        d("5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A");
    in_out.extend(d("XFBoMYUZodetZdvTiFvSkQ"));
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &cek).unwrap(),
    );
    let plain = key
        .open_in_place(
            ring::aead::Nonce::assume_unique_for_key(iv),
            ring::aead::Aad::from(aad.as_bytes()),
            &mut in_out,
        )
        .unwrap();
    assert_eq!(
        plain,
        b"The true sign of intelligence is not knowledge but imagination."
    );
}

/// `Debug` of a verified sealed token leaves its claims out (payload and times are the secret
/// plaintext); a signed token's `Debug` shows them.
#[test]
fn debug_of_a_verified_sealed_token_shows_no_claim() {
    let keys = keys();
    let ok = verifier(&keys)
        .verify::<Value>(&sealed(&keys), &expect_sealed())
        .unwrap();
    let shown = format!("{ok:?}");
    assert!(!shown.contains(MARKER), "{shown}");
    assert!(!shown.contains(&ok.claims.exp.to_string()), "{shown}");
    assert!(shown.contains("enc1"), "the header is shown: {shown}");
    let signed = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .payload(&json!({"note": MARKER}))
        .mint()
        .unwrap();
    let ok = verifier(&keys)
        .verify::<Value>(&signed, &expected())
        .unwrap();
    assert!(format!("{ok:?}").contains(MARKER));
}
