//! Helpers shared by the fuzz targets: the spec vectors' key sets, the properties every error
//! must have, and a JSON value generator for structured targets.
//!
//! The targets live in `fuzz_targets/`; `README.md` says how to build and run them.
#![forbid(unsafe_code)]

pub mod verified;

use std::sync::{Arc, OnceLock};

use arbitrary::{Result as ArbResult, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use tessera_protocol::{Error, ErrorCode, KeySet};

/// Every spec vector file, sorted by name. `seed.py` reads this list (and refuses to seed when
/// `spec/vectors/` holds a file it does not name), so the index of a key set below is the same
/// in the seeds and in the targets.
const VECTOR_FILES: [&str; 6] = [
    include_str!("../../spec/vectors/derive.json"),
    include_str!("../../spec/vectors/eddsa.json"),
    include_str!("../../spec/vectors/failures.json"),
    include_str!("../../spec/vectors/hs256.json"),
    include_str!("../../spec/vectors/mint.json"),
    include_str!("../../spec/vectors/sealed.json"),
];

/// One distinct key-set document of the spec vectors, and the set it loads (if it loads: some
/// failure vectors carry key sets that are refused on purpose).
pub struct VectorKeys {
    /// The document, compact JSON.
    pub doc: String,
    /// The loaded set.
    pub keys: Option<Arc<KeySet>>,
}

/// The distinct key-set documents of `spec/vectors/*.json`, in order of first appearance.
pub fn vector_key_sets() -> &'static [VectorKeys] {
    static SETS: OnceLock<Vec<VectorKeys>> = OnceLock::new();
    SETS.get_or_init(|| {
        let mut docs: Vec<Value> = Vec::new();
        for file in VECTOR_FILES {
            let file: Value = serde_json::from_str(file).expect("spec vectors are JSON");
            for test in file["tests"].as_array().into_iter().flatten() {
                let keys = &test["keys"];
                if keys.is_object() && !docs.contains(keys) {
                    docs.push(keys.clone());
                }
            }
        }
        docs.into_iter()
            .map(|doc| {
                let doc = doc.to_string();
                let keys = KeySet::from_json(&doc).ok().map(Arc::new);
                VectorKeys { doc, keys }
            })
            .collect()
    })
}

/// Property of every error: its machine code is one of the documented codes and parses back
/// from its name (clients and logs branch on it), and the code is among `allowed`.
pub fn assert_stable_code(err: &Error, allowed: &[ErrorCode]) {
    let code = err.code();
    assert_eq!(
        ErrorCode::from_name(code.as_str()),
        Some(code),
        "code {code} does not parse back"
    );
    assert!(
        allowed.contains(&code),
        "unexpected code {code} here (allowed: {allowed:?}): {err}"
    );
}

/// The codes verification may produce: every code of [`ErrorCode::ALL`] except the two that
/// are, by their documentation, never the result of verifying (`invalid_key`,
/// `invalid_config`). Derived from `ALL`, so a code added to the protocol is allowed here
/// without a second list to keep in step.
pub fn verify_codes() -> &'static [ErrorCode] {
    static CODES: OnceLock<Vec<ErrorCode>> = OnceLock::new();
    CODES.get_or_init(|| {
        ErrorCode::ALL
            .into_iter()
            .filter(|code| !matches!(code, ErrorCode::InvalidKey | ErrorCode::InvalidConfig))
            .collect()
    })
}

/// Property of a token that verified: each segment is canonical base64url, so decoding it and
/// encoding the bytes again gives back the very same text. Two different texts can then never
/// carry the same signed bytes (no malleable spelling of one token).
pub fn assert_canonical_segments(token: &str) {
    for segment in token.split('.') {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .expect("a segment of a verified token is base64url");
        assert_eq!(
            URL_SAFE_NO_PAD.encode(&bytes),
            segment,
            "a verified token's segment is not canonical base64url"
        );
    }
}

/// Property of an error message: it does not repeat the token. Any 24-character window of the
/// token found in the message would be token content in a log line. (24 characters is longer
/// than any number or word the messages carry, so a window can only match by quoting.)
pub fn assert_not_quoted(message: &str, token: &str) {
    const WINDOW: usize = 24;
    let bytes = token.as_bytes();
    if bytes.len() < WINDOW {
        return;
    }
    for start in (0..=bytes.len() - WINDOW).step_by(WINDOW / 2) {
        if let Ok(window) = std::str::from_utf8(&bytes[start..start + WINDOW]) {
            assert!(
                !message.contains(window),
                "the error message quotes the token: {message}"
            );
        }
    }
}

/// A JSON value drawn from `u`, at most `depth` levels deep: every kind of value, strings of
/// any Unicode, integers of both signs and floats (non-finite ones included, which a minter
/// must refuse rather than write).
pub fn arbitrary_json(u: &mut Unstructured<'_>, depth: u8) -> ArbResult<Value> {
    let kinds = if depth == 0 { 6 } else { 8 };
    Ok(match u.choose_index(kinds)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => Value::String(u.arbitrary()?),
        6 => {
            let len = u.int_in_range(0..=4)?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(arbitrary_json(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let len = u.int_in_range(0..=4)?;
            let mut map = Map::new();
            for _ in 0..len {
                let name: String = u.arbitrary()?;
                map.insert(name, arbitrary_json(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}
