//! What the minter checks of a payload before it signs it: JSON would silently change it.
//!
//! serde_json writes a NaN or infinite float as `null`, and writes an object with a repeated
//! member name (two `#[serde(flatten)]` fields, a custom `Serialize`) as it comes. The first
//! loses what the caller gave; the second makes a token every verifier refuses as malformed
//! (spec §2.4). An integer beyond 64 bits (an `i128`, a `u128`, a `RawValue`'s literal) would
//! reach every verifier as a binary64 number, not as the integer given (spec §4 step 6).
//! [`check_payload`] walks the payload once through a serializer that writes nothing and
//! refuses all three, so minting fails with `bad_payload` instead.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

use crate::json::rules::first_integer_beyond_64_bits;
use crate::json::validator::{MAX_CLAIMS_DEPTH, check_json_rules_within};

/// Checks `dat` before it is serialized into a token's claims; on failure, what is wrong in
/// words (never the value).
pub(crate) fn check_payload<T: Serialize + ?Sized>(dat: &T) -> Result<(), &'static str> {
    dat.serialize(Probe(MAX_CLAIMS_DEPTH - 1))
        .map_err(|Refused(reason)| reason)
}

/// Why a payload is refused.
#[derive(Debug)]
pub(crate) struct Refused(&'static str);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Refused {
        Refused("the payload's Serialize implementation failed")
    }
}

const NOT_FINITE: &str = "the payload has a float that is NaN or infinite, which JSON cannot hold";
const REPEATED: &str = "the payload repeats a member name in one object";
const TOO_DEEP: &str = "the payload nests deeper than the 64 levels claims may have";
const BEYOND_64_BITS: &str = "the payload has an integer outside -2^63..=2^64-1, which a verifier \
                              would read as a binary64 number, not as the integer given";
/// serde_json's marker for `RawValue`.
pub(crate) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// A serializer that writes nothing: it visits every value, refusing non-finite floats and
/// nesting beyond the levels of arrays and objects it has left (as serde_json writes them).
#[derive(Clone, Copy)]
struct Probe(usize);

impl Probe {
    /// The probe of the values inside `n` more levels of containers.
    fn inside(self, n: usize) -> Result<Probe, Refused> {
        self.0.checked_sub(n).map(Probe).ok_or(Refused(TOO_DEEP))
    }
}

/// Calls `$then!` with the `Serializer` methods of booleans, integers and chars.
macro_rules! scalars {
    ($then:ident) => {
        $then!(
            serialize_bool: bool,
            serialize_i8: i8,
            serialize_i16: i16,
            serialize_i32: i32,
            serialize_i64: i64,
            serialize_u8: u8,
            serialize_u16: u16,
            serialize_u32: u32,
            serialize_u64: u64,
            serialize_char: char,
        );
    };
}

/// Every leaf but the floats is fine as it is.
macro_rules! fine {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, _: $ty) -> Result<(), Refused> {
                Ok(())
            }
        )*
    };
}

impl ser::Serializer for Probe {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Probe;
    type SerializeTuple = Probe;
    type SerializeTupleStruct = Probe;
    type SerializeTupleVariant = Probe;
    type SerializeMap = Members<String>;
    type SerializeStruct = Members<&'static str>;
    type SerializeStructVariant = Members<&'static str>;

    scalars!(fine);
    fine!(
        serialize_str: &str,
        serialize_unit_struct: &'static str,
    );

