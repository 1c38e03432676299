//! Rotation and retirement, and the JWK Set file format.

use std::sync::Arc;

use serde_json::Value;
use tessera_protocol::{
    Algorithm, ErrorCode, Expected, Key, KeySet, Kid, MAX_KEY_SET_BYTES, MAX_KEYS,
};

use crate::util::*;

#[test]
fn rotation_keeps_old_tokens_valid_and_retirement_makes_them_unknown_key() {
    let mut set = KeySet::generate(Algorithm::Hs256).unwrap();
    let first = set.active().unwrap().kid().clone();
    let old_token = minter(&Arc::new(
        KeySet::from_json(&set.to_private_json()).unwrap(),
    ))
    .token(AUD)
    .mint()
    .unwrap();
    let second = set.rotate(Algorithm::EdDsa).unwrap();
    assert_ne!(first, second);
    let rotated = Arc::new(KeySet::from_json(&set.to_private_json()).unwrap());
    // The previous key still verifies; new tokens carry the new kid.
    assert!(
        verifier(&rotated)
            .verify::<Value>(&old_token, &Expected::audience(AUD))
            .is_ok()
    );
    let new_token = minter(&rotated).token(AUD).mint().unwrap();
    let ok = verifier(&rotated)
        .verify::<Value>(&new_token, &Expected::audience(AUD))
        .unwrap();
    assert_eq!(ok.header.kid, second);
    // Retired: unknown_key.
    set.retire(&first).unwrap();
    let retired = Arc::new(KeySet::from_json(&set.to_private_json()).unwrap());
    let err = verifier(&retired)
        .verify::<Value>(&old_token, &Expected::audience(AUD))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownKey);
}

#[test]
fn the_active_key_cannot_be_retired_and_unknown_kids_cannot_be_retired() {
    let mut set = KeySet::generate(Algorithm::Hs256).unwrap();
    let active = set.active().unwrap().kid().clone();
    assert_eq!(
        set.retire(&active).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
    assert_eq!(
        set.retire(&Kid::new("nope").unwrap()).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
}

#[test]
fn key_set_loads_from_a_file_and_from_the_environment() {
    let set = KeySet::generate(Algorithm::EdDsa).unwrap();
    let dir = std::env::temp_dir().join(format!("tessera-keyset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.json");
    std::fs::write(&path, set.to_private_json()).unwrap();
    let from_file = KeySet::from_file(&path).unwrap();
    assert_eq!(
        from_file.active().unwrap().kid(),
        set.active().unwrap().kid()
    );
    let missing = KeySet::from_file(dir.join("missing.json")).unwrap_err();
    assert_eq!(missing.code(), ErrorCode::InvalidKey);
    assert!(missing.to_string().contains("missing.json"));
    std::fs::remove_dir_all(&dir).unwrap();

    // SAFETY-free env access: edition 2024 makes set_var unsafe, so read a variable the test
    // process inherits instead — cargo sets CARGO_PKG_NAME, which is not a key set.
    let err = KeySet::from_env("CARGO_PKG_NAME").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    let err = KeySet::from_env("TESSERA_SURELY_UNSET_VARIABLE").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
}

#[test]
fn public_export_holds_ed25519_public_keys_only() {
    let mut set = KeySet::generate(Algorithm::Hs256).unwrap();
    assert_eq!(set.public_jwks(), serde_json::json!({"keys": []}));
    set.rotate(Algorithm::EdDsa).unwrap();
    let public = set.public_jwks();
    let keys = public["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let jwk = keys[0].as_object().unwrap();
    assert!(!jwk.contains_key("d") && !jwk.contains_key("k"));
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["alg"], "EdDSA");
    // The public set verifies tokens of the private one.
    let token = minter(&Arc::new(set)).token(AUD).mint().unwrap();
    let verify_only = Arc::new(KeySet::from_json(&public.to_string()).unwrap());
    assert!(
        verifier(&verify_only)
            .verify::<Value>(&token, &Expected::audience(AUD))
            .is_ok()
    );
}

#[test]
fn malformed_key_files_are_invalid_key() {
    let k = b64([1u8; 32]);
    let x = b64(*Key::ed25519(Kid::new("e").unwrap(), &ED_SEED, None)
        .unwrap()
        .ed25519_public_key()
        .unwrap());
    for doc in [
        "not json".to_owned(),
        "{}".to_owned(),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","k":"{k}"}}]}}"#), // no alg
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS512","k":"{k}"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"EdDSA","k":"{k}"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","use":"enc","k":"{k}"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}=="}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}","extra":1}}]}}"#),
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}"}},{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}"}}]}}"#
        ),
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}"}}],"active":"other"}}"#
        ),
        format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"e","alg":"EdDSA","x":"{x}"}}],"active":"e"}}"#
        ),
        format!(r#"{{"keys":[{{"kty":"OKP","crv":"X25519","kid":"e","alg":"EdDSA","x":"{x}"}}]}}"#),
        format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"e","alg":"EdDSA","x":"{k}","d":"{}"}}]}}"#,
            b64(ED_SEED)
        ),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"bad kid","alg":"HS256","k":"{k}"}}]}}"#),
        // A member that is present holds a value: null is not absence.
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","use":null,"k":"{k}"}}]}}"#),
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}","crv":null,"x":null,"d":null}}]}}"#
        ),
        format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"e","alg":"EdDSA","x":"{x}","d":null}}]}}"#
        ),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}"}}],"active":null}}"#),
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}"}}],"active_sealing":null}}"#
        ),
        // The same bytes as an HMAC secret and as a sealing key.
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}"}},{{"kty":"oct","kid":"s","alg":"A256GCM","use":"enc","k":"{k}"}}]}}"#
        ),
    ] {
        let err = KeySet::from_json(&doc).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidKey, "{doc}");
    }
}

