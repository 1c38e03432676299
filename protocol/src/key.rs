//! One key: its id, its algorithm and its prepared material.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::crypto::{EdDsaSigner, EdDsaVerifier, Hs256Signer, Hs256Verifier};
use crate::error::Error;
use crate::kid::Kid;

/// The shortest HS256 secret tessera accepts, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET: usize = 32;
/// The length of an Ed25519 seed (`d`) and public key (`x`), in bytes.
pub const ED25519_KEY_LEN: usize = 32;
/// The length of an A256GCM sealing key, in bytes.
pub const A256GCM_KEY_LEN: usize = 32;
const _: () = assert!(MIN_HS256_SECRET >= 32, "RFC 7518 §3.2");

/// A key: a [`Kid`], the one [`Algorithm`] it may be used with, and its material, prepared for
/// ring once at load so that minting and verification never parse key bytes.
///
/// `Debug` shows the kid and algorithm only; there is no `Display`. The secret bytes tessera
/// keeps are zeroed on drop; the keys ring derives from them (HMAC states, the AES key schedule,
/// the Ed25519 key pair) are not, as ring does not wipe them.
///
/// ```
/// use tessera_protocol::{Algorithm, Key, Kid};
/// let key = Key::generate(Algorithm::Hs256, Kid::new("k1")?)?;
/// assert_eq!(key.algorithm(), Algorithm::Hs256);
/// assert!(key.can_sign());
/// assert!(!format!("{key:?}").contains("secret:"));
/// // Short secrets are refused at load time.
/// let err = Key::hs256(Kid::new("k2")?, &[7u8; 31]).unwrap_err();
/// assert_eq!(err.code(), tessera_protocol::ErrorCode::InvalidKey);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub struct Key {
    kid: Kid,
    material: Material,
    /// The base64url header this key mints with, encoded once.
    header_b64: String,
}

pub(crate) enum Material {
    Hs256 {
        secret: Zeroizing<Vec<u8>>,
        signer: Hs256Signer,
        verifier: Hs256Verifier,
    },
    EdDsa {
        public: [u8; ED25519_KEY_LEN],
        private: Option<(Zeroizing<[u8; ED25519_KEY_LEN]>, EdDsaSigner)>,
        verifier: EdDsaVerifier,
    },
    A256Gcm {
        secret: Zeroizing<[u8; A256GCM_KEY_LEN]>,
        aead: ring::aead::LessSafeKey,
    },
}

impl Key {
    /// Whether `self` and `other` hold the same secret bytes, one as an HMAC secret and the
    /// other as a sealing key.
    pub(crate) fn shares_secret_across_uses(&self, other: &Key) -> bool {
        match (&self.material, &other.material) {
            (Material::Hs256 { secret: mac, .. }, Material::A256Gcm { secret: seal, .. })
            | (Material::A256Gcm { secret: seal, .. }, Material::Hs256 { secret: mac, .. }) => {
                mac.as_slice() == seal.as_slice()
            }
            _ => false,
        }
    }
}

impl Key {
    /// Whether one of `self` and `other` is an HS256 key whose secret is the other's Ed25519
    /// public key, as bytes or as the base64url text a published key set shows: a secret that
    /// anyone can read.
    pub(crate) fn hmac_secret_is_public_key_of(&self, other: &Key) -> bool {
        match (&self.material, &other.material) {
            (Material::Hs256 { secret, .. }, Material::EdDsa { public, .. })
            | (Material::EdDsa { public, .. }, Material::Hs256 { secret, .. }) => {
                secret.as_slice() == public.as_slice()
                    || secret.as_slice() == URL_SAFE_NO_PAD.encode(public).as_bytes()
            }
            _ => false,
        }
    }
}

