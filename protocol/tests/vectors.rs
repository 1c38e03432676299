//! The test vectors in `spec/vectors/`: no drift from the generator, and the Rust verifier
//! reaches the exact expected outcome on every case.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use tessera_protocol::{Accept, Expected, FixedClock, KeySet, Verifier};

#[path = "../examples/gen_vectors/cases.rs"]
#[allow(dead_code)] // Shared with the generator, which uses other items.
pub(crate) mod cases;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

#[test]
fn checked_in_vectors_equal_the_generator_output() {
    for (name, text) in cases::files() {
        let path = vectors_dir().join(name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `cargo run -p tessera-protocol --example gen_vectors`)",
                path.display()
            )
        });
        assert!(
            on_disk == text,
            "{name} drifted from the generator: regenerate with `cargo run -p tessera-protocol --example gen_vectors` and review the diff"
        );
    }
}

#[test]
fn there_are_at_least_forty_cases_and_every_verification_code_is_covered() {
    let mut total = 0;
    let mut codes = std::collections::HashSet::new();
    for (_, text) in cases::files() {
        let file: Value = serde_json::from_str(&text).unwrap();
        for case in file["tests"].as_array().unwrap() {
            total += 1;
            if let Some(code) = case["expected-code"].as_str() {
                codes.insert(code.to_owned());
            }
        }
    }
    assert!(total >= 40, "{total} cases");
    for code in [
        "too_large",
        "malformed",
        "unknown_key",
        "unsupported_algorithm",
        "bad_signature",
        "expired",
        "not_yet_valid",
        "lifetime_too_long",
        "wrong_issuer",
        "wrong_audience",
        "wrong_subject",
        "invalid_key",
    ] {
        assert!(codes.contains(code), "no vector for {code}");
    }
}

/// Runs one case through the Rust verifier; `Ok(payload)` or `Err(code)`.
fn run(case: &Value) -> Result<Value, String> {
    // `keys-text`, when present, is the document exactly as written (the file's parser would
    // merge a repeated member name of an embedded one).
    let document = match case.get("keys-text") {
        Some(text) => text.as_str().unwrap().to_owned(),
        None => case["keys"].to_string(),
    };
    let keys = KeySet::from_json(&document).map_err(|e| e.code().as_str().to_owned())?;
    let now = case["now"].as_u64().unwrap();
    let verifier = Verifier::new(Arc::new(keys), case["iss"].as_str().unwrap())
        .with_clock(Arc::new(FixedClock(now)));
    let accept = match case["accept"].as_str().unwrap() {
        "signed" => Accept::Signed,
        "sealed" => Accept::Sealed,
        "either" => Accept::Either,
        other => panic!("unknown accept {other}"),
    };
    let mut expected = Expected::audience(case["aud"].as_str().unwrap()).accept(accept);
    if let Some(sub) = case["sub"].as_str() {
        expected = expected.subject(sub);
    }
    if case["anonymous"].as_bool() == Some(true) {
        expected = expected.anonymous();
    }
    verifier
        .verify::<Value>(case["token"].as_str().unwrap(), &expected)
        .map(|v| v.claims.dat)
        .map_err(|e| e.code().as_str().to_owned())
}

#[test]
fn rust_verifier_reaches_the_exact_outcome_of_every_vector() {
    let mut checked = 0;
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in file["tests"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let outcome = run(case);
            if case["expect-fail"].as_bool().unwrap() {
                let want = case["expected-code"].as_str().unwrap();
                assert_eq!(
                    outcome.as_ref().err().map(String::as_str),
                    Some(want),
                    "vector {name}: {outcome:?}"
                );
            } else {
                assert_eq!(
                    outcome.as_ref().ok(),
                    Some(&case["payload"]),
                    "vector {name}: {outcome:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} vectors found");
}
