//! The limits a minter, a verifier and a server are configured with — a token's time to live,
//! the clock leeway, the longest lifetime, the length cap — and the one place each is checked.

use std::time::Duration;

use crate::error::Error;

/// The default time-to-live of a minted token: 5 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);
/// The default leeway for `exp`, `nbf` and `iat`: 30 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// The largest leeway a verifier accepts: 5 minutes.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The default maximum lifetime `exp - iat`: 24 hours.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The default cap on a token's length, in bytes (checked before any decoding).
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// A set of limits, with the defaults of spec §5.1: a default TTL of 5 minutes, 30 s of
/// leeway, a maximum lifetime of 24 hours, a token length cap of 8192 bytes.
/// [`Limits::check`] says whether they hold together; [`Minter`](crate::Minter) and
/// [`Verifier`](crate::Verifier) check each one they are given by the same rules.
///
/// ```
/// use std::time::Duration;
/// use tessera_protocol::{ErrorCode, Limits};
/// assert!(Limits::default().check().is_ok());
/// let long_ttl = Limits { ttl: Duration::from_secs(2 * 86_400), ..Limits::default() };
/// assert_eq!(long_ttl.check().unwrap_err().code(), ErrorCode::InvalidConfig);
/// let wide = Limits { leeway: Duration::from_secs(301), ..Limits::default() };
/// assert_eq!(wide.check().unwrap_err().code(), ErrorCode::InvalidConfig);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The lifetime of a token that does not set its own: 1 s up to `max_lifetime`.
    pub ttl: Duration,
    /// The leeway granted when checking `exp`, `nbf` and `iat`: at most [`MAX_LEEWAY`].
    pub leeway: Duration,
    /// The longest lifetime (`exp - iat`) minted or accepted: at least 1 s.
    pub max_lifetime: Duration,
    /// The longest token minted or accepted, in bytes: at least 1.
    pub max_token_len: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            ttl: DEFAULT_TTL,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }
}

impl Limits {
    /// `Ok` when every limit is in its range, else `invalid_config` naming the first one that
    /// is not.
    ///
    /// # Errors
    /// `invalid_config`.
    pub fn check(&self) -> Result<(), Error> {
        check_leeway(self.leeway)?;
        check_max_lifetime(self.max_lifetime)?;
        check_max_token_len(self.max_token_len)?;
        check_default_ttl(self.ttl, self.max_lifetime)
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidConfig { reason }
}

/// A leeway is at most [`MAX_LEEWAY`].
pub(crate) fn check_leeway(leeway: Duration) -> Result<(), Error> {
    if leeway > MAX_LEEWAY {
        return Err(invalid(format!(
            "leeway is at most {}s",
            MAX_LEEWAY.as_secs()
        )));
    }
    Ok(())
}

/// A maximum lifetime is at least one second.
pub(crate) fn check_max_lifetime(max: Duration) -> Result<(), Error> {
    if max.as_secs() == 0 {
        return Err(invalid("the maximum lifetime is at least 1s".to_owned()));
    }
    Ok(())
}

/// A length cap is at least one byte (else every token would be refused).
pub(crate) fn check_max_token_len(max: usize) -> Result<(), Error> {
    if max == 0 {
        return Err(invalid("the length cap is at least 1 byte".to_owned()));
    }
    Ok(())
}

/// A default TTL is 1 s up to the maximum lifetime (else every token minted with it fails).
pub(crate) fn check_default_ttl(ttl: Duration, max_lifetime: Duration) -> Result<(), Error> {
    if ttl.as_secs() == 0 || ttl > max_lifetime {
        return Err(invalid(format!(
            "the TTL is 1 to {} seconds (the maximum lifetime)",
            max_lifetime.as_secs()
        )));
    }
    Ok(())
}
