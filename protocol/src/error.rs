//! The one error type of the protocol crate and its stable machine codes.

use std::fmt;

/// A stable, documented machine code for each kind of [`Error`].
///
/// The strings returned by [`ErrorCode::as_str`] are part of the protocol (they travel in
/// problem+json bodies and CLI output) and never change meaning. Variants follow the order of
/// the verification steps in `spec/PROTOCOL.md`.
///
/// ```
/// use tessera_protocol::ErrorCode;
/// assert_eq!(ErrorCode::Expired.as_str(), "expired");
/// assert_eq!(ErrorCode::from_name("bad_signature"), Some(ErrorCode::BadSignature));
/// assert!(ErrorCode::ALL.len() >= 13);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The token is longer than the configured cap (checked before any decoding).
    TooLarge,
    /// The token is not a well-formed tessera token (segments, base64url, JSON, members, types).
    Malformed,
    /// The header's `kid` names no key in the key set.
    UnknownKey,
    /// The header's `alg` (and, for a sealed token, `enc`) is not the algorithm of the key
    /// named by `kid`, or that key is of the other kind (a sealing key for a signed token, a
    /// signing key for a sealed one).
    UnsupportedAlgorithm,
    /// The signature does not verify, or a sealed token does not decrypt (one code for every
    /// decryption failure).
    BadSignature,
    /// The token's `exp` has passed (beyond the leeway).
    Expired,
    /// The token's `nbf` or `iat` lies in the future (beyond the leeway).
    NotYetValid,
    /// `exp - iat` exceeds the configured maximum lifetime.
    LifetimeTooLong,
    /// `iss` is not the expected issuer.
    WrongIssuer,
    /// `aud` is not the expected action.
    WrongAudience,
    /// `sub` is not the expected principal.
    WrongSubject,
    /// The payload `dat` does not deserialize into the requested type (or does not serialize).
    BadPayload,
    /// Key material was refused (too short, inconsistent, unreadable, unknown kid to retire...),
    /// or the key set has no active (sealing) key to mint with. Never the result of verifying.
    InvalidKey,
    /// A configuration value is out of its allowed range: an option, or at mint time a ttl of
    /// 0, an expiry after 9999-12-31, an nbf or fpr out of range. Never the result of verifying.
    InvalidConfig,
}

impl ErrorCode {
    /// Every code, in verification-step order.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::TooLarge,
        ErrorCode::Malformed,
        ErrorCode::UnknownKey,
        ErrorCode::UnsupportedAlgorithm,
        ErrorCode::BadSignature,
        ErrorCode::Expired,
        ErrorCode::NotYetValid,
        ErrorCode::LifetimeTooLong,
        ErrorCode::WrongIssuer,
        ErrorCode::WrongAudience,
        ErrorCode::WrongSubject,
        ErrorCode::BadPayload,
        ErrorCode::InvalidKey,
        ErrorCode::InvalidConfig,
    ];

    /// The stable machine code, e.g. `"wrong_audience"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::UnsupportedAlgorithm => "unsupported_algorithm",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::Expired => "expired",
            ErrorCode::NotYetValid => "not_yet_valid",
            ErrorCode::LifetimeTooLong => "lifetime_too_long",
            ErrorCode::WrongIssuer => "wrong_issuer",
            ErrorCode::WrongAudience => "wrong_audience",
            ErrorCode::WrongSubject => "wrong_subject",
            ErrorCode::BadPayload => "bad_payload",
            ErrorCode::InvalidKey => "invalid_key",
            ErrorCode::InvalidConfig => "invalid_config",
        }
    }

    /// Parses a machine code; unknown strings give `None`.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong while loading keys, minting or verifying.
///
/// Variants carry only safe context (lengths, times, key ids that exist in the key set, static
/// reasons): never a secret, never the token, never a claim value taken from the token.
/// Match on [`Error::code`] rather than on message text.
///
/// ```
/// use tessera_protocol::{Error, ErrorCode};
/// let err = Error::TooLarge { len: 9000, max: 8192 };
/// assert_eq!(err.code(), ErrorCode::TooLarge);
/// assert_eq!(err.to_string(), "token is 9000 bytes long; the limit is 8192");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorCode::TooLarge`].
    TooLarge {
        /// The token's length in bytes.
        len: usize,
        /// The configured cap.
        max: usize,
    },
    /// See [`ErrorCode::Malformed`].
    Malformed {
        /// What is wrong, in words (static: never echoes input).
        reason: &'static str,
    },
    /// See [`ErrorCode::UnknownKey`].
    UnknownKey,
    /// See [`ErrorCode::UnsupportedAlgorithm`].
    UnsupportedAlgorithm {
        /// The algorithm of the key named by `kid`.
        key_alg: crate::algorithm::Algorithm,
    },
    /// See [`ErrorCode::BadSignature`].
    BadSignature,
    /// See [`ErrorCode::Expired`].
    Expired {
        /// The token's `exp`; `None` for a sealed token, whose claims are not disclosed.
        exp: Option<u64>,
        /// The verifier's `now`.
        now: u64,
    },
    /// See [`ErrorCode::NotYetValid`].
    NotYetValid {
        /// The instant (`nbf` or `iat`) the token becomes valid; `None` for a sealed token.
        valid_from: Option<u64>,
        /// The verifier's `now`.
        now: u64,
    },
    /// See [`ErrorCode::LifetimeTooLong`].
    LifetimeTooLong {
        /// `exp - iat` in seconds; `None` for a sealed token.
        lifetime: Option<u64>,
        /// The configured maximum in seconds.
        max: u64,
    },
    /// See [`ErrorCode::WrongIssuer`].
    WrongIssuer,
    /// See [`ErrorCode::WrongAudience`].
    WrongAudience,
    /// See [`ErrorCode::WrongSubject`].
    WrongSubject,
    /// See [`ErrorCode::BadPayload`].
    BadPayload {
        /// serde's description of the mismatch (type and field names, no values).
        reason: String,
    },
    /// See [`ErrorCode::InvalidKey`].
    InvalidKey {
        /// What is wrong with the key material, in words (never the material).
        reason: String,
    },
    /// See [`ErrorCode::InvalidConfig`].
    InvalidConfig {
        /// Which setting, and its allowed range.
        reason: String,
    },
}

