//! Typing a JSON value and refusing repeated member names in the same pass.
//!
//! [`Strict<T>`] deserializes `T` through a deserializer that wraps the real one and watches
//! every object on the way: a member name that its object already has is an error, at any
//! depth, whatever `T` does with it (a field, a map entry, an ignored member). It is the
//! verifier's fast path; whenever it cannot decide cheaply it fails with [`UNDECIDED`], and the
//! caller falls back to the step-by-step path ([`JsonRules`](crate::json::JsonRules) and
//! a separate typing), which has the final word:
//! - a member name with an escape (two spellings may name the same member);
//! - a map whose keys `T` reads as something else than a string (integer keys);
//! - an object with more than [`MAX_NAMES`] members;
//! - a value `T` keeps raw (`serde_json::value::RawValue`), whose inside is not visited;
//! - nesting deeper than [`MAX_DEPTH`];
//! - a string read as bytes that is not UTF-8 (an unpaired surrogate escape).
//!
//! It runs on claims whose signature (or decryption) has already been checked.
//!
//! Ignored values are visited in full (`deserialize_ignored_any` becomes `deserialize_any`),
//! so a repeated name inside a member that `T` skips is still found.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// The error message when the strict pass cannot decide; the caller falls back.
pub(crate) const UNDECIDED: &str = "undecided by the strict pass";
/// The most members of one object the strict pass compares before deferring.
pub(crate) const MAX_NAMES: usize = 32;
/// The deepest nesting the strict pass follows before deferring (each level costs it more
/// stack than the step-by-step path).
pub(crate) const MAX_DEPTH: u8 = 32;
/// serde_json's marker for `RawValue`.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// `T`, deserialized with every object checked for repeated member names.
pub(crate) struct Strict<T>(pub(crate) T);

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Strict<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(StrictDe(d, 0)).map(Strict)
    }
}

/// A deserializer whose visitors see strict maps; with the depth of the containers around.
struct StrictDe<D>(D, u8);

/// A seed whose deserializer is strict.
struct StrictSeed<S>(S, u8);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(StrictDe(d, self.1))
    }
}

/// Calls `$forward!` with the `Deserializer` methods that take only a visitor (all but
/// `deserialize_ignored_any`, which each wrapper treats in its own way).
macro_rules! visitor_methods {
    ($forward:ident) => {
        $forward!(
            deserialize_any,
            deserialize_bool,
            deserialize_i8,
            deserialize_i16,
            deserialize_i32,
            deserialize_i64,
            deserialize_i128,
            deserialize_u8,
            deserialize_u16,
            deserialize_u32,
            deserialize_u64,
            deserialize_u128,
            deserialize_f32,
            deserialize_f64,
            deserialize_char,
            deserialize_str,
            deserialize_string,
            deserialize_bytes,
            deserialize_byte_buf,
            deserialize_option,
            deserialize_unit,
            deserialize_seq,
            deserialize_map,
            deserialize_identifier,
        );
    };
}

