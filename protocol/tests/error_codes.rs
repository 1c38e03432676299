//! Every ErrorCode, each produced by a real token (or key, or setting) built to cause it.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tessera_protocol::{
    Algorithm, Error, ErrorCode, Expected, Key, KeySet, Kid, Minter, UntrustedToken, Verifier,
};

use crate::util::*;
use crate::vectors::cases::nested;

fn with(f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut c = claims();
    f(&mut c);
    forge_claims(&c)
}

#[test]
fn valid_forged_token_is_accepted() {
    // The forging helpers make valid tokens: each refusal below is caused by its one change.
    assert!(verify_json(&hs_keys(), &with(|_| {})).is_ok());
}

#[test]
fn too_large_token_is_refused_before_decoding() {
    let huge = format!("{}.{}.{}", "a".repeat(5000), "b".repeat(5000), "c");
    assert_eq!(code_of(&huge), ErrorCode::TooLarge);
    // Even a non-token of 1 MiB.
    assert_eq!(code_of(&"{".repeat(1 << 20)), ErrorCode::TooLarge);
    // A configurable cap.
    let keys = hs_keys();
    let token = with(|_| {});
    let err = verifier(&keys)
        .with_max_len(100)
        .unwrap()
        .verify::<Value>(&token, &expected())
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooLarge {
            len: token.len(),
            max: 100
        }
    );
}

#[test]
fn minting_refuses_a_token_over_the_cap() {
    let keys = hs_keys();
    let big = "x".repeat(9000);
    let err = minter(&keys).token(AUD).payload(&big).mint().unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
}

#[test]
fn malformed_segments_are_refused() {
    let good = with(|_| {});
    let (h, rest) = good.split_once('.').unwrap();
    let (c, s) = rest.split_once('.').unwrap();
    for bad in [
        format!("{h}.{c}"),
        format!("{h}.{c}.{s}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{c}."),
        format!("{h}.{c}.{s}="),
        format!("{h}.{c}.{}", s.replace('_', "/").replace('-', "+")),
        format!(" {good}"),
        format!("{good}\n"),
        "".to_owned(),
        "..".to_owned(),
    ] {
        if bad == good {
            continue;
        }
        assert_eq!(code_of(&bad), ErrorCode::Malformed, "{bad:?}");
    }
}

#[test]
fn non_canonical_base64_trailing_bits_are_refused() {
    let good = with(|_| {});
    let (input, sig) = good.rsplit_once('.').unwrap();
    // 32 bytes → 43 chars; the last char carries 2 unused bits that must be zero.
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(idx ^ 1).unwrap();
    let bad = format!("{input}.{}{tweaked}", &sig[..sig.len() - 1]);
    assert_eq!(code_of(&bad), ErrorCode::Malformed);
}

#[test]
fn header_problems_are_malformed() {
    let c = serde_json::to_string(&claims()).unwrap();
    for header in [
        r#"{"alg":"HS256","typ":"JWT","kid":"hs1"}"#,
        r#"{"alg":"HS256","typ":"TESSERA+JWT","kid":"hs1"}"#,
        r#"{"alg":"HS256","kid":"hs1"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","crit":["exp"]}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","jku":"http://127.0.0.1:1/k"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","jwk":{"kty":"oct","k":"AA"}}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","x5u":"http://x"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","x5c":["MIIBIjANBgkqhkiG9w0B"]}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","x5t#S256":"AAAA"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","b64":true}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","crit":[]}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","zip":"DEF"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","cty":"JWT"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","a\u006cg":"none"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","typ":"tessera+jwt"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1"} {}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","kid":"hs1"}"#,
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":1}"#,
        r#"{"alg":["HS256"],"typ":"tessera+jwt","kid":"hs1"}"#,
        "\u{feff}{\"alg\":\"HS256\",\"typ\":\"tessera+jwt\",\"kid\":\"hs1\"}",
        r#"["HS256"]"#,
        "not json",
    ] {
        assert_eq!(
            code_of(&forge(header, &c)),
            ErrorCode::Malformed,
            "{header}"
        );
    }
    // Non-UTF-8 and UTF-16 headers.
    let utf16: Vec<u8> = HEADER
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let sig_input = format!("{}.{}", b64(&utf16), b64(&c));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &HS_SECRET);
    let tok = format!(
        "{sig_input}.{}",
        b64(ring::hmac::sign(&key, sig_input.as_bytes()))
    );
    assert_eq!(code_of(&tok), ErrorCode::Malformed);
}

