//! JSON a user gives (`sign --payload`, `click --input`): parsed strictly, so that a member
//! named twice in one object is refused instead of silently keeping only its last value.

use serde_json::Value;
use tessera_protocol::json_rules::first_integer_beyond_64_bits;

use crate::failure::Failure;

/// Parses `text`, given by the user as `origin` (`the --payload value`), into a JSON value.
/// Invalid JSON, or an object that names a member more than once (serde_json would keep only
/// the last value and drop the others without a word), fails with `code`.
pub(crate) fn parse_given(text: &str, origin: &str, code: &'static str) -> Result<Value, Failure> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Failure::new(code, format!("{origin} is not valid JSON ({e})")))?;
    let repeated = repeated_members(text.as_bytes());
    if !repeated.is_empty() {
        return Err(Failure::new(
            code,
            format!(
                "{origin} names the member(s) {} more than once in one object; give each once \
                 (only the last value would be kept)",
                repeated.join(", ")
            ),
        ));
    }
    if let Some(literal) = integer_beyond_64_bits(text) {
        return Err(Failure::new(
            code,
            format!(
                "{origin} has the integer {literal}, beyond 64 bits: JSON readers (this one \
                 included) would round it to the nearest float, so it would not arrive as \
                 given; write it as a string"
            ),
        ));
    }
    Ok(value)
}

/// The first integer literal in the JSON text `text` beyond 64 bits
/// ([`first_integer_beyond_64_bits`]), shortened for a message.
fn integer_beyond_64_bits(text: &str) -> Option<String> {
    first_integer_beyond_64_bits(text).map(|literal| {
        let shown: String = literal.chars().take(40).collect();
        if shown.len() < literal.len() {
            format!("{shown}…")
        } else {
            shown
        }
    })
}

/// The members repeated within one JSON object anywhere in `bytes` (JSON text), as JSON
/// Pointers (`/alg`, `/dat/to`), each named once, in order of appearance. Text that is not JSON
/// yields none (the caller's parser judges it).
pub(crate) fn repeated_members(bytes: &[u8]) -> Vec<String> {
    use serde::de::DeserializeSeed as _;

    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // serde_json's recursion limit (128 levels) bounds the walk.
    let walked = Walk {
        pointer: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    if walked.is_err() {
        return Vec::new();
    }
    let mut unique = Vec::new();
    for pointer in found {
        if !unique.contains(&pointer) {
            unique.push(pointer);
        }
    }
    unique
}

/// Walks a JSON value, recording the pointer of every member name seen twice in one object.
struct Walk<'a> {
    pointer: String,
    found: &'a mut Vec<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq
            .next_element_seed(Walk {
                pointer: format!("{}/{index}", self.pointer),
                found: &mut *self.found,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            // JSON Pointer escaping (RFC 6901): `~` as `~0`, `/` as `~1`.
            let pointer = format!(
                "{}/{}",
                self.pointer,
                name.replace('~', "~0").replace('/', "~1")
            );
            if !seen.insert(name) {
                self.found.push(pointer.clone());
            }
            map.next_value_seed(Walk {
                pointer,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}
