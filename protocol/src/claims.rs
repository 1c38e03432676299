//! The claims of a tessera token, and their wire forms.

use serde::de::{Deserialize, Deserializer};
use serde::ser::{SerializeMap as _, SerializeSeq as _};
use serde::{Serialize, Serializer};

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

/// The claims as minted, members in the spec's order.
#[derive(Serialize)]
pub(crate) struct ClaimsOut<'a, T: ?Sized + Serialize> {
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
    pub(crate) dat: &'a T,
}

/// A payload in the minted form of spec §2.6: the members of every object sorted by name (in
/// code point order, which is the byte order of `str`), whatever order the application gave
/// them in and whether or not serde_json keeps insertion order; scalars as serde_json writes
/// them (its string escapes and its Ryū number layout are the ones §2.6 defines).
pub(crate) struct MintedDat<'a>(pub(crate) &'a serde_json::Value);

impl Serialize for MintedDat<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            serde_json::Value::Object(members) => {
                let mut sorted: Vec<(&String, &serde_json::Value)> = members.iter().collect();
                sorted.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                let mut map = serializer.serialize_map(Some(sorted.len()))?;
                for (name, value) in sorted {
                    map.serialize_entry(name, &MintedDat(value))?;
                }
                map.end()
            }
            serde_json::Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&MintedDat(item))?;
                }
                seq.end()
            }
            serde_json::Value::Number(number) => match number.as_f64() {
                Some(double) if number.is_f64() => {
                    serde_json::value::RawValue::from_string(minted_double(double))
                        .map_err(serde::ser::Error::custom)?
                        .serialize(serializer)
                }
                _ => number.serialize(serializer),
            },
            scalar => scalar.serialize(serializer),
        }
    }
}

/// A finite binary64 number in the minted form of spec §2.6, item 6: the shortest digits that
/// read back as `value` (Rust's `{:e}` gives them), laid out plainly from 1e-5 up to below
/// 1e16 and with an exponent outside that, keeping `.0` or an exponent on whole numbers.
///
/// Written here rather than left to serde_json, whose float layout has changed between
/// versions (`1e16` under Ryū, `1e+16` since): the minted bytes are the spec's, not a
/// dependency's.
pub(crate) fn minted_double(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // value = 0.d1…dn × 10^k
    let k = exponent.parse::<i64>().unwrap_or(0) + 1;
    let n = digits.len() as i64;
    let mut out = String::with_capacity(digits.len() + 8);
    if value < 0.0 {
        out.push('-');
    }
    let zeros = |count: i64| "0".repeat(count.max(0) as usize);
    if n <= k && k <= 16 {
        out.push_str(&digits);
        out.push_str(&zeros(k - n));
        out.push_str(".0");
    } else if 0 < k && k <= 16 {
        let (whole, fraction) = digits.split_at(k as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -5 < k && k <= 0 {
        out.push_str("0.");
        out.push_str(&zeros(-k));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push_str(if k - 1 < 0 { "e-" } else { "e+" });
        out.push_str(&(k - 1).abs().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::minted_double;

    #[test]
    fn doubles_are_laid_out_as_the_spec_says_and_read_back_exactly() {
        for (value, text) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (12.5, "12.5"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (1e-5, "0.00001"),
            (1.234e-5, "0.00001234"),
            (1e-6, "1e-6"),
            (-7.25e-10, "-7.25e-10"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992.0"),
        ] {
            assert_eq!(minted_double(value), text);
        }
        let mut x = 1.2345e-12_f64;
        while x < 1e30 {
            let text = minted_double(x);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                x.to_bits(),
                "{text}"
            );
            assert!(text.contains(['.', 'e']), "{text}");
            x *= 3.7;
        }
    }
}
