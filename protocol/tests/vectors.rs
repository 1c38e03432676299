//! The test vectors in `spec/vectors/`: no drift from the generator, and the Rust verifier
//! reaches the exact expected outcome on every case.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
        "invalid_config",
    ] {
        assert!(codes.contains(code), "no vector for {code}");
    }
}

/// The key-set text that a case's `keys-build` describes (spec/vectors/README.md).
fn build_keys(build: &Value) -> String {
    let text = |name: &str| build[name].as_str().unwrap();
    let count = build["count"].as_u64().unwrap();
    let items: Vec<String> = (0..count)
        .map(|n| text("item").replace("{n}", &n.to_string()))
        .collect();
    let pad = " ".repeat(build["pad"].as_u64().unwrap() as usize);
    format!(
        "{}{}{pad}{}",
        text("head"),
        items.join(text("separator")),
        text("tail")
    )
}

/// Runs one case through the Rust verifier; `Ok(payload)` or `Err(code)`.
fn run(case: &Value) -> Result<Value, String> {
    // `keys-text`, when present, is the document exactly as written (the file's parser would
    // merge a repeated member name of an embedded one).
    // `keys-build`, when present, describes a document too large to write out.
    let document = match (case.get("keys-text"), case.get("keys-build")) {
        (Some(text), _) => text.as_str().unwrap().to_owned(),
        (None, Some(build)) => build_keys(build),
        (None, None) => case["keys"].to_string(),
    };
    let code = |e: tessera_protocol::Error| e.code().as_str().to_owned();
    let keys = KeySet::from_json(&document).map_err(code)?;
    let now = case["now"].as_u64().unwrap();
    let mut verifier = Verifier::new(Arc::new(keys), case["iss"].as_str().unwrap())
        .with_clock(Arc::new(FixedClock(now)));
    let option = |name: &str| case.get("options").and_then(|o| o.get(name)?.as_u64());
    if let Some(max_len) = option("max_len") {
        verifier = verifier.with_max_len(max_len as usize).map_err(code)?;
    }
    if let Some(leeway) = option("leeway") {
        verifier = verifier
            .with_leeway(Duration::from_secs(leeway))
            .map_err(code)?;
    }
    if let Some(max_lifetime) = option("max_lifetime") {
        verifier = verifier
            .with_max_lifetime(Duration::from_secs(max_lifetime))
            .map_err(code)?;
    }
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
        if file["name"] == "mint" {
            continue; // minting, not verification: the next test
        }
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

#[test]
fn rust_minter_produces_every_mint_vector_byte_for_byte() {
    let text = std::fs::read_to_string(vectors_dir().join("mint.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let (mut checked, mut unrepresentable) = (0, 0);
    for case in file["tests"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let Some(outcome) = cases::mint_outcome(case) else {
            // A lone surrogate in an input: Rust's str cannot hold one, so no caller can
            // hand it to this minter.
            assert!(case.get("text-inputs").is_some(), "vector {name}");
            unrepresentable += 1;
            continue;
        };
        if case["expect-fail"].as_bool().unwrap() {
            assert_eq!(
                outcome.as_ref().err().map(String::as_str),
                case["expected-code"].as_str(),
                "vector {name}: {outcome:?}"
            );
        } else {
            let token = outcome.unwrap_or_else(|code| panic!("vector {name}: {code}"));
            assert_eq!(
                Some(token.as_str()),
                case["token"].as_str(),
                "vector {name}"
            );
            if case["kind"] == "signed" {
                let claims = base64::Engine::decode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    token.split('.').nth(1).unwrap(),
                )
                .unwrap();
                assert_eq!(
                    Some(String::from_utf8(claims).unwrap().as_str()),
                    case["claims"].as_str(),
                    "vector {name}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} mint vectors");
    assert_eq!(
        unrepresentable, 5,
        "the lone-surrogate inputs of iss, aud, sub, fpr, sub"
    );
}
