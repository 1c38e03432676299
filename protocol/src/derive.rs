//! Keys derived from a secret the host already has (spec §3.7): HKDF-SHA256 (RFC 5869) turns
//! one high-entropy secret and a label into an HS256 signing key, an A256GCM sealing key and
//! their kids, so that every worker holding the secret (a Django `SECRET_KEY`, say) holds the
//! same key set without a key file, and a new secret shows up as new kids.

use ring::hkdf;
use zeroize::Zeroizing;

use crate::{A256GCM_KEY_LEN, Error, Key, KeySet, Kid, MIN_HS256_SECRET};

/// The shortest secret keys are derived from, in bytes (the length of an HS256 secret).
///
/// ```
/// use tessera_protocol::{ErrorCode, KeySet, MIN_DERIVE_SECRET};
/// assert!(KeySet::derive(&[7; MIN_DERIVE_SECRET], "l", &[]).is_ok());
/// let short = KeySet::derive(&[7; MIN_DERIVE_SECRET - 1], "l", &[]).unwrap_err();
/// assert_eq!(short.code(), ErrorCode::InvalidKey);
/// ```
pub const MIN_DERIVE_SECRET: usize = MIN_HS256_SECRET;
/// The longest label, in bytes.
///
/// ```
/// use tessera_protocol::{ErrorCode, KeySet, MAX_DERIVE_LABEL};
/// let label = "l".repeat(MAX_DERIVE_LABEL + 1);
/// let err = KeySet::derive(&[7; 32], &label, &[]).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::InvalidConfig);
/// ```
pub const MAX_DERIVE_LABEL: usize = 255;
/// The HKDF salt: the ASCII bytes of `tessera/v1/derive`.
///
/// ```
/// assert_eq!(tessera_protocol::DERIVE_SALT, b"tessera/v1/derive");
/// ```
pub const DERIVE_SALT: &[u8] = b"tessera/v1/derive";
/// The length of the derived HS256 secret, in bytes.
const HS256_LEN: usize = 32;
/// The bytes of a kid's derived part (8 base64url characters).
const KID_BYTES: usize = 6;

const _: () = assert!(HS256_LEN >= MIN_HS256_SECRET);
const _: () = assert!(A256GCM_KEY_LEN == 32);

/// The two keys derived from one secret and label: `(signing, sealing)`, an HS256 key with kid
/// `hs256-K` and an A256GCM key with kid `a256gcm-K`, where `K` is itself derived.
///
/// A secret shorter than [`MIN_DERIVE_SECRET`] bytes is refused with `invalid_key`; a label
/// that is empty or longer than [`MAX_DERIVE_LABEL`] bytes with `invalid_config`.
///
/// ```
/// use tessera_protocol::{Algorithm, ErrorCode, derive_keys};
/// let secret = b"django-insecure-0123456789abcdefghijklmnopqrstuvwxyz";
/// let (signing, sealing) = derive_keys(secret, "inventree")?;
/// assert_eq!(signing.algorithm(), Algorithm::Hs256);
/// assert_eq!(sealing.algorithm(), Algorithm::A256Gcm);
/// assert!(signing.kid().as_str().starts_with("hs256-"));
/// // The same inputs give the same keys; another label gives others.
/// assert_eq!(derive_keys(secret, "inventree")?.0.kid(), signing.kid());
/// assert_ne!(derive_keys(secret, "other")?.0.kid(), signing.kid());
/// assert_eq!(derive_keys(b"short", "inventree").unwrap_err().code(), ErrorCode::InvalidKey);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub fn derive_keys(secret: &[u8], label: &str) -> Result<(Key, Key), Error> {
    if secret.len() < MIN_DERIVE_SECRET {
        return Err(Error::invalid_key(format!(
            "a secret to derive keys from is at least {MIN_DERIVE_SECRET} bytes"
        )));
    }
    if label.is_empty() || label.len() > MAX_DERIVE_LABEL {
        return Err(Error::InvalidConfig {
            reason: format!("a derivation label is 1 to {MAX_DERIVE_LABEL} bytes"),
        });
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, DERIVE_SALT).extract(secret);
    let mut hs256 = Zeroizing::new([0u8; HS256_LEN]);
    let mut a256gcm = Zeroizing::new([0u8; A256GCM_KEY_LEN]);
    let mut kid = [0u8; KID_BYTES];
    expand(&prk, b"hs256", label, &mut hs256[..])?;
    expand(&prk, b"a256gcm", label, &mut a256gcm[..])?;
    expand(&prk, b"kid", label, &mut kid)?;
    let suffix = base64_simd::URL_SAFE_NO_PAD.encode_to_string(kid);
    let signing = Key::hs256(Kid::new(format!("hs256-{suffix}"))?, &hs256[..])?;
    let sealing = Key::a256gcm(Kid::new(format!("a256gcm-{suffix}"))?, &a256gcm[..])?;
    Ok((signing, sealing))
}

