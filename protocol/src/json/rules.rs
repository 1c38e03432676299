//! The spec's JSON rules (§2.4) for JSON that travels beside a token, such as an action's user
//! input.
//!
//! The verifier holds a token's claims to these rules: no member name repeated in one object at
//! any depth, no unpaired surrogate escape, no number beyond the binary64 range. A request
//! carries more JSON than the token, and the same ambiguity matters there: with
//! `{"qty": 1, "qty": 900}`, a proxy in front that checks the first `qty` and an application
//! that reads the last one (serde_json's rule) act on different values (spec §11.9).
//! [`from_str`] types a JSON text under the same rules, in one pass when it can.
//!
//! ```
//! use serde_json::Value;
//! use tessera_protocol::json_rules::{self, JsonRuleError};
//!
//! let ok: Value = json_rules::from_str(r#"{"qty": 1, "note": "x"}"#)?;
//! assert_eq!(ok["qty"], 1);
//! // serde_json alone would keep the last `qty`; the rules refuse the text.
//! let err = json_rules::from_str::<Value>(r#"{"qty": 1, "qty": 900}"#).unwrap_err();
//! assert_eq!(err, JsonRuleError::Rule("repeats a member name"));
//! // Text that follows the rules but not the type.
//! let err = json_rules::from_str::<u32>(r#""many""#).unwrap_err();
//! assert!(matches!(err, JsonRuleError::DoesNotFit(_)));
//! # Ok::<(), JsonRuleError>(())
//! ```

use std::fmt;

use serde::de::DeserializeOwned;

use crate::json::one_pass::Strict;
use crate::json::validator::check_json_rules;

/// Why [`from_str`] refused a JSON text. Neither variant quotes the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonRuleError {
    /// The text is not JSON, or breaks one of the rules: which one, in words (`"repeats a
    /// member name"`, `"has a number out of range"`, `"has an unpaired surrogate escape"`,
    /// `"nests deeper than 127 levels"`, `"is not valid JSON"`).
    Rule(&'static str),
    /// The text follows the rules but does not fit the type: serde's error category and the
    /// column (e.g. `"unexpected member or type at column 7"`).
    DoesNotFit(String),
}

impl fmt::Display for JsonRuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonRuleError::Rule(rule) => write!(f, "the JSON {rule}"),
            JsonRuleError::DoesNotFit(reason) => write!(f, "the JSON does not fit: {reason}"),
        }
    }
}

impl std::error::Error for JsonRuleError {}

/// Deserializes `T` from `json` under the spec's JSON rules (§2.4, rules 2 to 4) at any depth,
/// whatever `T` reads or skips of it: a member name repeated in one object (names compared
/// after unescaping), an unpaired surrogate escape or a number beyond the binary64 range is
/// [`JsonRuleError::Rule`]; text that follows the rules but not `T` is
/// [`JsonRuleError::DoesNotFit`]. The usual case costs one pass (the verifier's strict
/// deserializer); anything that pass cannot decide cheaply (escaped names, very large or deep
/// objects) is checked again in full.
///
/// The rules are about the text; what it means is `T`'s. serde's derived `Deserialize` of a
/// struct also reads a JSON array of the struct's values in field order (`[2]` as
/// `{"qty": 2}`), so a proxy that looks for `qty` and the application can still disagree on
/// such an input: type it as a map, or check the text starts with `{`, where that matters.
/// (The token's own documents — header, claims, key sets — are read from objects only.)
///
/// ```
/// use std::collections::HashMap;
/// use tessera_protocol::json_rules::{from_str, JsonRuleError};
///
/// // A repeated name is refused at any depth, even inside members the type ignores, and
/// // when the two spellings differ only by an escape.
/// #[derive(serde::Deserialize, Debug)]
/// struct Qty { qty: u32 }
/// assert_eq!(from_str::<Qty>(r#"{"qty": 2}"#)?.qty, 2);
/// let err = from_str::<Qty>(r#"{"qty": 2, "extra": {"a": 1, "a": 2}}"#).unwrap_err();
/// assert_eq!(err, JsonRuleError::Rule("repeats a member name"));
/// let err = from_str::<HashMap<String, u32>>(r#"{"a": 1, "\u0061": 2}"#).unwrap_err();
/// assert_eq!(err, JsonRuleError::Rule("repeats a member name"));
/// # Ok::<(), JsonRuleError>(())
/// ```
pub fn from_str<T: DeserializeOwned>(json: &str) -> Result<T, JsonRuleError> {
    match serde_json::from_str::<Strict<T>>(json) {
        Ok(Strict(value)) => Ok(value),
        Err(_) => from_str_in_full(json),
    }
}

/// The rules checked over the whole text, then the typing: the final word when the one-pass
/// deserializer failed (a broken rule, a type that does not fit, or a case it left undecided).
#[cold]
#[inline(never)]
fn from_str_in_full<T: DeserializeOwned>(json: &str) -> Result<T, JsonRuleError> {
    check_json_rules(json).map_err(|rule| {
        // The shared messages speak of "the payload ..."; keep the rule only.
        JsonRuleError::Rule(rule.strip_prefix("the payload ").unwrap_or(rule))
    })?;
    serde_json::from_str(json).map_err(|e| {
        JsonRuleError::DoesNotFit(format!(
            "{} at column {}",
            crate::error::json_error_category(&e),
            e.column()
        ))
    })
}

