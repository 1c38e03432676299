//! The claims of a tessera token, and their wire forms.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json::validator::{CowStr, claim_value};

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
/// the minted form of spec §2.6 (`crate::json::minted_form`).
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

/// A claim that must be a string to match, but whose other shapes (arrays, numbers, objects)
/// are a *mismatch* rather than a syntax error: `iss` and `aud` arrays give `wrong_issuer` /
/// `wrong_audience`, as the profile says.
pub(crate) enum StrOrOther<'a> {
    Str(Cow<'a, str>),
    Other,
}

impl StrOrOther<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            StrOrOther::Str(s) => Some(s),
            StrOrOther::Other => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StrOrOther<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = StrOrOther<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Other)
            }
            fn visit_unit<E>(self) -> Result<StrOrOther<'a>, E> {
                Ok(StrOrOther::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StrOrOther<'a>, A::Error> {
                claim_value().visit_seq(seq)?;
                Ok(StrOrOther::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StrOrOther<'a>, A::Error> {
                claim_value().visit_map(map)?;
                Ok(StrOrOther::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A time claim: a JSON integer (no fraction, exponent or sign) in `0..=MAX_TIME`.
#[derive(Clone, Copy)]
pub(crate) struct Time(pub(crate) u64);

/// 9999-12-31T23:59:59Z: larger times are refused, so time arithmetic never overflows.
pub(crate) const MAX_TIME: u64 = 253_402_300_799;

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // serde_json hands floats (1.0, 1e9) and out-of-range integers to u64 as type errors.
        let v = u64::deserialize(d)?;
        if v > MAX_TIME {
            return Err(de::Error::custom("time out of range"));
        }
        Ok(Time(v))
    }
}
