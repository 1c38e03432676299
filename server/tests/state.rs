//! Building the state from explicit settings and from the environment (through a lookup
//! function: no process environment is modified).

use std::collections::HashMap;
use std::time::Duration;

use tessera_protocol::{ErrorCode, KeySet};
use tessera_server::{TesseraConfig, TesseraState};

use crate::util::*;

fn from(vars: &[(&str, &str)]) -> Result<TesseraState, tessera_protocol::Error> {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    TesseraConfig::from_lookup(|name| env.get(name).cloned())?.build()
}

#[test]
fn environment_with_inline_keys() {
    let json = keys().to_private_json();
    let state = from(&[
        ("TESSERA_KEYS", &json),
        ("TESSERA_ISSUER", "inventree"),
        ("TESSERA_TTL", "120"),
        ("TESSERA_LEEWAY", "10"),
        ("TESSERA_MAX_LIFETIME", "3600"),
        ("TESSERA_MAX_TOKEN_LEN", "4096"),
        ("TESSERA_BODY_LIMIT", "20000"),
    ])
    .unwrap();
    assert_eq!(state.issuer(), "inventree");
    assert_eq!(state.default_ttl(), Duration::from_secs(120));
    assert_eq!(state.max_token_len(), 4096);
    assert_eq!(state.body_limit(), 20000);
    assert_eq!(state.keys().len(), 3);
    assert_eq!(state.keys().active().unwrap().kid().as_str(), "hs1");
    assert_eq!(state.keys().active_sealing().unwrap().kid().as_str(), "se1");
}

#[test]
fn environment_with_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    std::fs::write(&path, keys().to_private_json()).unwrap();
    let state = from(&[
        ("TESSERA_KEYS_FILE", path.to_str().unwrap()),
        ("TESSERA_ISSUER", "inventree"),
    ])
    .unwrap();
    assert_eq!(state.default_ttl(), Duration::from_secs(300));
    assert_eq!(state.body_limit(), 64 * 1024);
    assert_eq!(state.max_token_len(), 8192);
}

#[test]
fn environment_errors_name_the_variable_not_the_value() {
    let json = keys().to_private_json();
    type Case<'a> = (Vec<(&'a str, &'a str)>, ErrorCode, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![("TESSERA_ISSUER", "i")],
            ErrorCode::InvalidConfig,
            "TESSERA_KEYS",
        ),
        (
            vec![
                ("TESSERA_KEYS", &json),
                ("TESSERA_KEYS_FILE", "/x"),
                ("TESSERA_ISSUER", "i"),
            ],
            ErrorCode::InvalidConfig,
            "only one",
        ),
        (
            vec![("TESSERA_KEYS", &json)],
            ErrorCode::InvalidConfig,
            "TESSERA_ISSUER",
        ),
        (
            vec![
                ("TESSERA_KEYS", &json),
                ("TESSERA_ISSUER", "i"),
                ("TESSERA_TTL", "5 minutes"),
            ],
            ErrorCode::InvalidConfig,
            "TESSERA_TTL",
        ),
        (
            vec![
                ("TESSERA_KEYS", "{\"keys\": 5, \"secret\": \"hunter2\"}"),
                ("TESSERA_ISSUER", "i"),
            ],
            ErrorCode::InvalidKey,
            "TESSERA_KEYS",
        ),
        (
            vec![
                ("TESSERA_KEYS_FILE", "/nonexistent/keys.json"),
                ("TESSERA_ISSUER", "i"),
            ],
            ErrorCode::InvalidKey,
            "/nonexistent/keys.json",
        ),
    ];
    for (vars, code, mentions) in cases {
        let err = from(&vars).unwrap_err();
        assert_eq!(err.code(), code, "{vars:?}");
        let text = err.to_string();
        assert!(text.contains(mentions), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains(&b64(HS_SECRET)),
            "{text}"
        );
    }
}

#[test]
fn out_of_range_settings_are_refused() {
    let refused = |config: TesseraConfig| config.build().unwrap_err().code();
    assert_eq!(
        refused(config(keys()).with_ttl(Duration::ZERO)),
        ErrorCode::InvalidConfig
    );
    assert_eq!(
        refused(config(keys()).with_ttl(Duration::from_secs(90_000))),
        ErrorCode::InvalidConfig
    );
    assert_eq!(
        refused(config(keys()).with_leeway(Duration::from_secs(301))),
        ErrorCode::InvalidConfig
    );
    assert_eq!(
        refused(config(keys()).with_body_limit(100)),
        ErrorCode::InvalidConfig
    );
    assert_eq!(
        refused(TesseraConfig::new(keys(), "")),
        ErrorCode::InvalidConfig
    );
    assert_eq!(
        refused(TesseraConfig::new(KeySet::new(), ISS)),
        ErrorCode::InvalidKey
    );
}

#[test]
fn debug_output_shows_no_key_material() {
    let state = state();
    let text = format!("{state:?} {:?}", config(keys()));
    assert!(text.contains("inventree"));
    assert!(!text.contains(&b64(HS_SECRET)));
    assert!(!text.contains(&b64(ED_SEED)));
    assert!(!text.contains(&b64(SEAL_SECRET)));
    assert!(!text.contains(&format!("{:?}", HS_SECRET)));
}