    /// Written as an array of numbers.
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Refused> {
        self.inside(1).map(|_| ())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Refused> {
        within_64_bits(i64::try_from(v).is_ok() || u64::try_from(v).is_ok())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Refused> {
        within_64_bits(u64::try_from(v).is_ok())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Refused> {
        finite(v.is_finite())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Refused> {
        finite(v.is_finite())
    }

    fn serialize_none(self) -> Result<(), Refused> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refused> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Refused> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Refused> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        value.serialize(self)
    }

    /// Written `{"variant": value}`.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        value.serialize(self.inside(1)?)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Probe, Refused> {
        self.inside(1)
    }

    fn serialize_tuple(self, _: usize) -> Result<Probe, Refused> {
        self.inside(1)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Probe, Refused> {
        self.inside(1)
    }

    /// Written `{"variant": [...]}`.
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Probe, Refused> {
        self.inside(2)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Members<String>, Refused> {
        Ok(Members::with_capacity(len.unwrap_or(0), self.inside(1)?))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Members<&'static str>, Refused> {
        if name == RAW_VALUE_TOKEN {
            // serde_json's `RawValue`: one field, the JSON text written as it is.
            return Ok(Members {
                raw: true,
                ..Members::with_capacity(0, self)
            });
        }
        Ok(Members::with_capacity(len, self.inside(1)?))
    }

    /// Written `{"variant": {...}}`.
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Members<&'static str>, Refused> {
        Ok(Members::with_capacity(len, self.inside(2)?))
    }
}

/// The JSON text a `RawValue` holds (the string of its one field).
pub(crate) fn raw_text<T: Serialize + ?Sized>(value: &T) -> Result<String, Refused> {
    let refused = |_| Refused("the payload's raw JSON text cannot be read");
    let quoted = serde_json::to_string(value).map_err(refused)?;
    serde_json::from_str(&quoted).map_err(refused)
}

fn within_64_bits(fits: bool) -> Result<(), Refused> {
    if fits {
        Ok(())
    } else {
        Err(Refused(BEYOND_64_BITS))
    }
}

fn finite(is_finite: bool) -> Result<(), Refused> {
    if is_finite {
        Ok(())
    } else {
        Err(Refused(NOT_FINITE))
    }
}

/// The elements of sequences, tuples and their variants.
macro_rules! elements {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(
            impl ser::$trait for Probe {
                type Ok = ();
                type Error = Refused;
                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
                    value.serialize(*self)
                }
                fn end(self) -> Result<(), Refused> {
                    Ok(())
                }
            }
        )*
    };
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

/// An object's member names so far, and the probe of its values.
struct Members<N> {
    names: Vec<N>,
    values: Probe,
    /// A `RawValue`, whose field is JSON text to hold to the rules the verifier applies.
    raw: bool,
}

impl<N: PartialEq> Members<N> {
    fn with_capacity(len: usize, values: Probe) -> Members<N> {
        Members {
            names: Vec::with_capacity(len.min(64)),
            values,
            raw: false,
        }
    }

    fn add(&mut self, name: N) -> Result<(), Refused> {
        if self.names.contains(&name) {
            return Err(Refused(REPEATED));
        }
        self.names.push(name);
        Ok(())
    }
}

impl ser::SerializeMap for Members<String> {
    type Ok = ();
    type Error = Refused;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refused> {
        // A key serde_json cannot write as a string it refuses itself, later.
        match key.serialize(KeyName) {
            Ok(Some(name)) => self.add(name),
            Ok(None) | Err(_) => Ok(()),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(self.values)
    }

    fn end(self) -> Result<(), Refused> {
        Ok(())
    }
}

/// The fields of structs and struct variants.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(
            impl ser::$trait for Members<&'static str> {
                type Ok = ();
                type Error = Refused;
                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    name: &'static str,
                    value: &T,
                ) -> Result<(), Refused> {
                    if self.raw {
                        let text = raw_text(value)?;
                        check_json_rules_within(&text, self.values.0).map_err(Refused)?;
                        return within_64_bits(first_integer_beyond_64_bits(&text).is_none());
                    }
                    self.add(name)?;
                    value.serialize(self.values)
                }
                fn end(self) -> Result<(), Refused> {
                    Ok(())
                }
            }
        )*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

/// A map key as the member name serde_json writes for it (strings, integers, chars, booleans,
/// unit variants); `None` for keys it writes otherwise or refuses.
pub(crate) struct KeyName;

/// Keys serde_json writes as their decimal text.
macro_rules! decimal_key {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<Option<String>, Refused> {
                Ok(Some(v.to_string()))
            }
        )*
    };
}

/// Keys that are not compared.
macro_rules! other_key {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, _: $ty) -> Result<Option<String>, Refused> {
                Ok(None)
            }
        )*
    };
}

impl ser::Serializer for KeyName {
    type Ok = Option<String>;
    type Error = Refused;
    type SerializeSeq = Impossible<Option<String>, Refused>;
    type SerializeTuple = Impossible<Option<String>, Refused>;
    type SerializeTupleStruct = Impossible<Option<String>, Refused>;
    type SerializeTupleVariant = Impossible<Option<String>, Refused>;
    type SerializeMap = Impossible<Option<String>, Refused>;
    type SerializeStruct = Impossible<Option<String>, Refused>;
    type SerializeStructVariant = Impossible<Option<String>, Refused>;

    scalars!(decimal_key);
    other_key!(
        serialize_f32: f32,
        serialize_f64: f64,
        serialize_bytes: &[u8],
        serialize_unit_struct: &'static str,
    );

    fn serialize_str(self, v: &str) -> Result<Option<String>, Refused> {
        Ok(Some(v.to_owned()))
    }