/// Spec §2.4 rule 5 and step 3: the header is a JSON *object*. serde's derived `Deserialize`
/// also reads a struct from a JSON array, positionally; an array holding the three values in
/// field order must still be malformed (the one-element `["HS256"]` above fails only for its
/// missing elements).
#[test]
fn a_header_written_as_a_json_array_of_its_three_values_is_malformed() {
    let c = serde_json::to_string(&claims()).unwrap();
    for header in [
        r#"["HS256","tessera+jwt","hs1"]"#,
        r#"["HS256","tessera+jwt","hs1"] "#,
    ] {
        let token = forge(header, &c);
        assert_eq!(
            verify_json(&hs_keys(), &token)
                .map(|_| ())
                .map_err(|e| e.code()),
            Err(ErrorCode::Malformed),
            "{header}"
        );
    }
}

/// Spec §2.4 rule 5 and step 8: the claims are a JSON *object*. An array of the claim values
/// in field order (iss, aud, sub, iat, nbf, exp, jti, fpr, dat), correctly signed, must be
/// malformed, as every other verifier (the Python reference included) refuses it.
#[test]
fn claims_written_as_a_json_array_of_their_values_are_malformed() {
    let exp = NOW + 300;
    let claims = format!(
        r#"["{ISS}","{AUD}","{SUB}",{NOW},{NOW},{exp},"AAAAAAAAAAAAAAAAAAAAAA","v1",{{"part_id":1234,"qty":25}}]"#
    );
    let token = forge(HEADER, &claims);
    assert_eq!(
        verify_json(&hs_keys(), &token)
            .map(|_| ())
            .map_err(|e| e.code()),
        Err(ErrorCode::Malformed)
    );
    // The same through the typed fast path.
    let typed = verifier(&hs_keys())
        .verify::<Transfer>(&token, &expected())
        .map(|_| ())
        .map_err(|e| e.code());
    assert_eq!(typed, Err(ErrorCode::Malformed));
}

#[test]
fn embedded_key_header_is_refused_and_never_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let header = format!(r#"{{"alg":"HS256","typ":"tessera+jwt","kid":"hs1","jku":"{url}"}}"#);
    let token = forge(&header, &serde_json::to_string(&claims()).unwrap());
    assert_eq!(code_of(&token), ErrorCode::Malformed);
    assert!(listener.accept().is_err(), "the verifier connected to jku");
}

#[test]
fn claim_problems_are_malformed() {
    type Edit = Box<dyn Fn(&mut serde_json::Map<String, Value>)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "float exp",
            Box::new(|c| {
                c.insert("exp".into(), json!(1790000300.0));
            }),
        ),
        (
            "string exp",
            Box::new(|c| {
                c.insert("exp".into(), json!("1790000300"));
            }),
        ),
        (
            "negative iat",
            Box::new(|c| {
                c.insert("iat".into(), json!(-1));
            }),
        ),
        (
            "huge exp",
            Box::new(|c| {
                c.insert("exp".into(), json!(u64::MAX));
            }),
        ),
        (
            "exp past year 9999",
            Box::new(|c| {
                c.insert("exp".into(), json!(253_402_300_800u64));
            }),
        ),
        (
            "missing exp",
            Box::new(|c| {
                c.remove("exp");
            }),
        ),
        (
            "missing iat",
            Box::new(|c| {
                c.remove("iat");
            }),
        ),
        (
            "missing jti",
            Box::new(|c| {
                c.remove("jti");
            }),
        ),
        (
            "missing dat",
            Box::new(|c| {
                c.remove("dat");
            }),
        ),
        (
            "null nbf",
            Box::new(|c| {
                c.insert("nbf".into(), Value::Null);
            }),
        ),
        (
            "null sub",
            Box::new(|c| {
                c.insert("sub".into(), Value::Null);
            }),
        ),
        (
            "numeric sub",
            Box::new(|c| {
                c.insert("sub".into(), json!(42));
            }),
        ),
        (
            "unknown claim",
            Box::new(|c| {
                c.insert("admin".into(), json!(true));
            }),
        ),
        (
            "exp before iat",
            Box::new(|c| {
                c.insert("exp".into(), json!(NOW - 1));
            }),
        ),
        (
            "empty fpr",
            Box::new(|c| {
                c.insert("fpr".into(), json!(""));
            }),
        ),
    ];
    for (name, f) in cases {
        assert_eq!(code_of(&with(f)), ErrorCode::Malformed, "{name}");
    }
}

