//! Key ids: the `kid` that names a key in a key set and travels in every token.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::Error;

/// The longest `kid` tessera accepts, in characters.
pub const MAX_KID_LEN: usize = 64;

/// A key id: 1 to [`MAX_KID_LEN`] characters from `[A-Za-z0-9._-]`.
///
/// ```
/// use tessera_protocol::Kid;
/// assert!(Kid::new("2026-11-a").is_ok());
/// assert!(Kid::new("").is_err());
/// assert!(Kid::new("../etc/passwd").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid(Arc<str>);

impl Kid {
    /// Validates and wraps a key id.
    pub fn new(kid: impl Into<String>) -> Result<Kid, Error> {
        let kid = kid.into();
        let ok = !kid.is_empty()
            && kid.len() <= MAX_KID_LEN
            && kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Kid(kid.into()))
        } else {
            Err(Error::invalid_key(format!(
                "a kid must be 1 to {MAX_KID_LEN} characters from A-Z a-z 0-9 . _ -"
            )))
        }
    }

    /// A fresh random kid: 4 base64url characters (24 bits from `SystemRandom`). Short on
    /// purpose: it travels in every token. A key set rejects a duplicate, so
    /// [`KeySet::rotate`](crate::key_set::KeySet::rotate) draws again on a collision.
    ///
    /// ```
    /// use tessera_protocol::Kid;
    /// let kid = Kid::random()?;
    /// assert_eq!(kid.as_str().len(), 4);
    /// assert_eq!(Kid::new(kid.as_str())?, kid); // always a valid kid
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn random() -> Result<Kid, Error> {
        let mut bytes = [0u8; 3];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::invalid_key("the system random generator failed"))?;
        Ok(Kid(URL_SAFE_NO_PAD.encode(bytes).into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
