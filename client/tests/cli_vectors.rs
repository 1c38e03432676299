//! `tessera verify` over the verification vectors of `spec/vectors/` (spec §12): the CLI reaches
//! each case's exact outcome, key files read from disk included (the 1 MiB cap, §3.4).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{stderr, stdout, tempdir, tessera};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

/// The key-set document of a case: `keys-text`, `keys-build` (spec/vectors/README.md) or `keys`.
fn key_document(case: &Value) -> String {
    if let Some(text) = case.get("keys-text") {
        return text.as_str().unwrap().to_owned();
    }
    let Some(build) = case.get("keys-build") else {
        return case["keys"].to_string();
    };
    let text = |name: &str| build[name].as_str().unwrap();
    let items: Vec<String> = (0..build["count"].as_u64().unwrap())
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

/// What the CLI cannot be asked: verifier options and an anonymous caller have no flags, and a
/// token argument is trimmed of surrounding whitespace (a convenience for pasted tokens).
fn cli_can_run(case: &Value) -> bool {
    let token = case["token"].as_str().unwrap();
    case.get("options").is_none() && case.get("anonymous").is_none() && token.trim() == token
}

/// `Ok(dat)` or `Err(code)`, as `tessera verify` reports them.
fn run(case: &Value, keys: &Path) -> Result<Value, String> {
    let mut cmd = tessera();
    cmd.arg("verify")
        .arg("--keys")
        .arg(keys)
        .args(["--iss", case["iss"].as_str().unwrap()])
        .args(["--aud", case["aud"].as_str().unwrap()])
        .args(["--now", &case["now"].to_string()])
        .args(["--accept", case["accept"].as_str().unwrap()]);
    if let Some(sub) = case["sub"].as_str() {
        cmd.args(["--sub", sub]);
    }
    let a = cmd.arg("--").arg(case["token"].as_str().unwrap()).assert();
    let code = a.get_output().status.code();
    if code == Some(0) {
        return Ok(serde_json::from_str(&stdout(&a)).unwrap());
    }
    assert_eq!(code, Some(1), "{}", stderr(&a));
    let err = stderr(&a);
    let code = err
        .strip_prefix("error: ")
        .and_then(|e| e.split(':').next());
    Err(code.unwrap_or(&err).to_owned())
}

#[test]
fn tessera_verify_reaches_the_exact_outcome_of_every_vector_it_can_be_given() {
    let dir = tempdir();
    let (mut checked, mut skipped) = (0, 0);
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if file["name"] == "mint" {
            continue; // minting vectors: the CLI mints with a random jti
        }
        for case in file["tests"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            if !cli_can_run(case) {
                skipped += 1;
                continue;
            }
            let keys = dir.path().join(format!("{name}.json"));
            std::fs::write(&keys, key_document(case)).unwrap();
            let outcome = run(case, &keys);
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
    assert!(
        checked >= 150,
        "only {checked} vectors run ({skipped} skipped)"
    );
    assert!(skipped <= 20, "{skipped} vectors skipped");
}
