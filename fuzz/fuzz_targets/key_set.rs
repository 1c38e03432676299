//! Arbitrary text as a key file (`KeySet::from_json`) and as a published JWKS
//! (`KeySet::from_public_jwks`).
//!
//! Properties: a refusal is `invalid_key` (the one code of key material) and never quotes a
//! secret member (`k`, `d`) of the input; a set that loads, written back (`to_private_json`,
//! `public_jwks`) and loaded again, is the same set (kids, algorithms, active keys, public
//! keys) and writes back the same text, so loading and saving a key file is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_fuzz::assert_stable_code;
use tessera_protocol::{ErrorCode, KeySet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match KeySet::from_json(text) {
        Ok(keys) => private_round_trip(&keys),
        Err(err) => refused(text, &err),
    }
    match KeySet::from_public_jwks(text) {
        Ok(keys) => {
            assert!(keys.active().is_none() && keys.active_sealing().is_none());
            public_round_trip(&keys);
        }
        Err(err) => refused(text, &err),
    }
});

/// A refusal of key material: `invalid_key`, and the message quotes no secret the input held.
fn refused(text: &str, err: &tessera_protocol::Error) {
    assert_stable_code(err, &[ErrorCode::InvalidKey]);
    let message = err.to_string();
    for secret in secrets(text) {
        assert!(
            !message.contains(&secret),
            "the message quotes key material: {message}"
        );
    }
}

/// The values of the secret members (`k`, `d`) of the input's keys, when it is JSON; only
/// values of 8 characters or more that are not also a kid (a kid is named in messages).
fn secrets(text: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let keys = doc["keys"].as_array().cloned().unwrap_or_default();
    let kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
    keys.iter()
        .flat_map(|k| [&k["k"], &k["d"]])
        .filter_map(Value::as_str)
        .filter(|s| s.len() >= 8 && !kids.iter().any(|kid| kid.contains(*s) || s.contains(kid)))
        .map(str::to_owned)
        .collect()
}

/// What identifies a set: each key's kid, algorithm and public key, and the active keys.
fn summary(keys: &KeySet) -> Vec<String> {
    let mut out: Vec<String> = keys
        .keys()
        .map(|k| {
            format!(
                "{} {} {:?} {}",
                k.kid(),
                k.algorithm(),
                k.ed25519_public_key(),
                k.can_sign()
            )
        })
        .collect();
    out.push(format!("active {:?}", keys.active().map(|k| k.kid())));
    out.push(format!(
        "sealing {:?}",
        keys.active_sealing().map(|k| k.kid())
    ));
    out
}

/// The key file written back loads as the same set and writes back the same text; its public
/// part loads as a published JWKS.
fn private_round_trip(keys: &KeySet) {
    let written = keys.to_private_json();
    let again = KeySet::from_json(&written).expect("a written key file loads");
    assert_eq!(summary(&again), summary(keys));
    assert_eq!(
        again.to_private_json(),
        written,
        "writing back is not stable"
    );
    public_round_trip(keys);
}

/// The published JWKS of a set loads as a verify-only set of its Ed25519 public keys, which
/// publishes the same document.
fn public_round_trip(keys: &KeySet) {
    let published = keys.public_jwks().to_string();
    let public = KeySet::from_public_jwks(&published).expect("a published JWKS loads");
    let ed25519: Vec<_> = keys.keys().filter_map(|k| k.ed25519_public_key()).collect();
    let loaded: Vec<_> = public
        .keys()
        .filter_map(|k| k.ed25519_public_key())
        .collect();
    assert_eq!(loaded, ed25519);
    assert!(public.keys().all(|k| !k.can_sign()));
    assert_eq!(public.public_jwks().to_string(), published);
}
