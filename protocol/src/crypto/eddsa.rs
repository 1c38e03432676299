//! Ed25519 (RFC 8037 `EdDSA`) on `ring::signature`. Key pairs are parsed once, at load.

use jsonwebtoken::crypto::{JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result as JwtResult};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};

/// Signs with a prepared Ed25519 key pair.
pub(crate) struct EdDsaSigner(Ed25519KeyPair);

impl EdDsaSigner {
    pub(crate) fn new(pair: Ed25519KeyPair) -> Self {
        EdDsaSigner(pair)
    }

    pub(crate) fn from_encoding_key(key: &EncodingKey) -> JwtResult<Self> {
        if key.family() != AlgorithmFamily::Ed {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.as_bytes())
            .map_err(|_| ErrorKind::InvalidEddsaKey)?;
        Ok(EdDsaSigner(pair))
    }

    /// The 64-byte signature, without the allocation of the `Signer` trait.
    pub(crate) fn sig(&self, msg: &[u8]) -> ring::signature::Signature {
        self.0.sign(msg)
    }
}

impl Signer<Vec<u8>> for EdDsaSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.sig(msg).as_ref().to_vec())
    }
}

impl JwtSigner for EdDsaSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

/// Verifies Ed25519 signatures against one public key. ring refuses non-canonical `S`.
pub(crate) struct EdDsaVerifier(UnparsedPublicKey<Vec<u8>>);

impl EdDsaVerifier {
    pub(crate) fn new(public: &[u8]) -> Self {
        EdDsaVerifier(UnparsedPublicKey::new(&ED25519, public.to_vec()))
    }

    pub(crate) fn from_decoding_key(key: &DecodingKey) -> JwtResult<Self> {
        if key.family() != AlgorithmFamily::Ed {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Ok(EdDsaVerifier::new(key.try_get_as_bytes()?))
    }

    pub(crate) fn check(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.0.verify(msg, sig).is_ok()
    }
}

impl Verifier<Vec<u8>> for EdDsaVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        if self.check(msg, signature) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for EdDsaVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}