impl KeySet {
    /// The key set derived from `secret` and `label` (spec §3.7): its HS256 key active, its
    /// A256GCM key the active sealing key, and the keys of each of `fallbacks` (earlier
    /// secrets, e.g. Django's `SECRET_KEY_FALLBACKS`) added verify-only, so buttons rendered
    /// before the secret was rotated keep working. A fallback equal to a secret before it
    /// adds nothing.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let (old, new) = (b"an old secret of at least thirty-two bytes", b"the new secret, also thirty-two bytes or more");
    /// let before = Arc::new(KeySet::derive(old, "inventree", &[])?);
    /// let token = Minter::new(before, "inventree").token("a").mint()?;
    /// // After rotation the old secret is a fallback: its tokens still verify.
    /// let after = Arc::new(KeySet::derive(new, "inventree", &[old])?);
    /// Verifier::new(after, "inventree").verify::<()>(&token, &Expected::audience("a"))?;
    /// // Without it they are refused: the kid names no key.
    /// let dropped = Arc::new(KeySet::derive(new, "inventree", &[])?);
    /// let err = Verifier::new(dropped, "inventree").verify::<()>(&token, &Expected::audience("a"));
    /// assert_eq!(err.unwrap_err().code(), ErrorCode::UnknownKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn derive(secret: &[u8], label: &str, fallbacks: &[&[u8]]) -> Result<KeySet, Error> {
        let mut set = KeySet::new();
        let (signing, sealing) = derive_keys(secret, label)?;
        let (active, active_sealing) = (signing.kid().clone(), sealing.kid().clone());
        set.insert(signing)?;
        set.insert(sealing)?;
        set.set_active(&active)?;
        set.set_active_sealing(&active_sealing)?;
        for fallback in fallbacks {
            let (signing, sealing) = derive_keys(fallback, label)?;
            if set.get(signing.kid().as_str()).is_none() {
                set.insert(signing)?;
                set.insert(sealing)?;
            }
        }
        Ok(set)
    }
}

/// HKDF-Expand(PRK, "tessera/v1/" purpose 0x00 label, out.len()) into `out`.
fn expand(prk: &hkdf::Prk, purpose: &[u8], label: &str, out: &mut [u8]) -> Result<(), Error> {
    let info = [b"tessera/v1/", purpose, b"\0", label.as_bytes()];
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| Error::invalid_key("HKDF refused the output length"))
}

/// An output length for ring's HKDF.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5869 test case 1, through the same ring calls `derive_keys` makes.
    #[test]
    fn hkdf_reproduces_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&ikm);
        let mut okm = [0u8; 42];
        prk.expand(&[&info], Len(42))
            .and_then(|o| o.fill(&mut okm))
            .unwrap();
        let hex: String = okm.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn short_secret_and_bad_labels_are_refused() {
        let secret = [7u8; 32];
        assert_eq!(
            derive_keys(&secret[..31], "l").unwrap_err().code().as_str(),
            "invalid_key"
        );
        assert_eq!(
            derive_keys(&secret, "").unwrap_err().code().as_str(),
            "invalid_config"
        );
        let long = "x".repeat(MAX_DERIVE_LABEL + 1);
        assert_eq!(
            derive_keys(&secret, &long).unwrap_err().code().as_str(),
            "invalid_config"
        );
        assert!(derive_keys(&secret, &long[1..]).is_ok());
    }

    #[test]
    fn repeated_fallback_adds_nothing() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let set = KeySet::derive(&a, "l", &[&b, &a, &b]).unwrap();
        assert_eq!(set.len(), 4);
    }
}