/// What a prepared key does with a signing input; the verifier holds no other path.
pub(crate) enum PreparedVerifier<'a> {
    Hs256(&'a Hs256Verifier),
    EdDsa(&'a EdDsaVerifier),
}

impl Key {
    /// An HS256 key from a shared secret of at least [`MIN_HS256_SECRET`] bytes.
    pub fn hs256(kid: Kid, secret: &[u8]) -> Result<Key, Error> {
        if secret.len() < MIN_HS256_SECRET {
            return Err(Error::invalid_key(format!(
                "key {kid}: an HS256 secret must be at least {MIN_HS256_SECRET} bytes, this one has {}",
                secret.len()
            )));
        }
        Ok(Key::assemble(
            kid,
            Material::Hs256 {
                secret: Zeroizing::new(secret.to_vec()),
                signer: Hs256Signer::new(secret),
                verifier: Hs256Verifier::new(secret),
            },
        ))
    }

    /// An Ed25519 signing key from its 32-byte seed (`d`) and, if given, its public key (`x`),
    /// which must match the seed.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, Key, Kid};
    /// let key = Key::ed25519(Kid::new("ed1")?, &[7u8; 32], None)?;
    /// assert_eq!(key.algorithm(), Algorithm::EdDsa);
    /// let public = *key.ed25519_public_key().unwrap();
    /// // The public half alone verifies but cannot sign; a public key of another seed is refused.
    /// assert!(!Key::ed25519_public(Kid::new("ed1")?, &public)?.can_sign());
    /// let err = Key::ed25519(Kid::new("ed2")?, &[8u8; 32], Some(&public)).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn ed25519(kid: Kid, seed: &[u8], public: Option<&[u8]>) -> Result<Key, Error> {
        let seed: [u8; ED25519_KEY_LEN] = seed.try_into().map_err(|_| {
            Error::invalid_key(format!("key {kid}: an Ed25519 \"d\" must be 32 bytes"))
        })?;
        let pair = match public {
            Some(x) => Ed25519KeyPair::from_seed_and_public_key(&seed, x),
            None => Ed25519KeyPair::from_seed_unchecked(&seed),
        }
        .map_err(|_| {
            Error::invalid_key(format!(
                "key {kid}: the Ed25519 \"d\" does not match its \"x\" or is invalid"
            ))
        })?;
        let mut public = [0u8; ED25519_KEY_LEN];
        public.copy_from_slice(pair.public_key().as_ref());
        Ok(Key::assemble(
            kid,
            Material::EdDsa {
                public,
                private: Some((Zeroizing::new(seed), EdDsaSigner::new(pair))),
                verifier: EdDsaVerifier::new(&public),
            },
        ))
    }

    /// A verify-only Ed25519 key from its 32-byte public key (`x`).
    ///
    /// A point of small order (in any of its encodings) is refused with `invalid_key`: under
    /// a small-order public key a signature `R || 0` with a small-order `R` verifies for any
    /// message, so anyone could mint tokens for that kid. (Other bytes that are not a curve
    /// point load, and verify nothing.)
    ///
    /// ```
    /// use tessera_protocol::{ErrorCode, Key, Kid};
    /// let signer = Key::ed25519(Kid::new("ed1")?, &[7u8; 32], None)?;
    /// let public = Key::ed25519_public(Kid::new("ed1")?, signer.ed25519_public_key().unwrap())?;
    /// assert!(!public.can_sign());
    /// let mut identity = [0u8; 32];
    /// identity[0] = 1; // the neutral point: small order
    /// let err = Key::ed25519_public(Kid::new("ed2")?, &identity).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// let err = Key::ed25519_public(Kid::new("ed3")?, &[7u8; 31]).unwrap_err(); // not 32 bytes
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn ed25519_public(kid: Kid, public: &[u8]) -> Result<Key, Error> {
        let public: [u8; ED25519_KEY_LEN] = public.try_into().map_err(|_| {
            Error::invalid_key(format!("key {kid}: an Ed25519 \"x\" must be 32 bytes"))
        })?;
        if is_small_order(&public) {
            return Err(Error::invalid_key(format!(
                "key {kid}: the Ed25519 \"x\" is a point of small order, under which anyone \
                 could forge signatures"
            )));
        }
        Ok(Key::assemble(
            kid,
            Material::EdDsa {
                public,
                private: None,
                verifier: EdDsaVerifier::new(&public),
            },
        ))
    }

    /// An A256GCM sealing key (JWE `dir` + `A256GCM`) from exactly 32 secret bytes. It
    /// encrypts and authenticates sealed tokens; it never signs or verifies a signed one.
    ///
    /// ```
    /// use tessera_protocol::{ErrorCode, Key, Kid};
    /// let key = Key::a256gcm(Kid::new("enc1")?, &[9u8; 32])?;
    /// assert!(key.can_seal() && !key.can_sign());
    /// let err = Key::a256gcm(Kid::new("enc2")?, &[9u8; 16]).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn a256gcm(kid: Kid, secret: &[u8]) -> Result<Key, Error> {
        let secret: [u8; A256GCM_KEY_LEN] = secret.try_into().map_err(|_| {
            Error::invalid_key(format!(
                "key {kid}: an A256GCM key must be exactly {A256GCM_KEY_LEN} bytes"
            ))
        })?;
        let unbound = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &secret)
            .map_err(|_| Error::invalid_key(format!("key {kid}: AES-256-GCM refused the key")))?;
        Ok(Key::assemble(
            kid,
            Material::A256Gcm {
                secret: Zeroizing::new(secret),
                aead: ring::aead::LessSafeKey::new(unbound),
            },
        ))
    }

    /// A fresh key drawn from ring's `SystemRandom`: 32 secret bytes for HS256 and A256GCM, a
    /// 32-byte seed for EdDSA.
    pub fn generate(alg: Algorithm, kid: Kid) -> Result<Key, Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| Error::invalid_key("the system random generator failed"))?;
        match alg {
            Algorithm::Hs256 => Key::hs256(kid, bytes.as_ref()),
            Algorithm::EdDsa => Key::ed25519(kid, bytes.as_ref(), None),
            Algorithm::A256Gcm => Key::a256gcm(kid, bytes.as_ref()),
        }
    }

    fn assemble(kid: Kid, material: Material) -> Key {
        let alg = match material {
            Material::Hs256 { .. } => Algorithm::Hs256,
            Material::EdDsa { .. } => Algorithm::EdDsa,
            Material::A256Gcm { .. } => Algorithm::A256Gcm,
        };
        let header_b64 = URL_SAFE_NO_PAD.encode(crate::header::minted_header_json(alg, &kid));
        // For sealing keys this is the JWE protected header, which is also the AAD.
        Key {
            kid,
            material,
            header_b64,
        }
    }

    /// The base64url-encoded header of tokens this key mints.
    pub(crate) fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// This key's id.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    /// The one algorithm this key is used with.
    pub fn algorithm(&self) -> Algorithm {
        match self.material {
            Material::Hs256 { .. } => Algorithm::Hs256,
            Material::EdDsa { .. } => Algorithm::EdDsa,
            Material::A256Gcm { .. } => Algorithm::A256Gcm,
        }
    }

    /// Whether this key can mint signed tokens (HS256 keys and Ed25519 keys with their private
    /// part).
    pub fn can_sign(&self) -> bool {
        match &self.material {
            Material::Hs256 { .. } => true,
            Material::EdDsa { private, .. } => private.is_some(),
            Material::A256Gcm { .. } => false,
        }
    }

    /// Whether this key seals (and opens) sealed tokens: A256GCM keys only.
    pub fn can_seal(&self) -> bool {
        matches!(self.material, Material::A256Gcm { .. })
    }

    pub(crate) fn aead(&self) -> Option<&ring::aead::LessSafeKey> {
        match &self.material {
            Material::A256Gcm { aead, .. } => Some(aead),
            _ => None,
        }
    }

    /// The Ed25519 public key, for EdDSA keys.
    pub fn ed25519_public_key(&self) -> Option<&[u8; ED25519_KEY_LEN]> {
        match &self.material {
            Material::EdDsa { public, .. } => Some(public),
            Material::Hs256 { .. } | Material::A256Gcm { .. } => None,
        }
    }

    pub(crate) fn material(&self) -> &Material {
        &self.material
    }

    /// The signature verifier; `None` for a sealing key, which never verifies.
    pub(crate) fn verifier(&self) -> Option<PreparedVerifier<'_>> {
        match &self.material {
            Material::Hs256 { verifier, .. } => Some(PreparedVerifier::Hs256(verifier)),
            Material::EdDsa { verifier, .. } => Some(PreparedVerifier::EdDsa(verifier)),
            Material::A256Gcm { .. } => None,
        }
    }

    /// Appends the base64url signature of `signing_input` to `out`; `None` for a verify-only key.
    pub(crate) fn sign_into(&self, signing_input: &[u8], out: &mut String) -> Option<()> {
        match &self.material {
            Material::Hs256 { signer, .. } => {
                URL_SAFE_NO_PAD.encode_string(signer.tag(signing_input), out);
            }
            Material::EdDsa { private, .. } => {
                let (_, signer) = private.as_ref()?;
                URL_SAFE_NO_PAD.encode_string(signer.sig(signing_input), out);
            }
            Material::A256Gcm { .. } => return None,
        }
        Some(())
    }
}

