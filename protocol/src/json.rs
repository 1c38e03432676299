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

/// Fast path of the duplicate-member check, on JSON text that serde_json has accepted (or will
/// accept: on text it refuses, the answer does not matter, but the scan never panics): scans
/// the bytes once, comparing each object's member names as raw bytes. Returns `Some(found)`,
/// or `None` when a member name contains an escape (two spellings can then name the same
/// member), any string contains a `\u` escape (which may be a lone surrogate that serde_json's
/// raw capture does not decode), or the text nests deeper than [`SCAN_MAX_DEPTH`] or has more
/// than [`SCAN_MAX_NAMES`] names open at once; the caller then runs [`NoDuplicates`].
pub(crate) fn scan_duplicates(json: &[u8]) -> Option<bool> {
    let mut scan = Scan::new();
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        if b != b'"' {
            scan.structural(b)?;
            i += 1;
            continue;
        }
        let start = i + 1;
        let (end, escaped) = string_end(json, start)?;
        if scan.string(&json[start..end], escaped)? {
            return Some(true);
        }
        i = end + 1;
    }
    Some(false)
}

/// The index of the quote that closes the string starting at `start`, and whether the string
/// has escapes. `None` at a `\u` escape or when the text ends first.
fn string_end(json: &[u8], mut at: usize) -> Option<(usize, bool)> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    /// Whether some byte of `w` is zero.
    fn has_zero(w: u64) -> bool {
        w.wrapping_sub(ONES) & !w & HIGHS != 0
    }
    let mut escaped = false;
    loop {
        // Eight bytes at a time while none is a quote or a backslash.
        while let Some(chunk) = json
            .get(at..at + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
        {
            let w = u64::from_ne_bytes(chunk);
            if has_zero(w ^ QUOTES) || has_zero(w ^ BACKSLASHES) {
                break;
            }
            at += 8;
        }
        match *json.get(at)? {
            b'"' => return Some((at, escaped)),
            b'\\' => {
                if json.get(at + 1) == Some(&b'u') {
                    return None;
                }
                escaped = true;
                at += 2; // the backslash and the escaped byte
            }
            _ => at += 1,
        }
    }
}

/// The state of [`scan_duplicates`]: the open containers and the member names seen in each
/// open object. Fixed arrays: no allocation.
struct Scan<'j> {
    /// One frame per open container: (is an object, index in `names` where its names start,
    /// expecting a member name next).
    frames: [(bool, usize, bool); SCAN_MAX_DEPTH],
    depth: usize,
    names: [&'j [u8]; SCAN_MAX_NAMES],
    n_names: usize,
}

impl<'j> Scan<'j> {
    fn new() -> Scan<'j> {
        Scan {
            frames: [(false, 0, false); SCAN_MAX_DEPTH],
            depth: 0,
            names: [&[]; SCAN_MAX_NAMES],
            n_names: 0,
        }
    }

    /// A byte outside strings. `None`: too deep, or unbalanced (text serde_json refuses).
    fn structural(&mut self, b: u8) -> Option<()> {
        match b {
            b'{' | b'[' => {
                let frame = self.frames.get_mut(self.depth)?;
                *frame = (b == b'{', self.n_names, b == b'{');
                self.depth += 1;
            }
            b'}' | b']' => {
                self.depth = self.depth.checked_sub(1)?;
                self.n_names = self.frames[self.depth].1;
            }
            b',' | b':' => {
                if let Some(d) = self.depth.checked_sub(1) {
                    let frame = &mut self.frames[d];
                    // After a comma an object expects a name; after a colon, a value.
                    frame.2 = b == b',' && frame.0;
                }
            }
            _ => {}
        }
        Some(())
    }

    /// A string's raw contents. `Some(true)`: a member name its object already has. `None`:
    /// a member name with an escape, or too many names.
    fn string(&mut self, text: &'j [u8], escaped: bool) -> Option<bool> {
        let Some(&(true, first, true)) = self.depth.checked_sub(1).map(|d| &self.frames[d]) else {
            return Some(false);
        };
        if escaped {
            return None;
        }
        if self.names[first..self.n_names].contains(&text) {
            return Some(true);
        }
        *self.names.get_mut(self.n_names)? = text;
        self.n_names += 1;
        Some(false)
    }
}

/// The deepest nesting [`scan_duplicates`] follows before deferring to [`NoDuplicates`].
pub(crate) const SCAN_MAX_DEPTH: usize = 32;
/// The most member names [`scan_duplicates`] keeps open at once before deferring.
pub(crate) const SCAN_MAX_NAMES: usize = 64;

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::{NoDuplicates, scan_duplicates};

    /// JSON text (as serde_json writes it, or with spaces) whose objects may repeat names.
    pub(crate) fn json_text() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            "a",
            "b",
            "ab",
            "",
            "a\\n",
            "\\u0061",
            "x\\\"y",
            "a-long-member-name",
            "a-long-member-name\\\"and-more",
        ]);
        let leaf = prop_oneof![
            Just("1".to_owned()),
            Just("null".to_owned()),
            Just(r#""v""#.to_owned()),
            Just(r#""q\"{\"a\":1}""#.to_owned()),
            Just(r#""\\""#.to_owned()),
            Just(r#""a string of some length, over eight bytes""#.to_owned()),
            Just(r#""a long string\"with {\"a\":1,\"a\":2} inside\\""#.to_owned()),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((name.clone(), inner, any::<bool>()), 0..5).prop_map(|m| {
                    let members: Vec<String> = m
                        .into_iter()
                        .map(|(k, v, spaced)| {
                            if spaced {
                                format!(" \"{k}\" : {v} ")
                            } else {
                                format!("\"{k}\":{v}")
                            }
                        })
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_fast_scan_never_disagrees_with_the_serde_walk(json in json_text()) {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok(), "{}", json);
            if let Some(dup) = scan_duplicates(json.as_bytes()) {
                prop_assert_eq!(dup, walk(&json), "{}", json);
            }
        }

        #[test]
        fn the_scan_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = scan_duplicates(&bytes);
        }
    }

    pub(crate) fn walk(json: &str) -> bool {
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
        // Escapes in values keep the scan on its byte-by-byte path, with the same answers.
        for (json, dup) in [
            (r#"{"a":"\n","a":1}"#, true),
            (r#"{"a":{"b":"\t"},"b":{"b":"\"}"}}"#, false),
            (r#"{"a":"\\","b":[{"c":1,"c":"\/"}]}"#, true),
        ] {
            assert_eq!(scan_duplicates(json.as_bytes()), Some(dup), "{json}");
            assert_eq!(walk(json), dup, "{json}");
        }
        // Beyond its fixed capacity the scan defers too.
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(scan_duplicates(deep.as_bytes()), None);
        assert!(!walk(&deep));
        let many: Vec<String> = (0..70).map(|i| format!("\"m{i}\":{i}")).collect();
        let many = format!("{{{}}}", many.join(","));
        assert_eq!(scan_duplicates(many.as_bytes()), None);
        assert!(!walk(&many));
        // Broken text never panics (serde_json refuses it anyway).
        for broken in ["}", "]]", "{\"a", "\"\\", "{\"a\":\"\\", ",:", ""] {
            let _ = scan_duplicates(broken.as_bytes());
        }
    }
}