macro_rules! forward_strict {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method(StrictVisitor(visitor, self.1))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for StrictDe<D> {
    type Error = D::Error;

    visitor_methods!(forward_strict);

    /// Visited in full: a skipped member may still hide a repeated name.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(StrictVisitor(visitor, self.1))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_unit_struct(name, StrictVisitor(visitor, self.1))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == RAW_VALUE_TOKEN {
            return Err(de::Error::custom(UNDECIDED));
        }
        self.0
            .deserialize_newtype_struct(name, StrictVisitor(visitor, self.1))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_tuple(len, StrictVisitor(visitor, self.1))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_tuple_struct(name, len, StrictVisitor(visitor, self.1))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_struct(name, fields, StrictVisitor(visitor, self.1))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_enum(name, variants, StrictVisitor(visitor, self.1))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A visitor that hands strict maps, sequences, options and enums to the one it wraps.
struct StrictVisitor<V>(V, u8);

/// Calls `$forward!` with the `Visitor` methods of plain values (all but
/// `visit_borrowed_str` and the byte strings, which each wrapper treats in its own way), each
/// with its argument type.
macro_rules! value_visits {
    ($forward:ident) => {
        $forward!(
            visit_bool: bool,
            visit_i8: i8,
            visit_i16: i16,
            visit_i32: i32,
            visit_i64: i64,
            visit_i128: i128,
            visit_u8: u8,
            visit_u16: u16,
            visit_u32: u32,
            visit_u64: u64,
            visit_u128: u128,
            visit_f32: f32,
            visit_f64: f64,
            visit_char: char,
            visit_str: &str,
            visit_string: String,
        );
    };
}

macro_rules! forward_visit {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StrictVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    value_visits!(forward_visit);
    forward_visit!(visit_borrowed_str: &'de str);

    // serde_json hands a string that `T` reads as bytes over unescaped but not checked: an
    // unpaired surrogate escape (`"\ud800"`) arrives as bytes that are not UTF-8. The
    // step-by-step path refuses such a string as malformed.
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.0.visit_bytes(utf8(v)?)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.0.visit_borrowed_bytes(utf8(v)?)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        utf8(&v)?;
        self.0.visit_byte_buf(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(StrictDe(d, self.1))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(StrictDe(d, self.1))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(StrictSeq(seq, deeper(self.1)?))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(StrictMap {
            map,
            depth: deeper(self.1)?,
            names: [""; MAX_NAMES],
            len: 0,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(StrictEnum(data, deeper(self.1)?))
    }
}

/// `bytes` if they are UTF-8 (as every JSON string without an unpaired surrogate escape is),
/// else [`UNDECIDED`].
fn utf8<E: de::Error>(bytes: &[u8]) -> Result<&[u8], E> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(bytes),
        Err(_) => Err(E::custom(UNDECIDED)),
    }
}

/// The depth inside one more container, or [`UNDECIDED`] beyond [`MAX_DEPTH`].
fn deeper<E: de::Error>(depth: u8) -> Result<u8, E> {
    if depth < MAX_DEPTH {
        Ok(depth + 1)
    } else {
        Err(E::custom(UNDECIDED))
    }
}

/// A sequence whose elements are strict.
struct StrictSeq<A>(A, u8);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed, self.1))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// An object: its member names so far (borrowed from the input), and strict values.
struct StrictMap<'de, A> {
    map: A,
    names: [&'de str; MAX_NAMES],
    len: usize,
    depth: u8,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut name = None;
        let key = self.map.next_key_seed(KeySeed {
            seed,
            name: &mut name,
        })?;
        if key.is_some() {
            // A key that was not seen as a borrowed string cannot be compared here.
            let name = name.ok_or_else(|| de::Error::custom(UNDECIDED))?;
            if self.names[..self.len].contains(&name) {
                return Err(de::Error::custom("duplicate member"));
            }
            *self
                .names
                .get_mut(self.len)
                .ok_or_else(|| de::Error::custom(UNDECIDED))? = name;
            self.len += 1;
        }
        Ok(key)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(StrictSeed(seed, self.depth))
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A member name's seed: records the name when it arrives as a string borrowed from the input.
struct KeySeed<'n, 'de, K> {
    seed: K,
    name: &'n mut Option<&'de str>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, 'de, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyDe {
            de: d,
            name: self.name,
        })
    }
}

/// The deserializer of a member name: every request ends in a [`KeyVisitor`].
struct KeyDe<'n, 'de, D> {
    de: D,
    name: &'n mut Option<&'de str>,
}

