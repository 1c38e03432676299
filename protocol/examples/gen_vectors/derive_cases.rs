//! `derive.json`: key sets derived from a host secret (spec §3.7), each with a token to verify.
//!
//! A case is a verification case of the usual shape (so every vector runner verifies it as it
//! is) with the derivation's inputs in front: `secret` (base64url of the secret's bytes; a text
//! secret is its UTF-8), `label` and `fallbacks` (base64url, in order). `keys` is the key set
//! those inputs derive, as `KeySet::to_private_json` writes it; `null` when the derivation
//! is refused (`expected-code` is then its code).

use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;
use tessera_protocol::KeySet;

use super::{AUD, ISS, JTI, NOW, SUB, b64, keys_json, mint, raw, seal_tok};

/// One derivation case: inputs, then the fields of a verification case.
#[derive(Serialize)]
pub(crate) struct DeriveCase {
    name: String,
    description: String,
    secret: String,
    label: String,
    fallbacks: Vec<String>,
    keys: Box<RawValue>,
    now: u64,
    iss: &'static str,
    aud: &'static str,
    sub: Option<&'static str>,
    token: String,
    accept: &'static str,
    #[serde(rename = "expect-fail")]
    expect_fail: bool,
    #[serde(rename = "expected-code")]
    expected_code: Option<&'static str>,
    payload: Option<Box<RawValue>>,
}

/// The payload of these cases: written as spec §2.6's minted form writes it (members in name
/// order, integers and strings only), so the tokens do not depend on how a minter orders them.
const DAT: &str = r#"{"location":"WH-01/A/3","part_id":1234,"qty":25}"#;
/// A Django-style `SECRET_KEY` (50 characters), and the one it was rotated from.
const DJANGO_SECRET: &str = "django-insecure-q8#v1k$3n0t@real!x7e2w9p4z6m5b1c0a";
const OLD_SECRET: &str = "django-insecure-previous-secret-key-0123456789-abcd";
/// The InvenTree-style label: the issuer.
const LABEL: &str = "inventree";

fn derived(secret: &[u8], label: &str, fallbacks: &[&[u8]]) -> Arc<KeySet> {
    Arc::new(KeySet::derive(secret, label, fallbacks).expect("vector secrets derive"))
}

struct Cases(Vec<DeriveCase>);

impl Cases {
    #[allow(clippy::too_many_arguments)] // One row of the vector table.
    fn push(
        &mut self,
        description: &str,
        (secret, label, fallbacks): (&[u8], &str, &[&[u8]]),
        keys: Option<&KeySet>,
        token: String,
        accept: &'static str,
        outcome: Result<&str, &'static str>,
    ) {
        self.0.push(DeriveCase {
            name: format!("DK-{}", self.0.len() + 1),
            description: description.to_owned(),
            secret: b64(secret),
            label: label.to_owned(),
            fallbacks: fallbacks.iter().map(b64).collect(),
            keys: keys.map_or_else(|| raw("null"), keys_json),
            now: NOW,
            iss: ISS,
            aud: AUD,
            sub: Some(SUB),
            token,
            accept,
            expect_fail: outcome.is_err(),
            expected_code: outcome.err(),
            payload: outcome.ok().map(raw),
        });
    }
}

pub(crate) fn derive_cases() -> Vec<DeriveCase> {
    let mut c = Cases(Vec::new());
    let (new, old) = (DJANGO_SECRET.as_bytes(), OLD_SECRET.as_bytes());
    let keys = derived(new, LABEL, &[]);
    let token = mint(&keys, NOW, Some(SUB), DAT, 300);
    c.push(
        "a Django SECRET_KEY (its UTF-8 bytes) and the issuer as label; HS256 token",
        (new, LABEL, &[]),
        Some(&keys),
        token.clone(),
        "signed",
        Ok(DAT),
    );
    let other_label = "inventree/plugin:stock-tools";
    let scoped = derived(new, other_label, &[]);
    c.push(
        "the same secret with another label: other keys and kids",
        (new, other_label, &[]),
        Some(&scoped),
        mint(&scoped, NOW, Some(SUB), "null", 300),
        "signed",
        Ok("null"),
    );
    let binary = [0xA5u8; 32];
    let unicode = "plugin:\u{fc}nicode/\u{2603}";
    let keys_bin = derived(&binary, unicode, &[]);
    c.push(
        "a 32-byte binary secret (the minimum) and a non-ASCII label",
        (&binary, unicode, &[]),
        Some(&keys_bin),
        mint(&keys_bin, NOW, Some(SUB), "[1,2,3]", 60),
        "signed",
        Ok("[1,2,3]"),
    );
    let before = derived(old, LABEL, &[]);
    let rotated = derived(new, LABEL, &[old]);
    let old_token = mint(&before, NOW, Some(SUB), DAT, 300);
    c.push(
        "after rotation: a token minted with the old secret verifies through its fallback keys",
        (new, LABEL, &[old]),
        Some(&rotated),
        old_token.clone(),
        "signed",
        Ok(DAT),
    );
    c.push(
        "the old secret dropped from the fallbacks: its tokens name an unknown kid",
        (new, LABEL, &[]),
        Some(&keys),
        old_token,
        "signed",
        Err("unknown_key"),
    );
    c.push(
        "a sealed token with the derived A256GCM key",
        (new, LABEL, &[]),
        Some(&keys),
        seal_tok(&keys, NOW, DAT, 0xD1),
        "sealed",
        Ok(DAT),
    );
    let repeated = derived(new, LABEL, &[new, old, old]);
    c.push(
        "fallbacks repeating a secret already in the set add nothing (four keys)",
        (new, LABEL, &[new, old, old]),
        Some(&repeated),
        token.clone(),
        "signed",
        Ok(DAT),
    );
    c.push(
        "a 31-byte secret is refused: no key set",
        (&binary[..31], LABEL, &[]),
        None,
        token,
        "signed",
        Err("invalid_key"),
    );
    let _ = JTI; // every token above carries the vectors' fixed jti
    c.0
}

/// The text of `derive.json`.
pub(crate) fn file() -> String {
    #[derive(Serialize)]
    struct DeriveFile<'a> {
        name: &'a str,
        description: &'a str,
        tests: &'a [DeriveCase],
    }
    let mut text = serde_json::to_string_pretty(&DeriveFile {
        name: "derive",
        description: "Key sets derived from a host secret with HKDF-SHA256 (spec 3.7), each with a token.",
        tests: &derive_cases(),
    })
    .expect("vector cases serialize");
    text.push('\n');
    text
}
