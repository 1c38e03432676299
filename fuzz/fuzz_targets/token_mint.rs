//! Structured: mint a token (HS256, EdDSA or sealed) from fuzz-chosen claims and payload,
//! verify it, then flip one byte of it.
//!
//! Properties: whatever the minter accepts the verifier accepts, giving back the same claims
//! and payload; the minter refuses only with its documented codes; and no single-byte change
//! of a minted token verifies (canonical base64url, the signature or tag covers every byte).
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::{Arbitrary, Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_fuzz::{arbitrary_json, assert_stable_code, verify_codes};
use tessera_protocol::{
    Accept, Algorithm, ErrorCode, Expected, FixedClock, KeySet, Minter, Verifier,
};

const ISS: &str = "inventree";

/// What to mint.
#[derive(Debug)]
struct Mint {
    kind: Kind,
    aud: String,
    sub: Option<String>,
    fpr: Option<String>,
    iat: u64,
    ttl: u32,
    nbf_after_iat: Option<u32>,
    /// `None`: a random jti (`mint`); `Some`: a caller-chosen one (`mint_with_jti`; sealed
    /// tokens always draw theirs).
    jti: Option<String>,
    dat: Value,
    /// Which byte of the token to change, and the (non-zero) bits to flip in it.
    flip: (usize, u8),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Kind {
    Hs256,
    EdDsa,
    Sealed,
}

impl<'a> Arbitrary<'a> for Mint {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(Mint {
            kind: u.arbitrary()?,
            aud: u.arbitrary()?,
            sub: u.arbitrary()?,
            fpr: u.arbitrary()?,
            // Mostly near the vectors' instant, sometimes anywhere (the end of time included).
            iat: if u.arbitrary()? {
                1_790_000_000 + u64::from(u.arbitrary::<u16>()?)
            } else {
                u.arbitrary()?
            },
            ttl: u.arbitrary()?,
            nbf_after_iat: u.arbitrary()?,
            jti: u.arbitrary()?,
            dat: arbitrary_json(u, 3)?,
            flip: (u.arbitrary()?, u.arbitrary::<u8>()?.max(1)),
        })
    }
}

/// One key set per kind, generated once: HS256, EdDSA, and an HS256 set whose active sealing
/// key is A256GCM.
fn keys(kind: Kind) -> Arc<KeySet> {
    static SETS: OnceLock<[Arc<KeySet>; 3]> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        let generate = |alg| Arc::new(KeySet::generate(alg).expect("keys generate"));
        let mut sealing = KeySet::generate(Algorithm::Hs256).expect("keys generate");
        sealing
            .rotate(Algorithm::A256Gcm)
            .expect("a sealing key is added");
        [
            generate(Algorithm::Hs256),
            generate(Algorithm::EdDsa),
            Arc::new(sealing),
        ]
    });
    sets[kind as usize].clone()
}

fuzz_target!(|m: Mint| {
    let keys = keys(m.kind);
    let clock = Arc::new(FixedClock(m.iat));
    let minter = Minter::new(keys.clone(), ISS).with_clock(clock.clone());
    let token = match mint(&minter, &m) {
        Ok(token) => token,
        Err(err) => {
            // The minter's documented refusals: a value out of range, a lifetime over the
            // maximum, a payload JSON cannot hold, a token over the length cap.
            assert_stable_code(
                &err,
                &[
                    ErrorCode::InvalidConfig,
                    ErrorCode::LifetimeTooLong,
                    ErrorCode::BadPayload,
                    ErrorCode::TooLarge,
                ],
            );
            return;
        }
    };
    let at = m.nbf_after_iat.map_or(m.iat, |n| m.iat + u64::from(n));
    let verifier = Verifier::new(keys, ISS).with_clock(Arc::new(FixedClock(at)));
    let mut expected = Expected::audience(m.aud.as_str()).accept(Accept::Either);
    if let Some(sub) = &m.sub {
        expected = expected.subject(sub.as_str());
    }
    let verified = verifier
        .verify::<Value>(&token, &expected)
        .unwrap_or_else(|e| panic!("a minted token is refused: {e}"));
    let c = &verified.claims;
    assert_eq!(c.aud, m.aud);
    assert_eq!(c.sub, m.sub);
    assert_eq!(c.fpr, m.fpr);
    assert_eq!(c.iat, m.iat);
    assert_eq!(c.exp, m.iat + u64::from(m.ttl));
    assert_eq!(c.nbf, at);
    if let (Some(jti), false) = (&m.jti, m.kind == Kind::Sealed) {
        assert_eq!(&c.jti, jti);
    }
    assert_eq!(
        c.dat, m.dat,
        "the payload changed on its way through a token"
    );
    flipped_never_verifies(&verifier, &expected, &token, m.flip);
});

fn mint(minter: &Minter, m: &Mint) -> Result<String, tessera_protocol::Error> {
    let mut builder = minter
        .token(&m.aud)
        .ttl(Duration::from_secs(m.ttl.into()))
        .payload(&m.dat);
    if let Some(n) = m.nbf_after_iat {
        builder = builder.not_before(m.iat.saturating_add(n.into()));
    }
    if let Some(sub) = &m.sub {
        builder = builder.subject(sub);
    }
    if let Some(fpr) = &m.fpr {
        builder = builder.fingerprint(fpr);
    }
    match (m.kind, &m.jti) {
        (Kind::Sealed, _) => builder.seal(),
        (_, Some(jti)) => builder.mint_with_jti(jti),
        (_, None) => builder.mint(),
    }
}

/// Changing any one byte of a valid token makes it fail, with a verification code.
fn flipped_never_verifies(
    verifier: &Verifier,
    expected: &Expected<'_>,
    token: &str,
    flip: (usize, u8),
) {
    let mut bytes = token.as_bytes().to_vec();
    let (index, bits) = (flip.0 % bytes.len(), flip.1);
    bytes[index] ^= bits;
    let Ok(changed) = String::from_utf8(bytes) else {
        return;
    };
    match verifier.verify::<Value>(&changed, expected) {
        Ok(_) => panic!("a token verified with byte {index} changed"),
        Err(err) => assert_stable_code(&err, verify_codes()),
    }
}