#[test]
fn duplicate_members_are_malformed_at_any_depth() {
    let base = serde_json::to_string(&claims()).unwrap();
    let dup_top = base.replacen("{", &format!("{{\"exp\":{},", NOW + 300), 1);
    assert_eq!(code_of(&forge(HEADER, &dup_top)), ErrorCode::Malformed);
    let dup_dat = base.replace(r#""qty":25"#, r#""qty":25,"qty":2500"#);
    assert_ne!(dup_dat, base);
    assert_eq!(code_of(&forge(HEADER, &dup_dat)), ErrorCode::Malformed);
    let nested = base.replace(r#""qty":25"#, r#""qty":{"a":[{"b":1,"b":2}]}"#);
    assert_eq!(code_of(&forge(HEADER, &nested)), ErrorCode::Malformed);
}

#[test]
fn bad_json_text_is_malformed() {
    let base = serde_json::to_string(&claims()).unwrap();
    for bad in [
        format!("\u{feff}{base}"),
        base.replace(r#""qty":25"#, r#""qty":NaN"#),
        base.replace(r#""qty":25"#, r#""qty":"\ud800""#),
        base.replace(r#""qty":25"#, r#""qty":25,"#),
        format!("{base} x"),
    ] {
        assert_eq!(code_of(&forge(HEADER, &bad)), ErrorCode::Malformed, "{bad}");
    }
    // Invalid UTF-8 in a string.
    let mut bytes = base.clone().into_bytes();
    let at = base.find("transfer").unwrap();
    bytes[at] = 0xff;
    let input = format!("{}.{}", b64(HEADER), b64(&bytes));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &HS_SECRET);
    let tok = format!("{input}.{}", b64(ring::hmac::sign(&key, input.as_bytes())));
    assert_eq!(code_of(&tok), ErrorCode::Malformed);
}

/// Reads a string member through `deserialize_byte_buf`, as `serde_bytes::ByteBuf` does.
#[derive(Debug)]
struct Bytes(#[allow(dead_code)] Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[test]
fn the_json_rules_hold_in_the_payload_whatever_its_type_reads_or_skips() {
    #[derive(Deserialize, Debug)]
    struct PartOnly {
        #[allow(dead_code)]
        part_id: u32,
    }
    #[derive(Deserialize, Debug)]
    struct Note {
        #[allow(dead_code)]
        note: Bytes,
    }
    let base = serde_json::to_string(&claims()).unwrap();
    let keys = hs_keys();
    let refused = |claims: &str, why: &str| {
        let token = forge(HEADER, claims);
        let v = verifier(&keys);
        for (ty, got) in [
            ("Value", v.verify::<Value>(&token, &expected()).map(drop)),
            (
                "PartOnly",
                v.verify::<PartOnly>(&token, &expected()).map(drop),
            ),
            (
                "IgnoredAny",
                v.verify::<serde::de::IgnoredAny>(&token, &expected())
                    .map(drop),
            ),
        ] {
            let err = got.expect_err(&format!("{ty} accepted {claims}"));
            assert_eq!(err.code(), ErrorCode::Malformed, "{ty}: {claims}");
            assert!(err.to_string().contains(why), "{ty}: {err}");
        }
    };
    // Numbers beyond binary64 range, in a member the payload type skips or reads.
    for number in ["1e400", "-1e400", "[1,{\"x\":1e999}]", &"9".repeat(400)] {
        let claims = base.replace(r#""qty":25"#, &format!(r#""qty":25,"junk":{number}"#));
        refused(&claims, "number out of range");
    }
    refused(
        &base.replace(r#""part_id":1234"#, r#""part_id":1e400"#),
        "number out of range",
    );
    // The largest finite double is a number like any other.
    let big = base.replace(r#""qty":25"#, r#""qty":25,"junk":1.7976931348623157e308"#);
    verify_json(&keys, &forge(HEADER, &big)).unwrap();
    // An unpaired surrogate escape, also where the payload type reads the string as bytes.
    let lone = base.replace(r#""qty":25"#, r#""qty":25,"note":"\ud800""#);
    refused(&lone, "unpaired surrogate");
    let err = verifier(&keys)
        .verify::<Note>(&forge(HEADER, &lone), &expected())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed, "{err}");
    let paired = base.replace(r#""qty":25"#, r#""qty":25,"note":"\ud83d\ude00""#);
    verifier(&keys)
        .verify::<Note>(&forge(HEADER, &paired), &expected())
        .unwrap();
}

#[test]
fn a_token_without_dat_is_malformed_even_for_an_optional_payload_type() {
    let mut c = claims();
    c.remove("dat");
    let token = forge_claims(&c);
    let keys = hs_keys();
    for err in [
        verifier(&keys)
            .verify::<Option<u32>>(&token, &expected())
            .map(drop),
        verifier(&keys)
            .verify::<Option<Value>>(&token, &expected())
            .map(drop),
        verifier(&keys)
            .verify::<Value>(&token, &expected())
            .map(drop),
    ] {
        assert_eq!(err.unwrap_err().code(), ErrorCode::Malformed);
    }
    // `"dat": null` is a payload, and fits an optional type.
    let mut c = claims();
    c.insert("dat".into(), Value::Null);
    let ok = verifier(&keys)
        .verify::<Option<u32>>(&forge_claims(&c), &expected())
        .unwrap();
    assert_eq!(ok.claims.dat, None);
}

#[test]
fn unknown_kid_is_refused() {
    let header = r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs2"}"#;
    let token = forge(header, &serde_json::to_string(&claims()).unwrap());
    assert_eq!(code_of(&token), ErrorCode::UnknownKey);
    // kid lookups are exact: no case folding, no prefix, no path tricks.
    for kid in ["HS1", "hs1 ", "hs", "hs1/../hs1", "hs1\u{0000}"] {
        let header =
            serde_json::json!({"alg": "HS256", "typ": "tessera+jwt", "kid": kid}).to_string();
        let token = forge(&header, &serde_json::to_string(&claims()).unwrap());
        assert_eq!(code_of(&token), ErrorCode::UnknownKey, "{kid:?}");
    }
}

#[test]
fn alg_other_than_the_keys_is_unsupported() {
    let c = serde_json::to_string(&claims()).unwrap();
    for alg in [
        "none",
        "None",
        "NONE",
        "nOnE",
        "HS384",
        "HS512",
        "RS256",
        "ES256",
        "EdDSA",
        "hs256",
        " HS256",
        "HS256 ",
        "Hs256",
        "HS256\0",
        "HS 256",
        "\u{ff28}S256",
        "A256GCM",
        "dir",
        "",
    ] {
        let header = json!({"alg": alg, "typ": "tessera+jwt", "kid": "hs1"}).to_string();
        assert_eq!(
            code_of(&forge(&header, &c)),
            ErrorCode::UnsupportedAlgorithm,
            "{alg}"
        );
    }
    // The escaped spelling of "none" is the same string after parsing: still refused.
    let header = r#"{"alg":"\u006eone","typ":"tessera+jwt","kid":"hs1"}"#;
    assert_eq!(code_of(&forge(header, &c)), ErrorCode::UnsupportedAlgorithm);
    // And the escaped spelling of "HS256" is HS256: the comparison is of the parsed string.
    let header = r#"{"alg":"\u0048S256","typ":"tessera+jwt","kid":"hs1"}"#;
    assert!(verify_json(&hs_keys(), &forge(header, &c)).is_ok());
}

#[test]
fn flipped_signature_is_bad_signature() {
    let token = with(|_| {});
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    raw[7] ^= 0x40;
    assert_eq!(
        code_of(&format!("{input}.{}", b64(&raw))),
        ErrorCode::BadSignature
    );
    // A truncated signature too.
    assert_eq!(
        code_of(&format!("{input}.{}", b64(&raw[..31]))),
        ErrorCode::BadSignature
    );
    // Changed claims under the old signature.
    let other = with(|c| {
        c.insert("sub".into(), json!("user:7"));
    });
    let (other_input, _) = other.rsplit_once('.').unwrap();
    assert_eq!(
        code_of(&format!("{other_input}.{sig}")),
        ErrorCode::BadSignature
    );
}

#[test]
fn expired_token_is_refused() {
    let token = with(|c| {
        c.insert("iat".into(), json!(NOW - 1000));
        c.insert("exp".into(), json!(NOW - 700));
    });
    let err = verify_json(&hs_keys(), &token).unwrap_err();
    assert_eq!(
        err,
        Error::Expired {
            exp: Some(NOW - 700),
            now: NOW
        }
    );
}

#[test]
fn not_yet_valid_token_is_refused() {
    let nbf = with(|c| {
        c.insert("nbf".into(), json!(NOW + 31));
    });
    assert_eq!(code_of(&nbf), ErrorCode::NotYetValid);
    let iat = with(|c| {
        c.insert("iat".into(), json!(NOW + 100));
        c.insert("exp".into(), json!(NOW + 400));
    });
    assert_eq!(code_of(&iat), ErrorCode::NotYetValid);
    // Within the leeway both are fine.
    let near = with(|c| {
        c.insert("nbf".into(), json!(NOW + 30));
    });
    assert!(verify_json(&hs_keys(), &near).is_ok());
}

#[test]
fn lifetime_over_the_maximum_is_refused() {
    let token = with(|c| {
        c.insert("exp".into(), json!(NOW + 86_401));
    });
    assert_eq!(code_of(&token), ErrorCode::LifetimeTooLong);
    // A never-expiring-looking token is refused the same way.
    let forever = with(|c| {
        c.insert("exp".into(), json!(253_402_300_799u64));
    });
    assert_eq!(code_of(&forever), ErrorCode::LifetimeTooLong);
    // Configurable.
    let keys = hs_keys();
    let ok = with(|_| {});
    let v = verifier(&keys)
        .with_max_lifetime(Duration::from_secs(60))
        .unwrap();
    assert_eq!(
        v.verify::<Value>(&ok, &expected()).unwrap_err().code(),
        ErrorCode::LifetimeTooLong
    );
}

#[test]
fn wrong_issuer_is_refused() {
    for iss in [
        json!("inventree2"),
        json!("Inventree"),
        json!("inven"),
        json!(["inventree"]),
        json!("inventree\u{0000}"),
        json!(null),
        json!(1),
    ] {
        let token = with(|c| {
            c.insert("iss".into(), iss.clone());
        });
        assert_eq!(code_of(&token), ErrorCode::WrongIssuer, "{iss}");
    }
    let missing = with(|c| {
        c.remove("iss");
    });
    assert_eq!(code_of(&missing), ErrorCode::WrongIssuer);
}

#[test]
fn wrong_audience_is_refused() {
    for aud in [
        json!("plugin:stock-tools/action:print"),
        json!("plugin:stock-tools/action:transfe"),
        json!("plugin:stock-tools/action:transfer/x"),
        json!([AUD]),
        json!([AUD, "other"]),
        json!({"aud": AUD}),
    ] {
        let token = with(|c| {
            c.insert("aud".into(), aud.clone());
        });
        assert_eq!(code_of(&token), ErrorCode::WrongAudience, "{aud}");
    }
    let missing = with(|c| {
        c.remove("aud");
    });
    assert_eq!(code_of(&missing), ErrorCode::WrongAudience);
}

#[test]
fn wrong_subject_is_refused() {
    let other = with(|c| {
        c.insert("sub".into(), json!("user:7"));
    });
    assert_eq!(code_of(&other), ErrorCode::WrongSubject);
    let missing = with(|c| {
        c.remove("sub");
    });
    assert_eq!(code_of(&missing), ErrorCode::WrongSubject);
    // Without an expected subject, any subject passes.
    let keys = hs_keys();
    assert!(
        verifier(&keys)
            .verify::<Value>(&other, &Expected::audience(AUD))
            .is_ok()
    );
}

#[test]
fn payload_of_the_wrong_type_is_bad_payload_and_the_message_quotes_no_value() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // Fields exist to be deserialized into.
    struct Want {
        part_id: String,
    }
    let token = with(|c| {
        c.insert("dat".into(), json!({"part_id": 31337}));
    });
    let err = verifier(&hs_keys())
        .verify::<Want>(&token, &expected())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadPayload);
    assert!(!err.to_string().contains("31337"), "{err}");
}

#[test]
fn a_payload_of_the_wrong_type_is_reported_only_after_every_claims_check() {
    // Verification types the payload in the same parse as the claims when it can; a payload
    // that does not fit must still leave the earlier steps to report first.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // Fields exist to be deserialized into.
    struct Want {
        part_id: String,
    }
    let keys = hs_keys();
    let wrong_dat = |c: &mut serde_json::Map<String, Value>| {
        c.insert("dat".into(), json!({"part_id": 31337}));
    };
    type Change = fn(&mut serde_json::Map<String, Value>);
    let cases: [(ErrorCode, Change); 6] = [
        (ErrorCode::Expired, |c| {
            c.insert("exp".into(), json!(NOW - 3600));
            c.insert("iat".into(), json!(NOW - 7200));
        }),
        (ErrorCode::NotYetValid, |c| {
            c.insert("nbf".into(), json!(NOW + 3600));
        }),
        (ErrorCode::LifetimeTooLong, |c| {
            c.insert("exp".into(), json!(NOW + 2 * 24 * 3600));
        }),
        (ErrorCode::WrongIssuer, |c| {
            c.insert("iss".into(), json!("someone-else"));
        }),
        (ErrorCode::WrongAudience, |c| {
            c.insert("aud".into(), json!("plugin:stock-tools/action:print"));
        }),
        (ErrorCode::WrongSubject, |c| {
            c.insert("sub".into(), json!("user:7"));
        }),
    ];
    for (code, change) in cases {
        let token = with(|c| {
            wrong_dat(c);
            change(c);
        });
        let err = verifier(&keys)
            .verify::<Want>(&token, &expected())
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    // A repeated member inside the payload is a structure error (step 8), before any time check.
    let mut expired = claims();
    expired.insert("exp".into(), json!(NOW - 3600));
    expired.insert("iat".into(), json!(NOW - 7200));
    let text = serde_json::to_string(&expired).unwrap();
    let dup_dat = text.replace(r#""qty":25"#, r#""qty":25,"qty":2500"#);
    assert_ne!(dup_dat, text);
    assert_eq!(code_of(&forge(HEADER, &text)), ErrorCode::Expired);
    assert_eq!(code_of(&forge(HEADER, &dup_dat)), ErrorCode::Malformed);
    // And with every claim right, the payload's type is the error.
    let token = with(wrong_dat);
    let err = verifier(&keys)
        .verify::<Want>(&token, &expected())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadPayload);
}

#[test]
fn short_secret_is_invalid_key_at_load_time() {
    let err = Key::hs256(Kid::new("k").unwrap(), &[1u8; 31]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    let json = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"k","alg":"HS256","k":"{}"}}],"active":"k"}}"#,
        b64([1u8; 31])
    );
    assert_eq!(
        KeySet::from_json(&json).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
}

#[test]
fn leeway_above_five_minutes_is_invalid_config() {
    let err = Verifier::new(hs_keys(), ISS)
        .with_leeway(Duration::from_secs(301))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig);
    assert!(
        Verifier::new(hs_keys(), ISS)
            .with_leeway(Duration::from_secs(300))
            .is_ok()
    );
}

#[test]
fn a_zero_length_cap_or_lifetime_is_refused_when_configured_not_at_every_token() {
    let keys = hs_keys();
    let code = |r: Result<(), Error>| r.unwrap_err().code();
    // Verifier: a cap of 0 bytes or a lifetime under 1 s would refuse every token.
    assert_eq!(
        code(verifier(&keys).with_max_len(0).map(drop)),
        ErrorCode::InvalidConfig
    );
    assert_eq!(
        code(
            verifier(&keys)
                .with_max_lifetime(Duration::from_millis(999))
                .map(drop)
        ),
        ErrorCode::InvalidConfig
    );
    // Minter: the same two limits.
    let minter = || Minter::new(keys.clone(), ISS);
    assert_eq!(
        code(minter().with_max_len(0).map(drop)),
        ErrorCode::InvalidConfig
    );
    assert_eq!(
        code(minter().with_max_lifetime(Duration::ZERO).map(drop)),
        ErrorCode::InvalidConfig
    );
    // The smallest accepted values work and are kept.
    let v = verifier(&keys).with_max_len(1).unwrap();
    assert_eq!(v.max_len(), 1);
    assert_eq!(
        v.verify::<Value>(&with(|_| {}), &expected())
            .unwrap_err()
            .code(),
        ErrorCode::TooLarge
    );
    let m = minter()
        .with_max_lifetime(Duration::from_secs(1))
        .unwrap()
        .with_max_len(1)
        .unwrap();
    assert_eq!((m.max_lifetime(), m.max_len()), (Duration::from_secs(1), 1));
    assert_eq!(
        m.token(AUD)
            .ttl(Duration::from_secs(1))
            .mint()
            .unwrap_err()
            .code(),
        ErrorCode::TooLarge
    );
}

#[test]
fn minting_for_an_empty_issuer_audience_or_subject_is_refused() {
    let keys = hs_keys();
    let code = |r: Result<String, Error>| r.unwrap_err().code();
    assert_eq!(
        code(Minter::new(keys.clone(), "").token(AUD).mint()),
        ErrorCode::InvalidConfig
    );
    let m = Minter::new(keys, ISS);
    assert_eq!(code(m.token("").mint()), ErrorCode::InvalidConfig);
    assert_eq!(
        code(m.token(AUD).subject("").mint()),
        ErrorCode::InvalidConfig
    );
    // One character each is enough.
    assert!(m.token("a").subject("u").mint().is_ok());
}

#[test]
fn mint_ttl_is_bounded_and_never_zero() {
    let keys = hs_keys();
    let m = Minter::new(keys, ISS)
        .with_max_lifetime(Duration::from_secs(3600))
        .unwrap();
    assert_eq!(
        m.token(AUD)
            .ttl(Duration::from_secs(3601))
            .mint()
            .unwrap_err()
            .code(),
        ErrorCode::LifetimeTooLong
    );
    assert_eq!(
        m.token(AUD).ttl(Duration::ZERO).mint().unwrap_err().code(),
        ErrorCode::InvalidConfig
    );
}

#[test]
fn verify_only_key_set_cannot_mint() {
    let ed = ed_keys();
    let public = KeySet::from_json(&ed.public_jwks().to_string()).unwrap();
    let err = Minter::new(Arc::new(public), ISS)
        .token(AUD)
        .mint()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
}

#[test]
fn every_code_is_distinct_and_round_trips_through_its_name() {
    let names: std::collections::HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(names.len(), ErrorCode::ALL.len());
    for code in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
    }
    assert_eq!(Algorithm::from_name("none"), None);
}

#[test]
fn untrusted_token_exposes_only_the_header() {
    let token = with(|_| {});
    let u = UntrustedToken::parse(&token, 8192).unwrap();
    assert_eq!(u.untrusted_kid(), Some("hs1"));
    assert_eq!(u.untrusted_alg(), Some(Algorithm::Hs256));
    assert!(!format!("{u:?}").contains(&token[..20]));
}

#[test]
fn an_anonymous_caller_cannot_use_a_token_minted_for_somebody() {
    let keys = hs_keys();
    let for_alice = with(|_| {});
    let err = verifier(&keys)
        .verify::<Value>(&for_alice, &Expected::audience(AUD).anonymous())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::WrongSubject);
    let for_nobody = with(|c| {
        c.remove("sub");
    });
    assert!(
        verifier(&keys)
            .verify::<Value>(&for_nobody, &Expected::audience(AUD).anonymous())
            .is_ok()
    );
}

#[test]
fn minting_refuses_an_expiry_past_the_latest_time_a_token_carries() {
    const LATEST: u64 = 253_402_300_799;
    let keys = hs_keys();
    let m = minter(&keys);
    let ttl = Duration::from_secs(300);
    for now in [LATEST - 299, LATEST, u64::MAX - 10, u64::MAX] {
        let err = m
            .token(AUD)
            .issued_at(now)
            .ttl(ttl)
            .mint()
            .expect_err("minted past the end of time");
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "now {now}");
    }
    // The last expiry that fits is minted, and verifies at its own time.
    let token = m
        .token(AUD)
        .subject(SUB)
        .issued_at(LATEST - 300)
        .ttl(ttl)
        .payload(&1u32)
        .mint()
        .unwrap();
    let ok = verifier_at(&keys, LATEST - 10)
        .verify::<u32>(&token, &expected())
        .unwrap();
    assert_eq!(ok.claims.exp, LATEST);
}

