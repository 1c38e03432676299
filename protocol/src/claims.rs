//! The claims of a tessera token, and their wire forms.

use serde::Serialize;
use serde::de::{Deserialize, Deserializer};

use crate::json::{CowStr, StrOrOther, Time};

/// The verified claims of a token, with the application payload `dat` typed as `T`.
///
/// ```
/// use std::sync::Arc;
/// use tessera_protocol::{Algorithm, Expected, FixedClock, KeySet, Minter, Verifier};
/// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
/// let clock = Arc::new(FixedClock(1_790_000_000));
/// let token = Minter::new(keys.clone(), "inventree").with_clock(clock.clone())
///     .token("plugin:stock-tools/action:print").payload(&[1, 2, 3]).mint()?;
/// let claims = Verifier::new(keys, "inventree").with_clock(clock)
///     .verify::<Vec<u8>>(&token, &Expected::audience("plugin:stock-tools/action:print"))?.claims;
/// assert_eq!((claims.iss.as_str(), claims.aud.as_str()), ("inventree", "plugin:stock-tools/action:print"));
/// assert_eq!(claims.sub, None); // minted without a subject
/// assert_eq!((claims.iat, claims.nbf, claims.exp), (1_790_000_000, 1_790_000_000, 1_790_000_300));
/// assert_eq!(claims.jti.len(), 22); // 16 random bytes, base64url
/// assert_eq!(claims.dat, [1, 2, 3]);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims<T> {
    /// Issuer: the app or plugin that minted the token.
    pub iss: String,
    /// Audience: the one action this token may invoke.
    pub aud: String,
    /// Subject: the principal the token was minted for, if any.
    pub sub: Option<String>,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not before (seconds since the epoch); equals `iat` when the token carried no `nbf`.
    pub nbf: u64,
    /// Expires at (seconds since the epoch); the token is refused from `exp` (plus leeway) on.
    pub exp: u64,
    /// Unique token id (base64url of 16 random bytes when minted by tessera).
    pub jti: String,
    /// Optional fingerprint of the state the token was minted from (stale-state detection).
    pub fpr: Option<String>,
    /// The application payload.
    pub dat: T,
}

/// The longest `fpr` accepted, in bytes.
pub const MAX_FPR_LEN: usize = 128;

/// An optional member where `null` is a value (of the wrong type), not absence.
pub(crate) struct Opt<T>(pub(crate) Option<T>);

impl<T> Default for Opt<T> {
    fn default() -> Self {
        Opt(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Opt<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|v| Opt(Some(v)))
    }
}

/// The claims as they are on the wire, with `dat` as `D`: its raw JSON text
/// (`&RawValue`, checked and typed later) or, on the verifier's fast path, the payload type
/// itself. Unknown and duplicate members are refused by serde.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClaims<'a, D> {
    #[serde(borrow, default)]
    pub(crate) iss: Opt<StrOrOther<'a>>,
    #[serde(borrow, default)]
    pub(crate) aud: Opt<StrOrOther<'a>>,
    #[serde(borrow, default)]
    pub(crate) sub: Opt<CowStr<'a>>,
    pub(crate) iat: Time,
    #[serde(default)]
    pub(crate) nbf: Opt<Time>,
    pub(crate) exp: Time,
    #[serde(borrow)]
    pub(crate) jti: CowStr<'a>,
    #[serde(borrow, default)]
    pub(crate) fpr: Opt<CowStr<'a>>,
    /// Required whatever `D` is: through `deserialize_with`, a missing `dat` is an error even
    /// when `D` is an `Option` (serde would otherwise read a missing member as `None`).
    #[serde(
        deserialize_with = "Deserialize::deserialize",
        bound(deserialize = "D: Deserialize<'de>")
    )]
    pub(crate) dat: D,
}

/// The claims as minted but `dat`, members in the spec's order; the minter appends `dat` in
/// the minted form of spec §2.6 (`crate::minted_form`).
#[derive(Serialize)]
pub(crate) struct ClaimsOut<'a> {
    pub(crate) iss: &'a str,
    pub(crate) aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sub: Option<&'a str>,
    pub(crate) iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nbf: Option<u64>,
    pub(crate) exp: u64,
    pub(crate) jti: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fpr: Option<&'a str>,
}
