//! Nothing that holds a secret prints it; no error message carries the token.

use std::sync::Arc;

use serde_json::Value;
use tessera_protocol::{Algorithm, ErrorCode, Key, KeySet, Kid};

use crate::util::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn assert_no_secret(text: &str, secret: &[u8]) {
    assert!(!text.contains(&b64(secret)), "base64url secret in {text}");
    assert!(!text.contains(&hex(secret)), "hex secret in {text}");
    assert!(
        !text.contains(&format!("{:?}", secret)),
        "byte list in {text}"
    );
    assert!(
        !text.contains(&format!("{}", secret[0]))
            || !text.contains(&format!("{}, {}", secret[0], secret[1]))
    );
}

#[test]
fn debug_of_keys_key_sets_minters_and_verifiers_prints_no_secret() {
    let key = Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap();
    assert_no_secret(&format!("{key:?}"), &HS_SECRET);
    let ed = Key::ed25519(Kid::new("ed1").unwrap(), &ED_SEED, None).unwrap();
    assert_no_secret(&format!("{ed:?}"), &ED_SEED);
    let mut set = KeySet::with_active(key).unwrap();
    set.insert(ed).unwrap();
    let set = Arc::new(set);
    for text in [
        format!("{set:?}"),
        format!("{:?}", minter(&set)),
        format!("{:?}", verifier(&set)),
    ] {
        assert_no_secret(&text, &HS_SECRET);
        assert_no_secret(&text, &ED_SEED);
    }
    // The private export does hold them (that is what a key file is for).
    let private = set.to_private_json();
    assert!(private.contains(&b64(HS_SECRET)) && private.contains(&b64(ED_SEED)));
    // The public export does not.
    let public = set.public_jwks().to_string();
    assert_no_secret(&public, &HS_SECRET);
    assert_no_secret(&public, &ED_SEED);
}

/// A key set whose `member` names, instead of a kid, the base64url of its own HS256 secret
/// (as if pasted into the wrong member): a valid kid by its characters, but no kid of the set.
fn key_set_naming_its_secret_as(member: &str) -> String {
    let k = b64(HS_SECRET);
    format!(r#"{{"keys":[{{"kty":"oct","kid":"hs1","alg":"HS256","k":"{k}"}}],"{member}":"{k}"}}"#)
}

// Regression of a key_set fuzz target finding (fuzz/RESULTS.md): the refusal quoted the unknown
// name, and so the secret in it.
#[test]
fn a_key_set_naming_an_unknown_active_key_does_not_quote_the_name() {
    for member in ["active", "active_sealing"] {
        let err = KeySet::from_json(&key_set_naming_its_secret_as(member)).unwrap_err();

        assert_eq!(err.code(), ErrorCode::InvalidKey);
        let message = err.to_string();
        assert!(
            message.contains(&format!("\"{member}\"")),
            "names the member: {message}"
        );
        assert!(message.contains("not in the key set"), "{message}");
        assert_no_secret(&message, &HS_SECRET);
    }
}

#[test]
fn activating_or_retiring_an_unknown_kid_does_not_quote_it() {
    let mut keys =
        KeySet::with_active(Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap()).unwrap();
    let secret_as_kid = Kid::new(b64(HS_SECRET)).unwrap();

    let errors = [
        keys.set_active(&secret_as_kid).unwrap_err(),
        keys.set_active_sealing(&secret_as_kid).unwrap_err(),
        keys.retire(&secret_as_kid).unwrap_err(),
    ];

    for err in errors {
        assert_eq!(err.code(), ErrorCode::InvalidKey);
        assert!(err.to_string().contains("not in the key set"), "{err}");
        assert_no_secret(&err.to_string(), &HS_SECRET);
    }
}

#[test]
fn error_messages_never_contain_the_token_or_its_claims() {
    let keys = hs_keys();
    let good = minter(&keys)
        .token(AUD)
        .subject("user:secret-name")
        .payload(&"marker-4242")
        .mint()
        .unwrap();
    let (h, rest) = good.split_once('.').unwrap();
    let (c, _) = rest.split_once('.').unwrap();
    let tampered = format!("{h}.{c}.AAAA");
    let other_keys = Arc::new(KeySet::generate(Algorithm::Hs256).unwrap());
    let errors = [
        verifier(&keys)
            .verify::<Value>(&tampered, &expected())
            .unwrap_err(),
        verifier(&keys)
            .verify::<u32>(&good, &tessera_protocol::Expected::audience(AUD))
            .unwrap_err(),
        verifier(&keys)
            .verify::<Value>(&good, &expected())
            .unwrap_err(),
        verifier(&other_keys)
            .verify::<Value>(&good, &expected())
            .unwrap_err(),
        verifier_at(&keys, NOW + 10_000)
            .verify::<Value>(&good, &expected())
            .unwrap_err(),
    ];
    for err in errors {
        let text = format!("{err} {err:?}");
        for needle in [&good[..], h, c, "marker-4242", "secret-name"] {
            assert!(!text.contains(needle), "{text} contains {needle}");
        }
    }
}
