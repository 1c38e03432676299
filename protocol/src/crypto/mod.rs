//! ring as `jsonwebtoken`'s crypto backend, and the only place that touches jsonwebtoken types.
//!
//! jsonwebtoken 11 ships no ring backend (its features are `aws_lc_rs` and `rust_crypto`), so
//! this module implements [`jsonwebtoken::crypto::CryptoProvider`] on ring and installs it
//! idempotently ([`install`]). The same signer and verifier types are held, prepared once, by
//! every [`Key`](crate::key::Key): minting and verification never re-parse key material.

pub(crate) mod eddsa;
pub(crate) mod hmac;

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result as JwtResult};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey};

pub(crate) use self::eddsa::{EdDsaSigner, EdDsaVerifier};
pub(crate) use self::hmac::{Hs256Signer, Hs256Verifier};
use crate::algorithm::Algorithm;

/// The ring-backed provider: HS256 and EdDSA (Ed25519) only; every other algorithm is refused
/// with `InvalidAlgorithm` instead of panicking.
pub static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(ErrorKind::InvalidAlgorithm.into()),
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::InvalidAlgorithm.into()),
        ec_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        ed_pub_components_from_private_key: ed_public_from_pkcs8,
        compute_digest,
    },
};

/// Installs [`RING_PROVIDER`] as jsonwebtoken's process-wide provider.
///
/// Idempotent: safe to call from every entry point. If another provider was installed first
/// (by an application that also uses jsonwebtoken directly), that one stays: tessera's own
/// minting and verification do not depend on the process default, only code that calls
/// jsonwebtoken's free functions does.
///
/// ```
/// tessera_protocol::crypto::install();
/// tessera_protocol::crypto::install(); // a second call is harmless
/// ```
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means a provider is already installed; keeping it is the documented behaviour.
        let _ = RING_PROVIDER.install_default();
    });
}

/// Verifies a raw JWS signature (`signature_b64` over `signing_input`) through jsonwebtoken's
/// provider seam, with the algorithm pinned by the caller. For the RFC known-answer tests whose
/// payloads are not tessera claims; tokens go through [`Verifier`](crate::Verifier).
///
/// ```
/// use tessera_protocol::{crypto, Algorithm};
/// // RFC 7515 Appendix A.1.
/// let key = [3u8, 35, 53, 75, 43, 15, 165, 188, 131, 126, 6, 101, 119, 123, 166, 143, 90, 179, 40,
///     230, 240, 84, 201, 40, 169, 15, 132, 178, 210, 80, 46, 191, 211, 251, 90, 146, 210, 6, 71,
///     239, 150, 138, 180, 195, 119, 98, 61, 34, 61, 46, 33, 114, 5, 46, 79, 8, 192, 205, 154, 245,
///     103, 208, 128, 163];
/// let input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
/// let sig = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// assert!(crypto::verify_raw(Algorithm::Hs256, &key, input.as_bytes(), sig));
/// assert!(!crypto::verify_raw(Algorithm::Hs256, &key[1..], input.as_bytes(), sig));
/// ```
pub fn verify_raw(alg: Algorithm, key: &[u8], signing_input: &[u8], signature_b64: &str) -> bool {
    install();
    let (decoding_key, jwt_alg) = match alg {
        Algorithm::Hs256 => (DecodingKey::from_secret(key), JwtAlgorithm::HS256),
        Algorithm::EdDsa => (DecodingKey::from_ed_der(key), JwtAlgorithm::EdDSA),
        // A sealing algorithm never verifies a signature.
        Algorithm::A256Gcm => return false,
    };
    jsonwebtoken::crypto::verify(signature_b64, signing_input, &decoding_key, jwt_alg)
        .unwrap_or(false)
}

/// Signs `signing_input` through jsonwebtoken's provider seam and returns the base64url
/// signature. `key` is the HMAC secret, or for EdDSA a PKCS#8 document (RFC 8410).
pub fn sign_raw(alg: Algorithm, key: &[u8], signing_input: &[u8]) -> Option<String> {
    install();
    let (encoding_key, jwt_alg) = match alg {
        Algorithm::Hs256 => (EncodingKey::from_secret(key), JwtAlgorithm::HS256),
        Algorithm::EdDsa => (EncodingKey::from_ed_der(key), JwtAlgorithm::EdDSA),
        Algorithm::A256Gcm => return None,
    };
    jsonwebtoken::crypto::sign(signing_input, &encoding_key, jwt_alg).ok()
}

fn new_signer(alg: &JwtAlgorithm, key: &EncodingKey) -> JwtResult<Box<dyn JwtSigner>> {
    match alg {
        JwtAlgorithm::HS256 => Ok(Box::new(Hs256Signer::from_encoding_key(key)?)),
        JwtAlgorithm::EdDSA => Ok(Box::new(EdDsaSigner::from_encoding_key(key)?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn new_verifier(alg: &JwtAlgorithm, key: &DecodingKey) -> JwtResult<Box<dyn JwtVerifier>> {
    match alg {
        JwtAlgorithm::HS256 => Ok(Box::new(Hs256Verifier::from_decoding_key(key)?)),
        JwtAlgorithm::EdDSA => Ok(Box::new(EdDsaVerifier::from_decoding_key(key)?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn ed_public_from_pkcs8(pkcs8: &[u8], curve: &EllipticCurve) -> JwtResult<Vec<u8>> {
    use ring::signature::KeyPair as _;
    if *curve != EllipticCurve::Ed25519 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
        .map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(pair.public_key().as_ref().to_vec())
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> JwtResult<Vec<u8>> {
    let alg = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(ring::digest::digest(alg, data).as_ref().to_vec())
}
