//! Fuzz-chosen header and claims JSON, signed (HS256, EdDSA) or sealed (A256GCM) by the
//! harness with keys of the verifier's set: the fuzzer's bytes reach every step behind the
//! signature (the claims' structure, times, issuer, audience, subject, payload, the JSON
//! rules), which arbitrary tokens almost never do.
//!
//! Input: byte 0 picks the key (bits 0-1: HS256, EdDSA, sealing) and the expectations (bit 2:
//! the claims' own `sub`; bit 3: `now` = the claims' own `iat`); then either
//! `header JSON \n claims JSON`, or (no newline) the claims alone under the key's own header
//! (the verifier's known-header fast path).
//!
//! Properties: those of every verification outcome (`tessera_fuzz::verified`), plus: the
//! verifier's one-pass claims parse and its step-by-step path decide alike (a payload read as a
//! `Value` and one skipped as `IgnoredAny` give the same outcome and code), and claims that
//! verify follow the JSON rules as `json_rules` reads them, with the same payload.
#![no_main]

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::signature::Ed25519KeyPair;
use serde::de::IgnoredAny;
use serde_json::Value;
use tessera_fuzz::verified::{refused, verified_properties};
use tessera_protocol::json_rules;
use tessera_protocol::{Accept, Expected, FixedClock, Key, KeySet, Kid, Minter, Verifier};

const ISS: &str = "inventree";
const NOW: u64 = 1_790_000_000;
const HS_SECRET: [u8; 32] = [0x5a; 32];
const ED_SEED: [u8; 32] = [0x17; 32];
const SEAL_KEY: [u8; 32] = [0x33; 32];
const NONCE: [u8; 12] = [7; 12];

/// The verifier's key set, and each key's own header segment (as its minter writes it).
struct Keys {
    set: Arc<KeySet>,
    headers: [String; 3],
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let kid = |k: &str| Kid::new(k).expect("kid");
        let mut set =
            KeySet::with_active(Key::hs256(kid("hs1"), &HS_SECRET).expect("key")).expect("set");
        set.insert(Key::ed25519(kid("ed1"), &ED_SEED, None).expect("key"))
            .expect("insert");
        set.insert(Key::a256gcm(kid("se1"), &SEAL_KEY).expect("key"))
            .expect("insert");
        set.set_active_sealing(&kid("se1")).expect("sealing");
        let header_of = |active: &str| {
            let mut copy = KeySet::from_json(&set.to_private_json()).expect("reloads");
            copy.set_active(&kid(active)).expect("signing key");
            let token = Minter::new(Arc::new(copy), ISS)
                .token("a")
                .mint()
                .expect("mint");
            token.split('.').next().expect("header").to_owned()
        };
        let sealed = Minter::new(
            Arc::new(KeySet::from_json(&set.to_private_json()).expect("reloads")),
            ISS,
        )
        .token("a")
        .seal()
        .expect("seal");
        let headers = [
            header_of("hs1"),
            header_of("ed1"),
            sealed.split('.').next().expect("header").to_owned(),
        ];
        Keys {
            set: Arc::new(set),
            headers,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let [options, rest @ ..] = data else {
        return;
    };
    let keys = keys();
    let kind = usize::from(options & 3) % 3;
    let (header, claims) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (URL_SAFE_NO_PAD.encode(&rest[..at]), &rest[at + 1..]),
        None => (keys.headers[kind].clone(), rest),
    };
    let token = assemble(kind, &header, claims);
    let lenient: Option<Value> = serde_json::from_slice(claims).ok();
    let claim = |name: &str| lenient.as_ref().and_then(|c| c.get(name));
    let aud = claim("aud").and_then(Value::as_str).unwrap_or("a");
    let mut expected = Expected::audience(aud).accept(Accept::Either);
    if options & 4 != 0 {
        expected.sub = claim("sub").and_then(Value::as_str).map(Into::into);
    }
    let now = match claim("iat").and_then(Value::as_u64) {
        Some(iat) if options & 8 != 0 => iat,
        _ => NOW,
    };
    let verifier = Verifier::new(keys.set.clone(), ISS).with_clock(Arc::new(FixedClock(now)));
    let as_value = verifier.verify::<Value>(&token, &expected);
    let skipped = verifier.verify::<IgnoredAny>(&token, &expected);
    assert_eq!(
        as_value.as_ref().map(|_| ()).map_err(|e| e.code()),
        skipped.as_ref().map(|_| ()).map_err(|e| e.code()),
        "the payload's type changed the outcome"
    );
    match as_value {
        Err(err) => refused(&token, &err),
        Ok(verified) => {
            let text = std::str::from_utf8(claims).expect("verified claims are UTF-8");
            let ruled: Value =
                json_rules::from_str(text).expect("verified claims follow the rules");
            assert_eq!(ruled["dat"], verified.claims.dat);
            verified_properties(&verifier, &token, &verified);
        }
    }
});

/// The token: `header.claims.signature` signed with the key of `kind` (0: HS256, 1: EdDSA),
/// or (2) the claims sealed under the header as AAD with a fixed nonce.
fn assemble(kind: usize, header: &str, claims: &[u8]) -> String {
    let mut token = String::from(header);
    if kind == 2 {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &SEAL_KEY).expect("aes key"));
        let mut sealed = claims.to_vec();
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(NONCE),
                Aad::from(header.as_bytes()),
                &mut sealed,
            )
            .expect("seal");
        for part in [&[][..], &NONCE[..], &sealed[..], tag.as_ref()] {
            token.push('.');
            token.push_str(&URL_SAFE_NO_PAD.encode(part));
        }
        return token;
    }
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims));
    let signature = if kind == 0 {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &HS_SECRET);
        ring::hmac::sign(&key, token.as_bytes()).as_ref().to_vec()
    } else {
        let pair = Ed25519KeyPair::from_seed_unchecked(&ED_SEED).expect("ed25519 seed");
        pair.sign(token.as_bytes()).as_ref().to_vec()
    };
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}