#[test]
fn minting_refuses_a_payload_json_would_change_or_verifiers_would_refuse() {
    #[derive(serde::Serialize)]
    struct Inner {
        qty: u32,
    }
    #[derive(serde::Serialize)]
    struct Flattened {
        qty: u32,
        #[serde(flatten)]
        inner: Inner,
    }
    let mut set =
        KeySet::with_active(Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap()).unwrap();
    set.insert(Key::a256gcm(Kid::new("enc1").unwrap(), &[0x44; 32]).unwrap())
        .unwrap();
    set.set_active_sealing(&Kid::new("enc1").unwrap()).unwrap();
    let keys = Arc::new(set);
    let m = minter(&keys);
    let flat = Flattened {
        qty: 1,
        inner: Inner { qty: 2 },
    };
    for (err, why) in [
        (m.token(AUD).payload(&f64::NAN).mint(), "NaN or infinite"),
        (
            m.token(AUD).payload(&[1.0, f64::INFINITY]).mint(),
            "NaN or infinite",
        ),
        (
            m.token(AUD).payload(&json!({"a": 1})).payload(&flat).mint(),
            "repeats",
        ),
        (m.token(AUD).payload(&flat).seal(), "repeats"),
    ] {
        let err = err.expect_err("minted");
        assert_eq!(err.code(), ErrorCode::BadPayload);
        assert!(err.to_string().contains(why), "{err}");
    }
    // Finite floats go through unchanged.
    let token = m
        .token(AUD)
        .subject(SUB)
        .payload(&[0.1, -2.5e300])
        .mint()
        .unwrap();
    let ok = verifier(&keys)
        .verify::<Vec<f64>>(&token, &expected())
        .unwrap();
    assert_eq!(ok.claims.dat, vec![0.1, -2.5e300]);
}

