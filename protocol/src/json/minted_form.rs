//! The minted form of a payload (spec §2.6): the bytes a minter writes for `dat`, the same for
//! the same value whatever member order or number spelling the application gave it in.
//!
//! [`write_dat`] serializes the payload once, straight into the claims: the members of every
//! object (a struct's fields, a map's entries) sorted by name in code point order (the byte
//! order of `str`), binary64 numbers in the layout of §2.6 item 6 ([`minted_double`]), and
//! everything else as serde_json writes it (its string escapes are those of §2.6 item 3). An
//! object's values are written to a scratch buffer first and copied out in name order, so no
//! `serde_json::Value` is built for a typed payload.

use std::borrow::Cow;
use std::ops::Range;

use serde::Serialize;
use serde::ser::{self, Error as _};
use serde_json::Error;

use crate::json::serializer_check::{KeyName, RAW_VALUE_TOKEN, raw_text};

/// Writes `dat` in the minted form at the end of `out`. Call it on a payload that
/// [`check_payload`](crate::json::serializer_check::check_payload) accepted: it refuses non-finite
/// floats and map keys that are not names, but does not look for repeated names again.
pub(crate) fn write_dat<T: Serialize + ?Sized>(dat: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    dat.serialize(Writer(out))
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

/// Writes one value at the end of its buffer.
struct Writer<'a>(&'a mut Vec<u8>);

impl<'a> Writer<'a> {
    /// A scalar, as serde_json writes it.
    fn plain<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        serde_json::to_writer(self.0, value)
    }

    fn double(self, value: f64) -> Result<(), Error> {
        if !value.is_finite() {
            return Err(Error::custom("a NaN or infinite float is not JSON"));
        }
        self.0.extend_from_slice(minted_double(value).as_bytes());
        Ok(())
    }

    /// `{"variant":` before the value of an enum variant (closed by its `}`).
    fn open_variant(self, variant: &str) -> Result<&'a mut Vec<u8>, Error> {
        self.0.push(b'{');
        serde_json::to_writer(&mut *self.0, variant)?;
        self.0.push(b':');
        Ok(self.0)
    }
}

/// Calls `$then!` with the `Serializer` methods of the scalars serde_json writes as they are.
macro_rules! plain_scalars {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<(), Error> {
                self.plain(&v)
            }
        )*
    };
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Elements<'a>;
    type SerializeTuple = Elements<'a>;
    type SerializeTupleStruct = Elements<'a>;
    type SerializeTupleVariant = Elements<'a>;
    type SerializeMap = Members<'a>;
    type SerializeStruct = Members<'a>;
    type SerializeStructVariant = Members<'a>;

    plain_scalars!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char,
    );

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.double(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.double(v)
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.plain(v)
    }

    /// An array of numbers, as serde_json writes bytes.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.plain(v)
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.plain(&())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.plain(&())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.plain(&())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.plain(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    /// `{"variant":value}`: one member, in order by itself.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let out = self.open_variant(variant)?;
        value.serialize(Writer(&mut *out))?;
        out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Elements<'a>, Error> {
        Ok(Elements::open(self.0, false))
    }

    fn serialize_tuple(self, _: usize) -> Result<Elements<'a>, Error> {
        Ok(Elements::open(self.0, false))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Elements<'a>, Error> {
        Ok(Elements::open(self.0, false))
    }

    /// `{"variant":[...]}`.
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Elements<'a>, Error> {
        Ok(Elements::open(self.open_variant(variant)?, true))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Members<'a>, Error> {
        Ok(Members::open(self.0, len.unwrap_or(0), false))
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Members<'a>, Error> {
        let mut members = Members::open(self.0, len, false);
        // serde_json's `RawValue`: one field, its JSON text.
        members.raw = name == RAW_VALUE_TOKEN;
        Ok(members)
    }

    /// `{"variant":{...}}`.
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Members<'a>, Error> {
        Ok(Members::open(self.open_variant(variant)?, len, true))
    }
}

/// The elements of an array, written in order.
struct Elements<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// Also close the `{"variant":` around the array.
    in_variant: bool,
}

