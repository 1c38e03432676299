//! The properties of a verification outcome, shared by the token targets: what a refusal and
//! what a verified token must satisfy.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_protocol::dangerous::decode_unverified;
use tessera_protocol::{
    Accept, DEFAULT_MAX_TOKEN_LEN, ErrorCode, Expected, KeySet, Kid, Minter, SEALED_IV_LEN,
    TokenKind, UntrustedToken, VerifiedToken, Verifier,
};

use crate::{assert_canonical_segments, assert_not_quoted, assert_stable_code, verify_codes};

/// A refusal: a stable verification code, a message that does not quote the token, and the
/// structural steps agree with the verifier's fast path (a token that `UntrustedToken::parse`
/// refuses is refused by `verify` with the same code, whatever the key set recognises).
pub fn refused(token: &str, err: &tessera_protocol::Error) {
    assert_stable_code(err, verify_codes());
    assert_not_quoted(&err.to_string(), token);
    if let Err(parse_err) = UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_LEN) {
        assert_eq!(
            parse_err.code(),
            err.code(),
            "parse and verify disagree: {parse_err} / {err}"
        );
    }
}

/// A token that verified: canonical text, a stable structural parse that names the verifying
/// key, claims that are those the token carries, and minting them again is a fixed point.
pub fn verified_properties(verifier: &Verifier, token: &str, verified: &VerifiedToken<Value>) {
    assert_canonical_segments(token);
    let parsed =
        || UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_LEN).expect("verified, so parses");
    let (first, second) = (parsed(), parsed());
    for untrusted in [&first, &second] {
        assert_eq!(untrusted.untrusted_alg(), Some(verified.header.alg));
        assert_eq!(
            untrusted.untrusted_kid(),
            Some(verified.header.kid.as_str())
        );
        assert_eq!(
            untrusted.kind() == TokenKind::Signed,
            verified.header.alg.is_signature()
        );
    }
    if first.kind() == TokenKind::Signed {
        claims_as_carried(token, verified);
    }
    remint_is_a_fixed_point(verifier, token, verified);
}

/// A signed token's claims, read without verification (what `tessera inspect` shows), are
/// exactly the verified claims: the display path and the verifier read the same JSON the same way.
fn claims_as_carried(token: &str, verified: &VerifiedToken<Value>) {
    let claims = decode_unverified(token)
        .expect("verified, so decodes")
        .claims
        .expect("a signed token's claims are readable");
    let c = &verified.claims;
    assert_eq!(claims["iss"], c.iss.as_str());
    assert_eq!(claims["aud"], c.aud.as_str());
    assert_eq!(claims.get("sub").and_then(Value::as_str), c.sub.as_deref());
    assert_eq!(claims["iat"], c.iat);
    assert_eq!(claims["exp"], c.exp);
    assert_eq!(
        claims
            .get("nbf")
            .map_or(c.iat, |n| n.as_u64().unwrap_or(u64::MAX)),
        c.nbf
    );
    assert_eq!(claims["jti"], c.jti.as_str());
    assert_eq!(claims.get("fpr").and_then(Value::as_str), c.fpr.as_deref());
    assert_eq!(claims["dat"], c.dat);
}

/// Minting the verified claims again (same key, jti, times and, for a sealed token, the same
/// nonce) gives a token that verifies to the same claims, and minting those gives the same
/// bytes again: verify∘mint is the identity on what tessera mints, whatever spelling the
/// original used. A verified token the minter refuses to reproduce must be refused for a
/// reason the minter documents, never for its payload (the verifier and the minter hold
/// payloads to the same JSON rules).
fn remint_is_a_fixed_point(verifier: &Verifier, token: &str, verified: &VerifiedToken<Value>) {
    let iv = nonce_of(token);
    let again = match remint(verifier.keys(), verified, iv) {
        // A verify-only key (an Ed25519 public key) cannot mint.
        None => return,
        Some(Ok(again)) => again,
        Some(Err(err)) => {
            assert_stable_code(
                &err,
                &[
                    ErrorCode::InvalidConfig,
                    ErrorCode::TooLarge,
                    ErrorCode::LifetimeTooLong,
                ],
            );
            return;
        }
    };
    let expected = Expected::audience(verified.claims.aud.as_str()).accept(Accept::Either);
    let reverified = verifier
        .verify::<Value>(&again, &expected)
        .expect("a re-minted token verifies");
    assert_eq!(reverified.header, verified.header);
    assert_eq!(reverified.claims, verified.claims);
    let third = remint(verifier.keys(), &reverified, iv)
        .and_then(Result::ok)
        .expect("minted once, so mints again");
    assert_eq!(third, again, "minting the same claims twice differs");
}

/// A sealed token's nonce (its third segment), `None` for a signed token.
fn nonce_of(token: &str) -> Option<[u8; SEALED_IV_LEN]> {
    let segment = token
        .split('.')
        .nth(2)
        .filter(|_| token.split('.').count() == 5)?;
    URL_SAFE_NO_PAD.decode(segment).ok()?.try_into().ok()
}

/// Mints `verified`'s claims with the key that verified them; `None` when that key cannot
/// mint (an Ed25519 public key).
fn remint(
    keys: &KeySet,
    verified: &VerifiedToken<Value>,
    iv: Option<[u8; SEALED_IV_LEN]>,
) -> Option<Result<String, tessera_protocol::Error>> {
    let kid: &Kid = &verified.header.kid;
    let mut set = KeySet::from_json(&keys.to_private_json()).expect("a loaded set reloads");
    let activated = match iv {
        None => set.set_active(kid),
        Some(_) => set.set_active_sealing(kid),
    };
    activated.ok()?;
    let c = &verified.claims;
    let minter = Minter::new(Arc::new(set), c.iss.as_str());
    let mut builder = minter
        .token(&c.aud)
        .issued_at(c.iat)
        .ttl(Duration::from_secs(c.exp - c.iat))
        .not_before(c.nbf)
        .payload(&c.dat);
    if let Some(sub) = &c.sub {
        builder = builder.subject(sub);
    }
    if let Some(fpr) = &c.fpr {
        builder = builder.fingerprint(fpr);
    }
    Some(match iv {
        None => builder.mint_with_jti(&c.jti),
        Some(iv) => builder.dangerous_seal_with(&c.jti, iv),
    })
}
