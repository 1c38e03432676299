//! Arbitrary bytes as a token (signed HS256 or EdDSA, or sealed), verified against the spec
//! vectors' key sets.
//!
//! Input: byte 0 chooses what the verifier expects (bits 0-1: signed, sealed or either; bit 2:
//! the token's own unverified `aud` instead of the vectors' action; bits 3-4: no subject, an
//! anonymous caller, the token's own `sub`, or `user:42`; bit 5: `now` = the token's own
//! `iat`), byte 1 picks one of the vectors' key sets, the rest is the token. Taking the
//! expectations from the token itself lets valid tokens (the seeds) reach the success path,
//! where the strongest properties are checked.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_fuzz::vector_key_sets;
use tessera_fuzz::verified::{refused, verified_properties};
use tessera_protocol::dangerous::decode_unverified;
use tessera_protocol::{Accept, Expected, FixedClock, KeySet, Verifier};

/// The issuer, action and instant of the spec vectors.
const ISS: &str = "inventree";
const AUD: &str = "plugin:stock-tools/action:transfer";
const NOW: u64 = 1_790_000_000;

fuzz_target!(|data: &[u8]| {
    let [options, set, token @ ..] = data else {
        return;
    };
    let sets = vector_key_sets();
    let Some(keys) = &sets[usize::from(*set) % sets.len()].keys else {
        return;
    };
    match std::str::from_utf8(token) {
        Ok(token) => check(keys, *options, token),
        Err(_) => check(keys, *options, &String::from_utf8_lossy(token)),
    }
});

/// Verifies `token` as `options` say, and checks the properties of the outcome.
fn check(keys: &Arc<KeySet>, options: u8, token: &str) {
    let claims = decode_unverified(token).ok().and_then(|u| u.claims);
    let claim = |name: &str| claims.as_ref().and_then(|c| c.get(name));
    let claim_str = |name: &str| claim(name).and_then(Value::as_str);
    let accept = match options & 3 {
        0 => Accept::Signed,
        1 => Accept::Sealed,
        _ => Accept::Either,
    };
    let aud = if options & 4 != 0 {
        claim_str("aud").unwrap_or(AUD)
    } else {
        AUD
    };
    let mut expected = Expected::audience(aud).accept(accept);
    match (options >> 3) & 3 {
        0 => {}
        1 => expected = expected.anonymous(),
        2 => expected.sub = claim_str("sub").map(Into::into),
        _ => expected = expected.subject("user:42"),
    }
    let now = match claim("iat").and_then(Value::as_u64) {
        Some(iat) if options & 32 != 0 => iat,
        _ => NOW,
    };
    let verifier = Verifier::new(keys.clone(), ISS).with_clock(Arc::new(FixedClock(now)));
    match verifier.verify::<Value>(token, &expected) {
        Err(err) => refused(token, &err),
        Ok(verified) => verified_properties(&verifier, token, &verified),
    }
}
