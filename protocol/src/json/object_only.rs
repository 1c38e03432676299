//! Reading a struct from a JSON object only.
//!
//! serde's derived `Deserialize` of a struct also accepts a JSON **array** of the struct's
//! values in field order: `["HS256","tessera+jwt","k1"]` would read as the header
//! `{"alg":"HS256","typ":"tessera+jwt","kid":"k1"}`. The spec's documents (a token's header
//! and claims, a key set and each of its JWKs) are JSON objects, and a reader that accepted
//! the array would see a document other readers refuse (spec §11.9). [`ObjectOnly<T>`] reads
//! `T` through the deserializer's map entry point, which refuses anything but an object.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// `T`, read from a JSON object and from nothing else.
pub(crate) struct ObjectOnly<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor(PhantomData))
            .map(ObjectOnly)
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        // The derived visitor reads the members as it would from the object itself.
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Pair<'a> {
        #[serde(borrow)]
        a: std::borrow::Cow<'a, str>,
        b: u32,
    }

    #[test]
    fn an_object_reads_as_the_struct_and_an_array_of_its_values_does_not() {
        let ObjectOnly(pair) = serde_json::from_str::<ObjectOnly<Pair>>(r#"{"b":2,"a":"x"}"#)
            .expect("an object reads");
        assert_eq!(
            pair,
            Pair {
                a: "x".into(),
                b: 2
            }
        );
        // Plain serde reads the array; through ObjectOnly it is refused.
        assert!(serde_json::from_str::<Pair>(r#"["x",2]"#).is_ok());
        for text in [r#"["x",2]"#, "null", "7", r#""x""#] {
            assert!(
                serde_json::from_str::<ObjectOnly<Pair>>(text).is_err(),
                "{text}"
            );
        }
        // What the struct refuses in an object stays refused (a repeated field, an unknown one).
        for text in [r#"{"a":"x","b":2,"b":3}"#, r#"{"a":"x","b":2,"c":0}"#] {
            assert!(
                serde_json::from_str::<ObjectOnly<Pair>>(text).is_err(),
                "{text}"
            );
        }
        // Borrowing still works: an unescaped string is not copied.
        let ObjectOnly(pair) =
            serde_json::from_str::<ObjectOnly<Pair>>(r#"{"a":"x","b":2}"#).unwrap();
        assert!(matches!(pair.a, std::borrow::Cow::Borrowed(_)));
    }
}
