//! JSON a user gives (`sign --payload`, `click --input`): parsed strictly, so that a member
//! named twice in one object is refused instead of silently keeping only its last value.

use serde_json::Value;
use tessera_protocol::json_rules::{first_integer_beyond_64_bits, repeated_members};

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
