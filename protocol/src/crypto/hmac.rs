//! HS256 on `ring::hmac`: the tag is checked by `ring::hmac::verify`, in constant time.

use jsonwebtoken::crypto::{JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result as JwtResult};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use ring::hmac;

/// Signs with HMAC-SHA-256; the key is prepared once.
pub(crate) struct Hs256Signer(hmac::Key);

impl Hs256Signer {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Hs256Signer(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    pub(crate) fn from_encoding_key(key: &EncodingKey) -> JwtResult<Self> {
        if key.family() != AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Ok(Hs256Signer::new(key.as_bytes()))
    }

    /// The tag, without the allocation of the `Signer` trait.
    pub(crate) fn tag(&self, msg: &[u8]) -> hmac::Tag {
        hmac::sign(&self.0, msg)
    }
}

impl Signer<Vec<u8>> for Hs256Signer {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.tag(msg).as_ref().to_vec())
    }
}

impl JwtSigner for Hs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// Verifies HMAC-SHA-256 tags in constant time; the key is prepared once.
pub(crate) struct Hs256Verifier(hmac::Key);

impl Hs256Verifier {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Hs256Verifier(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    pub(crate) fn from_decoding_key(key: &DecodingKey) -> JwtResult<Self> {
        if key.family() != AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Ok(Hs256Verifier::new(key.try_get_as_bytes()?))
    }

    /// Constant-time check of `tag` over `msg` (ring compares the full tag; length mismatches fail).
    pub(crate) fn check(&self, msg: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.0, msg, tag).is_ok()
    }
}

impl Verifier<Vec<u8>> for Hs256Verifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        if self.check(msg, signature) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for Hs256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}