impl PreparedVerifier<'_> {
    pub(crate) fn check(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self {
            PreparedVerifier::Hs256(v) => v.check(signing_input, signature),
            PreparedVerifier::EdDsa(v) => v.check(signing_input, signature),
        }
    }
}

/// The `y` coordinates (little-endian, sign bit clear) of the Ed25519 points of small order:
/// 0 (order 4), 1 (the identity), the two of order 8 and p − 1 (order 2), then the
/// non-canonical encodings p (≡ 0) and p + 1 (≡ 1), which ring decodes too.
const SMALL_ORDER_Y: [[u8; ED25519_KEY_LEN]; 7] = {
    let mut one = [0u8; ED25519_KEY_LEN];
    one[0] = 1;
    let mut p_minus_1 = [0xff; ED25519_KEY_LEN];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    let mut p = p_minus_1;
    p[0] = 0xed;
    let mut p_plus_1 = p_minus_1;
    p_plus_1[0] = 0xee;
    [
        [0; ED25519_KEY_LEN],
        one,
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
            0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88,
            0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ],
        p_minus_1,
        p,
        p_plus_1,
    ]
};

/// Whether `public` encodes a point of small order, with either sign bit. (A public key: no
/// constant-time comparison is needed.)
fn is_small_order(public: &[u8; ED25519_KEY_LEN]) -> bool {
    let mut y = *public;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.algorithm())
            .field("can_sign", &self.can_sign())
            .finish_non_exhaustive()
    }
}