    fn serialize_none(self) -> Result<Option<String>, Refused> {
        Ok(None)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Option<String>, Refused> {
        Ok(None)
    }

    fn serialize_unit(self) -> Result<Option<String>, Refused> {
        Ok(None)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Option<String>, Refused> {
        Ok(Some(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Option<String>, Refused> {
        value.serialize(KeyName)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Option<String>, Refused> {
        Ok(None)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Refused> {
        Err(Refused(NOT_A_NAME))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Refused> {
        Err(Refused(NOT_A_NAME))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Refused> {
        Err(Refused(NOT_A_NAME))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Refused> {
        Err(Refused(NOT_A_NAME))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Refused> {
        Err(Refused(NOT_A_NAME))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Refused> {
        Err(Refused(NOT_A_NAME))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Refused> {
        Err(Refused(NOT_A_NAME))
    }
}

/// A container used as a map key (serde_json refuses it when it writes the payload).
const NOT_A_NAME: &str = "a map key that is not a string";

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::check_payload;

    #[test]
    fn ordinary_payloads_pass() {
        #[derive(Serialize)]
        enum Kind {
            Unit,
            Tuple(u8, f32),
            Struct { a: f64 },
        }
        #[derive(Serialize)]
        struct Part {
            id: u32,
            name: &'static str,
            price: f64,
            tags: Vec<&'static str>,
            kinds: Vec<Kind>,
            by_id: BTreeMap<u32, Option<f32>>,
        }
        let part = Part {
            id: 7,
            name: "bolt",
            price: 0.25,
            tags: vec!["a", "b"],
            kinds: vec![Kind::Unit, Kind::Tuple(1, 2.0), Kind::Struct { a: -1.5 }],
            by_id: BTreeMap::from([(1, None), (2, Some(f32::MAX))]),
        };
        assert_eq!(check_payload(&part), Ok(()));
        assert_eq!(
            check_payload(&serde_json::json!({"a": [1, {"b": 2.5}]})),
            Ok(())
        );
        assert_eq!(check_payload(&f64::MIN_POSITIVE), Ok(()));
    }

    #[test]
    fn non_finite_floats_are_refused_wherever_they_are() {
        #[derive(Serialize)]
        struct Deep {
            values: Vec<Option<(u8, f32)>>,
        }
        for refused in [
            check_payload(&f64::NAN),
            check_payload(&f32::INFINITY),
            check_payload(&vec![1.0, f64::NEG_INFINITY]),
            check_payload(&Deep {
                values: vec![None, Some((1, f32::NAN))],
            }),
            check_payload(&BTreeMap::from([("k", f64::NAN)])),
        ] {
            assert!(refused.unwrap_err().contains("NaN or infinite"));
        }
    }

    #[test]
    fn integers_beyond_64_bits_are_refused_as_numbers_and_as_raw_text() {
        use serde_json::value::RawValue;
        assert_eq!(check_payload(&(u128::from(u64::MAX))), Ok(()));
        assert_eq!(check_payload(&(i128::from(i64::MIN))), Ok(()));
        let raw = |text: &str| RawValue::from_string(text.to_owned()).unwrap();
        assert_eq!(
            check_payload(&raw(
                r#"[18446744073709551615,-9223372036854775808,1e30,"1e99999"]"#
            )),
            Ok(())
        );
        for refused in [
            check_payload(&(u128::from(u64::MAX) + 1)),
            check_payload(&(i128::from(i64::MIN) - 1)),
            check_payload(&vec![raw("18446744073709551616")]),
            check_payload(&raw(r#"{"a":"x\"y","n":-9223372036854775809}"#)),
        ] {
            assert!(refused.unwrap_err().contains("2^64-1"));
        }
    }

    #[test]
    fn repeated_member_names_are_refused_in_any_object() {
        #[derive(Serialize)]
        struct Inner {
            a: u8,
        }
        #[derive(Serialize)]
        struct Flat {
            a: u8,
            #[serde(flatten)]
            inner: Inner,
        }
        #[derive(Serialize)]
        struct Nested {
            list: Vec<Flat>,
        }
        let flat = || Flat {
            a: 1,
            inner: Inner { a: 2 },
        };
        assert!(check_payload(&flat()).unwrap_err().contains("repeats"));
        let nested = Nested { list: vec![flat()] };
        assert!(check_payload(&nested).unwrap_err().contains("repeats"));
        // Keys that serde_json writes as the same name: 1 (an integer) and "1".
        #[derive(Serialize)]
        struct Mixed {
            #[serde(flatten)]
            numbers: BTreeMap<u8, u8>,
            #[serde(flatten)]
            names: BTreeMap<&'static str, u8>,
        }
        let mixed = Mixed {
            numbers: BTreeMap::from([(1, 1)]),
            names: BTreeMap::from([("1", 1)]),
        };
        assert!(check_payload(&mixed).unwrap_err().contains("repeats"));
        // The same name in different objects is fine.
        let apart = serde_json::json!({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]});
        assert_eq!(check_payload(&apart), Ok(()));
    }
}
