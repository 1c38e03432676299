//! Fixed keys, a fixed clock and hand-forging helpers shared by the test modules.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tessera_protocol::{
    Error, ErrorCode, Expected, FixedClock, Key, KeySet, Kid, Minter, VerifiedToken, Verifier,
};

pub(crate) const NOW: u64 = 1_790_000_000;
pub(crate) const ISS: &str = "inventree";
pub(crate) const AUD: &str = "plugin:stock-tools/action:transfer";
pub(crate) const SUB: &str = "user:42";
pub(crate) const HS_SECRET: [u8; 32] = [0x5a; 32];
pub(crate) const ED_SEED: [u8; 32] = [0x17; 32];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Transfer {
    pub(crate) part_id: u32,
    pub(crate) location: String,
    pub(crate) qty: u32,
    pub(crate) mode: String,
    pub(crate) note: String,
}

pub(crate) fn transfer() -> Transfer {
    Transfer {
        part_id: 1234,
        location: "WH-01/A/3".to_owned(),
        qty: 25,
        mode: "transfer".to_owned(),
        note: "restock from supplier order PO-2231".to_owned(),
    }
}

pub(crate) fn hs_keys() -> Arc<KeySet> {
    let key = Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap();
    Arc::new(KeySet::with_active(key).unwrap())
}

pub(crate) fn ed_keys() -> Arc<KeySet> {
    let key = Key::ed25519(Kid::new("ed1").unwrap(), &ED_SEED, None).unwrap();
    Arc::new(KeySet::with_active(key).unwrap())
}

pub(crate) fn minter(keys: &Arc<KeySet>) -> Minter {
    Minter::new(keys.clone(), ISS).with_clock(Arc::new(FixedClock(NOW)))
}

pub(crate) fn verifier(keys: &Arc<KeySet>) -> Verifier {
    verifier_at(keys, NOW)
}

pub(crate) fn verifier_at(keys: &Arc<KeySet>, now: u64) -> Verifier {
    Verifier::new(keys.clone(), ISS).with_clock(Arc::new(FixedClock(now)))
}

pub(crate) fn expected() -> Expected<'static> {
    Expected::audience(AUD).subject(SUB)
}

pub(crate) fn verify_json(keys: &Arc<KeySet>, token: &str) -> Result<VerifiedToken<Value>, Error> {
    verifier(keys).verify::<Value>(token, &expected())
}

/// The code `token` is refused with by the default HS256 verifier at NOW.
#[track_caller]
pub(crate) fn code_of(token: &str) -> ErrorCode {
    match verify_json(&hs_keys(), token) {
        Ok(_) => panic!("token was accepted"),
        Err(e) => e.code(),
    }
}

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) const HEADER: &str = r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1"}"#;

/// Valid claims at NOW, as a JSON map to modify.
pub(crate) fn claims() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "iss": ISS, "aud": AUD, "sub": SUB,
        "iat": NOW, "exp": NOW + 300, "jti": "AAAAAAAAAAAAAAAAAAAAAA",
        "dat": {"part_id": 1234, "qty": 25}
    }) else {
        unreachable!("a json! object literal is an object")
    };
    map
}

/// Signs raw header and claims text with HMAC-SHA256 under `secret`.
pub(crate) fn forge_with(header: &str, claims: &str, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag))
}

/// Signs raw header and claims text with the test HS256 secret.
pub(crate) fn forge(header: &str, claims: &str) -> String {
    forge_with(header, claims, &HS_SECRET)
}

/// Signs the given claims map with the standard header.
pub(crate) fn forge_claims(claims: &Map<String, Value>) -> String {
    forge(HEADER, &serde_json::to_string(claims).unwrap())
}
