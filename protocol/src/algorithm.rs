//! The algorithms a tessera key can carry: two to sign, one to seal.

use std::fmt;

/// A key's algorithm: HS256 or EdDSA to sign, A256GCM to seal. Every [`Key`](crate::Key)
/// carries exactly one, fixed when the key is created or loaded; a token's header (`alg`, and
/// for a sealed token `enc`) must *equal* it and never selects it.
///
/// ```
/// use tessera_protocol::Algorithm;
/// assert_eq!(Algorithm::Hs256.as_str(), "HS256");
/// assert_eq!(Algorithm::from_name("EdDSA"), Some(Algorithm::EdDsa));
/// assert_eq!(Algorithm::from_name("none"), None);
/// assert_eq!(Algorithm::from_name("hs256"), None); // case-sensitive
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256 over a shared secret of at least 32 bytes (RFC 7518 §3.2).
    Hs256,
    /// Ed25519 signatures (RFC 8037): a verifier can check tokens without being able to mint.
    EdDsa,
    /// AES-256-GCM content encryption with a direct key (RFC 7516 `dir` + `A256GCM`): the
    /// algorithm of *sealing* keys, which encrypt and authenticate and never sign or verify.
    A256Gcm,
}

impl Algorithm {
    /// Every algorithm tessera accepts.
    pub const ALL: [Algorithm; 3] = [Algorithm::Hs256, Algorithm::EdDsa, Algorithm::A256Gcm];

    /// The JOSE name, as it appears in a header's `alg` and a JWK's `alg`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::A256Gcm => "A256GCM",
        }
    }

    /// Whether this is a signature algorithm (HS256, EdDSA) rather than a sealing one.
    pub const fn is_signature(self) -> bool {
        matches!(self, Algorithm::Hs256 | Algorithm::EdDsa)
    }

    /// Parses a JOSE name exactly (case-sensitive); any other name, `none` included, is `None`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|alg| alg.as_str() == name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