impl Error {
    /// The stable machine code of this error: what to branch on, log or send to a client
    /// (the message may change; the code never does).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let token = Minter::new(keys.clone(), "inventree").token("a").mint()?;
    /// let other = Verifier::new(keys, "another-app");
    /// let err = other.verify::<()>(&token, &Expected::audience("a")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::WrongIssuer);
    /// assert_eq!(err.code().as_str(), "wrong_issuer");
    /// assert_eq!(err.to_string(), "token was issued by another issuer");
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::TooLarge { .. } => ErrorCode::TooLarge,
            Error::Malformed { .. } => ErrorCode::Malformed,
            Error::UnknownKey => ErrorCode::UnknownKey,
            Error::UnsupportedAlgorithm { .. } => ErrorCode::UnsupportedAlgorithm,
            Error::BadSignature => ErrorCode::BadSignature,
            Error::Expired { .. } => ErrorCode::Expired,
            Error::NotYetValid { .. } => ErrorCode::NotYetValid,
            Error::LifetimeTooLong { .. } => ErrorCode::LifetimeTooLong,
            Error::WrongIssuer => ErrorCode::WrongIssuer,
            Error::WrongAudience => ErrorCode::WrongAudience,
            Error::WrongSubject => ErrorCode::WrongSubject,
            Error::BadPayload { .. } => ErrorCode::BadPayload,
            Error::InvalidKey { .. } => ErrorCode::InvalidKey,
            Error::InvalidConfig { .. } => ErrorCode::InvalidConfig,
        }
    }

    /// The same error without what it tells of a sealed token's claims (their times), since
    /// a sealed token's plaintext must not reach its holder or the logs (spec §6).
    pub(crate) fn withholding_claims(self) -> Error {
        match self {
            Error::Expired { now, .. } => Error::Expired { exp: None, now },
            Error::NotYetValid { now, .. } => Error::NotYetValid {
                valid_from: None,
                now,
            },
            Error::LifetimeTooLong { max, .. } => Error::LifetimeTooLong {
                lifetime: None,
                max,
            },
            other => other,
        }
    }

    pub(crate) fn malformed(reason: &'static str) -> Error {
        Error::Malformed { reason }
    }

    pub(crate) fn invalid_key(reason: impl Into<String>) -> Error {
        Error::InvalidKey {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge { len, max } => {
                write!(f, "token is {len} bytes long; the limit is {max}")
            }
            Error::Malformed { reason } => write!(f, "token is malformed: {reason}"),
            Error::UnknownKey => f.write_str("token names a key (kid) that is not in the key set"),
            Error::UnsupportedAlgorithm {
                key_alg: crate::algorithm::Algorithm::A256Gcm,
            } => f.write_str(
                "token's alg and enc are not dir and A256GCM, the only algorithm of the sealing \
                 key it names",
            ),
            Error::UnsupportedAlgorithm { key_alg } => write!(
                f,
                "token's alg is not {key_alg}, the only algorithm of the key it names"
            ),
            Error::BadSignature => f.write_str("token signature does not verify"),
            Error::Expired {
                exp: Some(exp),
                now,
            } => write!(
                f,
                "token expired {}s ago (exp {exp}, now {now})",
                now.saturating_sub(*exp)
            ),
            Error::Expired { exp: None, .. } => f.write_str("token has expired"),
            Error::NotYetValid {
                valid_from: Some(valid_from),
                now,
            } => write!(
                f,
                "token is not valid for another {}s (valid from {valid_from}, now {now})",
                valid_from.saturating_sub(*now)
            ),
            Error::NotYetValid {
                valid_from: None, ..
            } => f.write_str("token is not valid yet"),
            Error::LifetimeTooLong {
                lifetime: Some(lifetime),
                max,
            } => write!(f, "token lifetime is {lifetime}s; the maximum is {max}s"),
            Error::LifetimeTooLong {
                lifetime: None,
                max,
            } => {
                write!(f, "token lifetime is over the maximum of {max}s")
            }
            Error::WrongIssuer => f.write_str("token was issued by another issuer"),
            Error::WrongAudience => f.write_str("token was minted for another action"),
            Error::WrongSubject => f.write_str("token was minted for another principal"),
            Error::BadPayload { reason } => write!(f, "token payload does not fit: {reason}"),
            Error::InvalidKey { reason } => write!(f, "invalid key: {reason}"),
            Error::InvalidConfig { reason } => write!(f, "invalid configuration: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// serde_json's error category in words, **without** its message: serde_json's messages can
/// quote the input (a claim value, a secret in a key file), so tessera reports only the
/// category, and the caller adds the position if useful.
///
/// ```
/// let err = serde_json::from_str::<u32>("\"secret-value\"").unwrap_err();
/// assert_eq!(tessera_protocol::json_error_category(&err), "unexpected member or type");
/// assert!(!tessera_protocol::json_error_category(&err).contains("secret"));
/// ```
pub fn json_error_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "JSON syntax error",
        serde_json::error::Category::Data => "unexpected member or type",
        serde_json::error::Category::Eof => "unexpected end of JSON",
    }
}