#[test]
fn private_json_round_trips_every_key() {
    let mut set = KeySet::generate(Algorithm::EdDsa).unwrap();
    set.rotate(Algorithm::Hs256).unwrap();
    let again = KeySet::from_json(&set.to_private_json()).unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(again.active().unwrap().kid(), set.active().unwrap().kid());
    assert_eq!(again.to_private_json(), set.to_private_json());
}

#[test]
fn one_secret_never_serves_to_sign_and_to_seal() {
    let secret = [9u8; 32];
    let mut set =
        KeySet::with_active(Key::hs256(Kid::new("mac").unwrap(), &secret).unwrap()).unwrap();
    let err = set
        .insert(Key::a256gcm(Kid::new("seal").unwrap(), &secret).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(err.to_string().contains("same secret"), "{err}");
    assert!(!err.to_string().contains(&b64(secret)), "{err}");
    // Different bytes are fine, and two HMAC keys may be anything distinct kids hold.
    set.insert(Key::a256gcm(Kid::new("seal").unwrap(), &[8u8; 32]).unwrap())
        .unwrap();
    set.insert(Key::hs256(Kid::new("mac2").unwrap(), &secret).unwrap())
        .unwrap();
}

#[test]
fn an_hmac_secret_that_is_a_published_public_key_is_refused() {
    // RFC 8725 §3.1/§3.5: the classic confusion with the roles reversed. An HS256 key whose
    // secret is an Ed25519 key's x (its bytes, or the base64url text the JWKS shows) is a
    // secret anyone can read at /.well-known/jwks.json, so anyone could MAC tokens for it.
    let ed = Key::ed25519(Kid::new("ed1").unwrap(), &ED_SEED, None).unwrap();
    let x = *ed.ed25519_public_key().unwrap();
    let mut issuer = KeySet::with_active(ed).unwrap();
    let published: Value = issuer.public_jwks();
    let x_text = published["keys"][0]["x"].as_str().unwrap().to_owned();
    assert_eq!(x_text, b64(x));
    for secret in [x.to_vec(), x_text.clone().into_bytes()] {
        let doc = serde_json::json!({"keys": [
            published["keys"][0].clone(),
            {"kty": "oct", "kid": "hs1", "alg": "HS256", "k": b64(&secret)},
        ]})
        .to_string();
        let via_insert =
            Key::hs256(Kid::new("hs1").unwrap(), &secret).and_then(|key| issuer.insert(key));
        for loaded in [KeySet::from_json(&doc).map(|_| ()), via_insert] {
            let Err(err) = loaded else {
                // What that would allow: a token MACed with what the JWKS shows.
                let keys = Arc::new(KeySet::from_json(&doc).unwrap());
                let header = r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1"}"#;
                let claims = serde_json::to_string(&claims()).unwrap();
                let token = forge_with(header, &claims, &secret);
                let forged = verifier(&keys).verify::<Value>(&token, &expected()).is_ok();
                panic!(
                    "the public key was loaded as an HMAC secret; forged token verified: {forged}"
                );
            };
            assert_eq!(err.code(), ErrorCode::InvalidKey);
            assert!(!err.to_string().contains(&x_text), "{err}");
        }
    }
}

#[test]
fn a_published_key_set_loads_ed25519_public_keys_and_refuses_anything_secret() {
    // What an issuer publishes loads, verifies its tokens, and mints nothing.
    let mut issuer = KeySet::generate(Algorithm::Hs256).unwrap();
    issuer.rotate(Algorithm::EdDsa).unwrap();
    let published = issuer.public_jwks().to_string();
    let loaded = Arc::new(KeySet::from_public_jwks(&published).unwrap());
    assert_eq!(loaded.len(), 1);
    assert!(loaded.active().is_none() && loaded.active_sealing().is_none());
    let token = minter(&Arc::new(issuer)).token(AUD).mint().unwrap();
    assert!(
        verifier(&loaded)
            .verify::<Value>(&token, &Expected::audience(AUD))
            .is_ok()
    );
    assert!(
        KeySet::from_public_jwks(r#"{"keys":[]}"#)
            .unwrap()
            .is_empty()
    );

    // Each of these is refused whole, with invalid_key, and no message quotes key material.
    let ed = KeySet::generate(Algorithm::EdDsa).unwrap();
    let ed_private: Value = serde_json::from_str(&ed.to_private_json()).unwrap();
    let ed_public = ed.public_jwks();
    let hs: Value = serde_json::from_str(
        &KeySet::generate(Algorithm::Hs256)
            .unwrap()
            .to_private_json(),
    )
    .unwrap();
    let sealing: Value = serde_json::from_str(
        &KeySet::generate(Algorithm::A256Gcm)
            .unwrap()
            .to_private_json(),
    )
    .unwrap();
    let with_d = serde_json::json!({"keys": [ed_private["keys"][0].clone()]});
    let hs_beside_ed =
        serde_json::json!({"keys": [ed_public["keys"][0].clone(), hs["keys"][0].clone()]});
    let sealing_only = serde_json::json!({"keys": [sealing["keys"][0].clone()]});
    let kid = ed_public["keys"][0]["kid"].clone();
    let naming_active = serde_json::json!({"keys": ed_public["keys"].clone(), "active": kid});
    for (case, doc) in [
        ("an Ed25519 private key", with_d),
        ("an HMAC secret beside a public key", hs_beside_ed),
        ("a sealing key", sealing_only),
        ("an active key named", naming_active),
        ("a key file", ed_private),
    ] {
        let err = KeySet::from_public_jwks(&doc.to_string()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidKey, "{case}");
        let message = err.to_string();
        if case == "a key file" {
            // A private key file given as a JWKS: the message says what is wrong with it
            // (it used to read "names no active key", the opposite of the case).
            assert!(
                message.contains("must not name an active key"),
                "{case}: {message}"
            );
        }
        for secret in ["d", "k"] {
            for jwk in doc["keys"].as_array().unwrap() {
                if let Some(material) = jwk[secret].as_str() {
                    assert!(!message.contains(material), "{case}: {message}");
                }
            }
        }
    }
    // The same documents load with from_json (a key file may hold secrets): the difference is
    // the point of from_public_jwks.
    assert!(KeySet::from_json(&ed.to_private_json()).is_ok());
}

/// A document of `n` distinct HS256 keys (no active key), as a key file would hold them
/// (written by hand: a `KeySet` never holds more than `MAX_KEYS`).
fn hs256_set_document(n: usize) -> String {
    let keys: Vec<Value> = (0..n)
        .map(|i| {
            let mut secret = [7u8; 32];
            secret[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let k =
                base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, secret);
            serde_json::json!({"kty": "oct", "kid": format!("k{i}"), "alg": "HS256", "k": k})
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

#[test]
fn a_key_set_holds_at_most_max_keys() {
    // The most keys allowed load, and a set at the limit refuses one more key, naming the
    // way out, whichever way the key comes in.
    let mut full = KeySet::from_json(&hs256_set_document(MAX_KEYS)).unwrap();
    assert_eq!(full.len(), MAX_KEYS);
    let err = full
        .insert(Key::generate(Algorithm::Hs256, Kid::new("one-more").unwrap()).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(err.to_string().contains("retire"), "{err}");
    assert_eq!(
        full.rotate(Algorithm::Hs256).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
    assert_eq!(
        full.add(Algorithm::EdDsa).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
    assert_eq!(full.len(), MAX_KEYS);

    // A document listing one more is refused as a whole, before any key is built.
    let err = KeySet::from_json(&hs256_set_document(MAX_KEYS + 1)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(
        err.to_string().contains(&format!("{} keys", MAX_KEYS + 1)),
        "{err}"
    );
}

#[test]
fn a_key_set_document_over_the_size_cap_is_refused_before_parsing() {
    // Valid JSON a byte over the cap (a real set padded with spaces): refused for its size,
    // from text, from the environment's path (from_json) and from a file, which is not read
    // past the cap; exactly at the cap it still loads.
    let doc = hs256_set_document(2);
    let at_cap = format!("{doc}{}", " ".repeat(MAX_KEY_SET_BYTES - doc.len()));
    assert_eq!(KeySet::from_json(&at_cap).unwrap().len(), 2);
    let over = format!("{at_cap} ");
    let err = KeySet::from_json(&over).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(err.to_string().contains("bytes"), "{err}");
    assert_eq!(
        KeySet::from_public_jwks(&over).unwrap_err().code(),
        ErrorCode::InvalidKey
    );

    let dir = std::env::temp_dir().join(format!("tessera-keyset-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.json");
    std::fs::write(&path, &at_cap).unwrap();
    assert_eq!(KeySet::from_file(&path).unwrap().len(), 2);
    std::fs::write(&path, &over).unwrap();
    let err = KeySet::from_file(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(err.to_string().contains("keys.json") && err.to_string().contains("bytes"));
    std::fs::remove_dir_all(&dir).unwrap();

    // A key "file" that never ends (a character device) stops at the cap instead of filling
    // memory.
    let err = KeySet::from_file("/dev/zero").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
}

/// Spec §3.4: a key set is a JSON *object* `{"keys": [...], "active": ..., "active_sealing": ...}`.
/// serde's derived `Deserialize` also reads it from a JSON array, positionally; such a
/// document is not a key set and must be `invalid_key`, for key files and published JWKS alike.
#[test]
fn a_key_set_written_as_a_json_array_is_invalid_key() {
    let k = b64([1u8; 32]);
    let key_file = format!(r#"[[{{"kty":"oct","kid":"k","alg":"HS256","k":"{k}"}}],"k"]"#);
    let loaded = KeySet::from_json(&key_file)
        .map(|_| ())
        .map_err(|e| e.code());
    assert_eq!(loaded, Err(ErrorCode::InvalidKey), "{key_file}");

    let ed = KeySet::generate(Algorithm::EdDsa).unwrap();
    let public = ed.public_jwks();
    let published = format!("[{}]", public["keys"]);
    let loaded = KeySet::from_public_jwks(&published)
        .map(|_| ())
        .map_err(|e| e.code());
    assert_eq!(loaded, Err(ErrorCode::InvalidKey), "{published}");
}
