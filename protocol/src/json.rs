//! Strict JSON helpers: duplicate-member detection at any depth, and "string or anything else".

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deserializes any JSON value, refusing an object with a repeated member name at any depth.
/// serde_json already refuses invalid UTF-8, lone surrogate escapes and NaN literals.
pub(crate) struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDupVisitor)
    }
}

struct NoDupVisitor;

impl<'de> Visitor<'de> for NoDupVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_none<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            if seen.contains(&key.0) {
                return Err(de::Error::custom("duplicate member"));
            }
            seen.push(key.0);
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

/// A string that borrows from the input when it has no escapes.
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = CowStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<CowStr<'a>, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<CowStr<'a>, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<CowStr<'a>, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
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
                NoDupVisitor.visit_seq(seq)?;
                Ok(StrOrOther::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StrOrOther<'a>, A::Error> {
                NoDupVisitor.visit_map(map)?;
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