#[test]
fn claims_nested_deeper_than_64_are_malformed_whatever_the_payload_type() {
    let keys = hs_keys();
    let v = verifier(&keys);
    // The claims object is depth 1: a `dat` of 63 levels makes 64 (accepted), 64 makes 65.
    for (levels, accepted) in [(63, true), (64, false), (200, false)] {
        let dat: Value = serde_json::from_str(&nested(levels.min(100))).unwrap_or(Value::Null);
        let token = if levels <= 100 {
            with(|c| {
                c.insert("dat".into(), dat);
            })
        } else {
            // Deeper than serde_json builds a Value: the claims as text.
            let base = serde_json::to_string(&claims()).unwrap();
            let dat_at = base.find(r#""dat":"#).unwrap() + 6;
            let end = base.len() - 1;
            forge(
                HEADER,
                &format!("{}{}{}", &base[..dat_at], nested(levels), &base[end..]),
            )
        };
        let as_value = v.verify::<Value>(&token, &expected()).map(|_| ());
        let skipped = v
            .verify::<serde::de::IgnoredAny>(&token, &expected())
            .map(|_| ());
        for (outcome, how) in [(as_value, "as a Value"), (skipped, "ignored")] {
            match (accepted, outcome) {
                (true, Ok(())) => {}
                (false, Err(e)) => {
                    assert_eq!(e.code(), ErrorCode::Malformed, "{levels} {how}: {e}")
                }
                (_, other) => panic!("{levels} levels {how}: {other:?}"),
            }
        }
    }
    // An iss nested as deep is malformed too (not a wrong issuer): the limit is the claims'.
    let token = with(|c| {
        c.insert("iss".into(), serde_json::from_str(&nested(64)).unwrap());
    });
    assert_eq!(code_of(&token), ErrorCode::Malformed);
    let token = with(|c| {
        c.insert("iss".into(), serde_json::from_str(&nested(63)).unwrap());
    });
    assert_eq!(code_of(&token), ErrorCode::WrongIssuer);
}

#[test]
fn minting_a_payload_nested_deeper_than_claims_may_be_is_bad_payload() {
    #[derive(serde::Serialize)]
    enum Wrapped {
        Inner(Value),
    }
    let keys = hs_keys();
    let m = minter(&keys);
    let value = |levels| serde_json::from_str::<Value>(&nested(levels)).unwrap();
    let raw = |levels| serde_json::value::RawValue::from_string(nested(levels)).unwrap();
    // 63 levels of `dat` mint and verify; 64 do not mint, however the payload is written.
    let token = m
        .token(AUD)
        .subject(SUB)
        .payload(&value(63))
        .mint()
        .unwrap();
    let ok = verifier(&keys)
        .verify::<Value>(&token, &expected())
        .unwrap();
    assert_eq!(ok.claims.dat, value(63));
    assert!(m.token(AUD).payload(&*raw(63)).mint().is_ok());
    // A newtype variant is written {"Inner": ...}: one level more.
    assert!(
        m.token(AUD)
            .payload(&Wrapped::Inner(value(62)))
            .mint()
            .is_ok()
    );
    for (err, how) in [
        (m.token(AUD).payload(&value(64)).mint(), "a Value"),
        (m.token(AUD).payload(&*raw(64)).mint(), "raw JSON text"),
        (
            m.token(AUD).payload(&Wrapped::Inner(value(63))).mint(),
            "a variant",
        ),
    ] {
        let err = err.expect_err(how);
        assert_eq!(err.code(), ErrorCode::BadPayload, "{how}");
        assert!(err.to_string().contains("64 levels"), "{how}: {err}");
    }
    // Raw JSON text is held to the other rules as well: a repeated name does not mint.
    let repeated = serde_json::value::RawValue::from_string(r#"{"a":1,"a":2}"#.into()).unwrap();
    let err = m.token(AUD).payload(&*repeated).mint().unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadPayload);
}