impl<'a> Elements<'a> {
    fn open(out: &'a mut Vec<u8>, in_variant: bool) -> Elements<'a> {
        out.push(b'[');
        Elements {
            out,
            first: true,
            in_variant,
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Writer(&mut *self.out))
    }

    fn close(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.in_variant {
            self.out.push(b'}');
        }
        Ok(())
    }
}

/// The `SerializeSeq`-like traits of arrays.
macro_rules! elements {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(
            impl ser::$trait for Elements<'_> {
                type Ok = ();
                type Error = Error;
                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                    self.element(value)
                }
                fn end(self) -> Result<(), Error> {
                    self.close()
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

/// The members of an object: each value written to `values`, then all copied to `out` in name
/// order when the object ends.
struct Members<'a> {
    out: &'a mut Vec<u8>,
    values: Vec<u8>,
    /// Each member's name and where its value lies in `values`.
    members: Vec<(Cow<'static, str>, Range<usize>)>,
    /// The name of a map entry whose value comes next.
    key: Option<String>,
    /// A `RawValue`, whose one field is JSON text to write in the minted form.
    raw: bool,
    /// Also close the `{"variant":` around the object.
    in_variant: bool,
}

impl<'a> Members<'a> {
    fn open(out: &'a mut Vec<u8>, len: usize, in_variant: bool) -> Members<'a> {
        Members {
            out,
            values: Vec::new(),
            members: Vec::with_capacity(len.min(64)),
            key: None,
            raw: false,
            in_variant,
        }
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        name: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        let start = self.values.len();
        value.serialize(Writer(&mut self.values))?;
        self.members.push((name, start..self.values.len()));
        Ok(())
    }

    fn close(mut self) -> Result<(), Error> {
        if self.raw {
            self.out.extend_from_slice(&self.values);
            return Ok(());
        }
        // Names are unique (check_payload refused repeats), so the order is total.
        self.members
            .sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        self.out.push(b'{');
        for (i, (name, range)) in self.members.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            serde_json::to_writer(&mut *self.out, name.as_ref())?;
            self.out.push(b':');
            self.out.extend_from_slice(&self.values[range.clone()]);
        }
        self.out.push(b'}');
        if self.in_variant {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeMap for Members<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        match key.serialize(KeyName) {
            Ok(Some(name)) => {
                self.key = Some(name);
                Ok(())
            }
            _ => Err(Error::custom("a map key that is not a string")),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let name = self
            .key
            .take()
            .ok_or_else(|| Error::custom("a map value without its key"))?;
        self.member(Cow::Owned(name), value)
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// The fields of structs and struct variants.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(
            impl ser::$trait for Members<'_> {
                type Ok = ();
                type Error = Error;
                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    name: &'static str,
                    value: &T,
                ) -> Result<(), Error> {
                    if self.raw {
                        // The text's value, written in the minted form like any other.
                        let text = raw_text(value)
                            .map_err(|_| Error::custom("a RawValue's text cannot be read"))?;
                        let parsed: serde_json::Value = serde_json::from_str(&text)?;
                        return parsed.serialize(Writer(&mut self.values));
                    }
                    self.member(Cow::Borrowed(name), value)
                }
                fn end(self) -> Result<(), Error> {
                    self.close()
                }
            }
        )*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;
    use serde_json::value::RawValue;

    use super::{minted_double, write_dat};

    fn minted<T: Serialize + ?Sized>(dat: &T) -> String {
        let mut out = Vec::new();
        write_dat(dat, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

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

    #[test]
    fn the_same_value_is_written_the_same_whatever_type_or_order_gave_it() {
        #[derive(Serialize)]
        enum Kind {
            Unit,
            Tuple(u8, f32),
            Struct { z: f64, a: Option<u8> },
        }
        #[derive(Serialize)]
        struct Part {
            qty: u32,
            name: &'static str,
            kinds: Vec<Kind>,
            by_id: HashMap<u32, bool>,
            #[serde(with = "serde_bytes_as_seq")]
            raw: Vec<u8>,
        }
        mod serde_bytes_as_seq {
            pub(super) fn serialize<S: serde::Serializer>(
                v: &[u8],
                s: S,
            ) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(v)
            }
        }
        let part = Part {
            qty: 25,
            name: "bolt \"M6\"\n",
            kinds: vec![
                Kind::Unit,
                Kind::Tuple(1, 2.0),
                Kind::Struct { z: -1.5, a: None },
            ],
            by_id: HashMap::from([(10, true), (9, false)]),
            raw: vec![1, 2],
        };
        let want = r#"{"by_id":{"10":true,"9":false},"kinds":["Unit",{"Tuple":[1,2.0]},{"Struct":{"a":null,"z":-1.5}}],"name":"bolt \"M6\"\n","qty":25,"raw":[1,2]}"#;
        assert_eq!(minted(&part), want);
        // The same value as a serde_json::Value, as text (a RawValue), as a sorted map.
        let value: serde_json::Value = serde_json::from_str(want).unwrap();
        assert_eq!(minted(&value), want);
        let raw = RawValue::from_string(
            r#"{ "raw":[1, 2], "qty":25, "name":"bolt \"M6\"\n", "kinds":["Unit",{"Tuple":[1,2E0]},
                {"Struct":{"z":-15e-1,"a":null}}], "by_id":{"9":false,"10":true} }"#
                .to_owned(),
        )
        .unwrap();
        assert_eq!(minted(&raw), want);
        let tree = BTreeMap::from([("b", 1), ("a", 2)]);
        assert_eq!(minted(&tree), r#"{"a":2,"b":1}"#);
    }

    #[test]
    fn names_sort_by_code_point_not_by_utf16() {
        let value = serde_json::json!({"\u{1f600}": 1, "\u{e000}": 2, "a\u{0}": 3, "a": 4, "": 5});
        assert_eq!(
            minted(&value),
            "{\"\":5,\"a\":4,\"a\\u0000\":3,\"\u{e000}\":2,\"\u{1f600}\":1}"
        );
    }
}
