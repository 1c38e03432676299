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

/// Fast path of the duplicate-member check, on JSON text that serde_json has already accepted
/// as syntactically valid: scans the bytes once, comparing each object's member names as raw
/// bytes. Returns `Some(found)`, or `None` when a member name contains an escape (two spellings
/// can then name the same member) or any string contains a `\u` escape (which may be a lone
/// surrogate that serde_json's raw capture does not decode), in which case the caller runs
/// [`NoDuplicates`].
pub(crate) fn scan_duplicates(json: &[u8]) -> Option<bool> {
    // One frame per open container: (is_object, index in `names` where its names start,
    // expecting a member name next).
    let mut frames: Vec<(bool, usize, bool)> = Vec::with_capacity(8);
    let mut names: Vec<&[u8]> = Vec::with_capacity(16);
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'{' => frames.push((true, names.len(), true)),
            b'[' => frames.push((false, names.len(), false)),
            b'}' | b']' => {
                let (_, start, _) = frames.pop()?;
                names.truncate(start);
            }
            b',' => {
                if let Some(frame) = frames.last_mut() {
                    frame.2 = frame.0;
                }
            }
            b':' => {
                if let Some(frame) = frames.last_mut() {
                    frame.2 = false;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut escaped = false;
                i += 1;
                while i < json.len() && json[i] != b'"' {
                    if json[i] == b'\\' {
                        escaped = true;
                        if json.get(i + 1) == Some(&b'u') {
                            return None;
                        }
                        i += 1; // skip the escaped byte
                    }
                    i += 1;
                }
                if let Some(&(true, first, true)) = frames.last() {
                    if escaped {
                        return None;
                    }
                    let name = json.get(start..i)?;
                    if names[first..].contains(&name) {
                        return Some(true);
                    }
                    names.push(name);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::{NoDuplicates, scan_duplicates};

    fn walk(json: &str) -> bool {
        serde_json::from_str::<NoDuplicates>(json).is_err()
    }

    #[test]
    fn the_fast_scan_agrees_with_the_serde_walk() {
        for (json, dup) in [
            (r#"{"a":1,"b":2}"#, false),
            (r#"{"a":1,"a":2}"#, true),
            (r#"{"a":{"a":1},"b":[{"a":1,"a":2}]}"#, true),
            (r#"{"a":{"b":1},"b":{"b":1}}"#, false),
            (r#"[{"a":1},{"a":1}]"#, false),
            (r#"{"a":"x\"y","b":"{\"a\":1,\"a\":2}"}"#, false),
            (r#"{"a" : 1 , "a" : 2}"#, true),
            (r#"{"k":[1,{"k":2}],"j":{"k":3,"j":4}}"#, false),
            ("null", false),
            (r#""a""#, false),
            (r#"{"":1,"":2}"#, true),
        ] {
            assert_eq!(scan_duplicates(json.as_bytes()), Some(dup), "{json}");
            assert_eq!(walk(json), dup, "{json}");
        }
        // An escaped member name, or any \u escape, defers to the serde walk.
        assert_eq!(scan_duplicates(br#"{"a":1,"\u0061":2}"#), None);
        assert_eq!(scan_duplicates(br#"{"a":"\ud800"}"#), None);
        assert_eq!(scan_duplicates(br#"{"a\n":1,"b":"\n"}"#), None);
        assert!(walk(r#"{"a":1,"\u0061":2}"#));
    }
}