macro_rules! forward_key {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.de.$method(KeyVisitor { visitor, name: self.name })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, 'de, D> {
    type Error = D::Error;

    visitor_methods!(forward_key);
    forward_key!(deserialize_ignored_any);

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, D::Error> {
        Err(de::Error::custom(UNDECIDED))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, D::Error> {
        Err(de::Error::custom(UNDECIDED))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, D::Error> {
        Err(de::Error::custom(UNDECIDED))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, D::Error> {
        Err(de::Error::custom(UNDECIDED))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, D::Error> {
        Err(de::Error::custom(UNDECIDED))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // An enum read from a member name (a map keyed by a unit enum) arrives as a string.
        self.de.deserialize_enum(
            name,
            variants,
            KeyVisitor {
                visitor,
                name: self.name,
            },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// Sees a member name: a borrowed string is recorded and passed on; anything else (an escaped
/// name, a number read from the name) leaves the name unrecorded, which the map turns into
/// [`UNDECIDED`].
struct KeyVisitor<'n, 'de, V> {
    visitor: V,
    name: &'n mut Option<&'de str>,
}

macro_rules! forward_key_visit {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.visitor.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        *self.name = Some(v);
        self.visitor.visit_borrowed_str(v)
    }

    value_visits!(forward_key_visit);
    forward_key_visit!(
        visit_bytes: &[u8],
        visit_borrowed_bytes: &'de [u8],
        visit_byte_buf: Vec<u8>,
    );

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        // serde_json reads a member name as a unit variant through `visit_enum`; the name is
        // then out of sight.
        self.visitor.visit_enum(data)
    }
}

/// An enum whose variant contents are strict.
struct StrictEnum<A>(A, u8);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictVariant<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, StrictVariant<A::Variant>), A::Error> {
        self.0
            .variant_seed(seed)
            .map(|(value, variant)| (value, StrictVariant(variant, self.1)))
    }
}

struct StrictVariant<A>(A, u8);

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for StrictVariant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed, self.1))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, StrictVisitor(visitor, self.1))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0
            .struct_variant(fields, StrictVisitor(visitor, self.1))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IgnoredAny;
    use serde_json::Value;
    use serde_json::value::RawValue;

    use super::{Strict, UNDECIDED};
    use crate::json::validator::tests::{json_text, walk};

    /// `Ok(value)`, or the error: "duplicate", "undecided" or another message.
    fn strict<'a, T: Deserialize<'a>>(json: &'a str) -> Result<T, String> {
        serde_json::from_str::<Strict<T>>(json)
            .map(|s| s.0)
            .map_err(|e| {
                let text = e.to_string();
                if text.starts_with("duplicate member") {
                    "duplicate".to_owned()
                } else if text.starts_with(UNDECIDED) {
                    "undecided".to_owned()
                } else {
                    text
                }
            })
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Part {
        part_id: u32,
        name: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        extra: Option<BTreeMap<String, Value>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Mode {
        Move { to: String },
        Tuple(u8, String),
        Wrapped(BTreeMap<String, u8>),
        Plain,
    }

    #[test]
    fn a_payload_without_repeated_names_is_typed() {
        let part: Part =
            strict(r#"{"part_id":7,"name":"bolt","tags":["a","a"],"extra":{"x":{"y":1}},"more":{"z":[1]}}"#)
                .unwrap();
        assert_eq!(part.part_id, 7);
        assert_eq!(part.tags, ["a", "a"]);
        let mode: Vec<Mode> =
            strict(r#"[{"Move":{"to":"B2"}},{"Tuple":[1,"x"]},{"Wrapped":{"a":1,"b":2}},"Plain"]"#)
                .unwrap();
        assert_eq!(mode.len(), 4);
        let value: Value = strict(r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#).unwrap();
        assert_eq!(value["b"][1]["a"], 2);
    }

    #[test]
    fn a_repeated_name_is_refused_wherever_it_is() {
        for json in [
            // A field of the type.
            r#"{"part_id":7,"name":"bolt","name":"nut"}"#,
            // Inside a map the type keeps.
            r#"{"part_id":7,"name":"bolt","extra":{"x":1,"x":2}}"#,
            // Inside a member the type ignores, at depth.
            r#"{"part_id":7,"name":"bolt","more":{"z":[{"q":1,"q":1}]}}"#,
            // A member the type ignores, repeated.
            r#"{"part_id":7,"name":"bolt","more":1,"more":2}"#,
            // Inside an Option's value.
            r#"{"part_id":7,"name":"bolt","extra":{"x":{"y":1,"y":1}}}"#,
        ] {
            assert_eq!(strict::<Part>(json).unwrap_err(), "duplicate", "{json}");
        }
        for json in [
            r#"[{"Move":{"to":"B2","to":"C3"}}]"#,
            r#"[{"Wrapped":{"a":1,"a":2}}]"#,
            r#"[{"Tuple":[1,"x"]},{"Move":{"to":"B","x":{"k":1,"k":2}}}]"#,
        ] {
            assert!(strict::<Vec<Mode>>(json).is_err(), "{json}");
        }
        assert_eq!(
            strict::<Value>(r#"[{"a":1,"a":1}]"#).unwrap_err(),
            "duplicate"
        );
        assert_eq!(
            strict::<IgnoredAny>(r#"{"a":{"b":1,"b":1}}"#).unwrap_err(),
            "duplicate"
        );
    }

    #[test]
    fn what_it_cannot_compare_is_left_undecided() {
        // An escaped member name.
        assert_eq!(
            strict::<Value>(r#"{"a":1,"\u0061":2}"#).unwrap_err(),
            "undecided"
        );
        assert_eq!(strict::<Value>(r#"{"a\n":1}"#).unwrap_err(), "undecided");
        // Keys read as numbers.
        assert_eq!(
            strict::<HashMap<u32, u8>>(r#"{"1":1,"01":2}"#).unwrap_err(),
            "undecided"
        );
        // A raw value, whose inside is not visited.
        assert_eq!(
            strict::<Box<RawValue>>(r#"{"a":1,"a":2}"#).unwrap_err(),
            "undecided"
        );
        // An object with more members than it compares.
        let many: Vec<String> = (0..40).map(|i| format!("\"m{i}\":{i}")).collect();
        let many = format!("{{{}}}", many.join(","));
        assert_eq!(strict::<Value>(&many).unwrap_err(), "undecided");
        // Nesting deeper than it follows (arrays, objects, enums alike).
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(strict::<Value>(&deep(super::MAX_DEPTH as usize)).is_ok());
        assert_eq!(
            strict::<Value>(&deep(super::MAX_DEPTH as usize + 1)).unwrap_err(),
            "undecided"
        );
        let deep_objects = format!("{}1{}", "{\"a\":".repeat(40), "}".repeat(40));
        assert_eq!(strict::<Value>(&deep_objects).unwrap_err(), "undecided");
    }

    proptest! {
        #[test]
        fn the_strict_pass_never_contradicts_the_serde_walk(json in json_text()) {
            let dup = walk(&json);
            for outcome in [
                strict::<Value>(&json).map(|_| ()),
                strict::<IgnoredAny>(&json).map(|_| ()),
            ] {
                match outcome.as_ref().map_err(String::as_str) {
                    Ok(()) => prop_assert!(!dup, "accepted a repeated name: {}", json),
                    Err("duplicate") => prop_assert!(dup, "a repeat that is not: {}", json),
                    Err("undecided") => {}
                    Err(other) => prop_assert!(false, "{}: {}", other, json),
                }
            }
        }
    }
}