/// The first integer literal (no fraction, no exponent) in the JSON text `json` that lies
/// outside `-2^63..=2^64-1`, or `None`. Strings are skipped (an escaped quote does not end one).
///
/// A verifier reads such an integer as a binary64 number (spec §2.4), not as the integer
/// written, so a minter refuses one in a payload (spec §4 step 6) and a tool that reads JSON a
/// person typed can name it.
///
/// ```
/// use tessera_protocol::json_rules::first_integer_beyond_64_bits;
///
/// let text = r#"{"max": 18446744073709551615, "over": 18446744073709551616, "f": 1e30}"#;
/// assert_eq!(first_integer_beyond_64_bits(text), Some("18446744073709551616"));
/// assert_eq!(first_integer_beyond_64_bits(r#"["-9223372036854775809"]"#), None); // a string
/// assert_eq!(first_integer_beyond_64_bits("[-9223372036854775808, 2.5e400]"), None);
/// ```
pub fn first_integer_beyond_64_bits(json: &str) -> Option<&str> {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = &json[start..i];
                if !literal.contains(['.', 'e', 'E'])
                    && literal.parse::<i64>().is_err()
                    && literal.parse::<u64>().is_err()
                {
                    return Some(literal);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The members repeated within one JSON object anywhere in `bytes` (JSON text), as JSON
/// Pointers (`/alg`, `/dat/to`), each named once, in order of appearance. Text that is not JSON
/// yields none (the caller's parser judges it).
///
/// ```
/// use tessera_protocol::json_rules::repeated_members;
/// assert_eq!(repeated_members(br#"{"a":1,"a":2,"b":{"c":1,"c":2}}"#), ["/a", "/b/c"]);
/// assert!(repeated_members(br#"{"a":1}"#).is_empty());
/// assert!(repeated_members(b"not json").is_empty());
/// ```
pub fn repeated_members(bytes: &[u8]) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    proptest! {
        /// The one-pass deserializer never decides differently from the full check: a text
        /// (objects that may repeat names, escaped spellings, nesting) is typed exactly when
        /// it follows the rules, as a `Value` and as a type that ignores every member.
        #[test]
        fn a_text_is_accepted_exactly_when_it_follows_the_rules(
            json in crate::json::validator::tests::json_text()
        ) {
            let follows = crate::json::validator::check_json_rules(&json).is_ok();
            prop_assert_eq!(from_str::<Value>(&json).is_ok(), follows, "{}", json);
            #[derive(serde::Deserialize)]
            struct IgnoresAll {}
            let wrapped = format!(r#"{{"inner": {json}}}"#);
            let as_ignored = from_str::<IgnoresAll>(&wrapped);
            prop_assert_eq!(as_ignored.is_ok(), follows, "{}", wrapped);
        }
    }

    #[test]
    fn each_rule_is_named_and_the_text_is_never_quoted() {
        for (text, rule) in [
            (r#"{"a": {"b": 1, "b": 1}}"#, "repeats a member name"),
            (r#"[1e400]"#, "has a number out of range"),
            (r#"{"s": "\ud800"}"#, "has an unpaired surrogate escape"),
            (r#"{"a": 1"#, "is not valid JSON"),
        ] {
            let err = from_str::<Value>(text).unwrap_err();
            assert_eq!(err, JsonRuleError::Rule(rule), "{text}");
            assert!(!err.to_string().contains('{'), "{err}");
        }
    }

    #[test]
    fn undecided_cases_of_the_one_pass_deserializer_get_the_full_check() {
        // More members than the one pass compares, escaped names, deep nesting: decided in
        // full, both ways.
        let many: String = (0..40).map(|i| format!("\"k{i}\": {i},")).collect();
        let ok = format!("{{{many} \"last\": 0}}");
        assert_eq!(from_str::<Value>(&ok).unwrap()["k39"], 39);
        let repeated = format!("{{{many} \"k0\": 0}}");
        assert_eq!(
            from_str::<Value>(&repeated).unwrap_err(),
            JsonRuleError::Rule("repeats a member name")
        );
        assert_eq!(from_str::<Value>(r#"{"\u0062": 1}"#).unwrap()["b"], 1);
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(from_str::<Value>(&deep).is_ok());
        let deep_repeat = format!("{}{{\"a\":1,\"a\":2}}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(
            from_str::<Value>(&deep_repeat).unwrap_err(),
            JsonRuleError::Rule("repeats a member name")
        );
    }

    #[test]
    fn text_that_follows_the_rules_but_not_the_type_does_not_fit() {
        let err = from_str::<u32>("-1").unwrap_err();
        assert_eq!(
            err,
            JsonRuleError::DoesNotFit("unexpected member or type at column 2".to_owned())
        );
    }
}
