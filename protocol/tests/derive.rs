//! Keys derived from a host secret (spec §3.7): every case of `spec/vectors/derive.json`
//! derives exactly the key set it lists (or is refused with its code).

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_protocol::KeySet;

fn derive_vectors() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/derive.json");
    let text = std::fs::read_to_string(&path).expect("derive.json is checked in");
    let file: Value = serde_json::from_str(&text).expect("derive.json is JSON");
    file["tests"].as_array().expect("a tests array").clone()
}

fn bytes(b64: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(b64.as_str().expect("base64url text"))
        .expect("canonical base64url")
}

#[test]
fn every_derive_vector_derives_exactly_its_key_set() {
    let cases = derive_vectors();
    assert!(cases.len() >= 8, "{} derive cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let fallbacks: Vec<Vec<u8>> = case["fallbacks"]
            .as_array()
            .unwrap()
            .iter()
            .map(bytes)
            .collect();
        let fallbacks: Vec<&[u8]> = fallbacks.iter().map(Vec::as_slice).collect();
        let label = case["label"].as_str().unwrap();
        match KeySet::derive(&bytes(&case["secret"]), label, &fallbacks) {
            Ok(set) => {
                let got: Value = serde_json::from_str(&set.to_private_json()).unwrap();
                assert_eq!(got, case["keys"], "{name}");
            }
            Err(e) => {
                assert!(case["keys"].is_null(), "{name}: {e}");
                assert_eq!(
                    Some(e.code().as_str()),
                    case["expected-code"].as_str(),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn a_new_secret_shows_up_as_new_kids() {
    let (one, two) = (
        KeySet::derive(&[1; 40], "l", &[]).unwrap(),
        KeySet::derive(&[2; 40], "l", &[]).unwrap(),
    );
    assert_ne!(one.active().unwrap().kid(), two.active().unwrap().kid());
    assert_ne!(
        one.active_sealing().unwrap().kid(),
        two.active_sealing().unwrap().kid()
    );
}
