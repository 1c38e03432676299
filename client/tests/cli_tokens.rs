//! `tessera sign`, `tessera verify` and `tessera inspect`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use predicates::prelude::*;

use std::borrow::BorrowMut;

use crate::util::{
    fails_with, keygen, list, on_file, public_keys, retire, rotate, sign, stderr, stdout, succeeds,
    tempdir, tessera,
};

/// A fixed instant: 2026-09-21 14:13:20 UTC.
const T0: u64 = 1_790_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    keys: std::path::PathBuf,
    kid: String,
    /// Minted at T0 for iss "inventree", aud "transfer", sub "alice", ttl 5m, payload {"qty":25}.
    token: String,
}

fn fixture(alg: &str) -> Fixture {
    let dir = tempdir();
    let (keys, kid) = keygen(dir.path(), "keys.json", alg);
    let token = sign(
        &keys,
        &[
            "--iss",
            "inventree",
            "--aud",
            "transfer",
            "--sub",
            "alice",
            "--ttl",
            "5m",
            "--payload",
            r#"{"qty":25}"#,
            "--now",
            &T0.to_string(),
        ],
    );
    Fixture {
        _dir: dir,
        keys,
        kid,
        token,
    }
}

impl Fixture {
    /// `tessera verify --keys K --iss inventree --aud transfer` plus `extra`, at T0+10 unless
    /// `extra` has its own `--now`.
    fn verify(&self, extra: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.verify_as("inventree", "transfer", extra);
        if !extra.contains(&"--now") {
            cmd.args(["--now", &(T0 + 10).to_string()]);
        }
        cmd
    }

    /// `tessera verify --keys K --iss ISS --aud AUD` plus `extra` (now, unless `extra` says).
    fn verify_as(&self, iss: &str, aud: &str, extra: &[&str]) -> assert_cmd::Command {
        let mut cmd = on_file(&["verify", "--keys"], &self.keys);
        cmd.args(["--iss", iss, "--aud", aud]).args(extra);
        cmd
    }
}

/// Asserts exit 1 with `error: <code>: ` as the one line on stderr, nothing on stdout, and
/// the token (`token`, when it is a real one) not echoed; returns the line.
fn refused(cmd: impl BorrowMut<assert_cmd::Command>, code: &str, token: &str) -> String {
    let err = fails_with(cmd, code);
    if token.len() > 20 {
        assert!(!err.contains(token), "the token is never echoed");
        let signature = token.rsplit('.').next().unwrap();
        assert!(!err.contains(signature));
    }
    err
}

fn b64(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

/// The token with the character at `index` replaced by another base64url character (not the
/// last one of a segment, so the base64url stays canonical).
fn flip(token: &str, index: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn sign_then_verify_prints_the_payload() {
    for alg in ["hs256", "eddsa"] {
        let f = fixture(alg);
        f.verify(&[&f.token])
            .assert()
            .success()
            .stdout("{\n  \"qty\": 25\n}\n");
        f.verify(&["--sub", "alice", &f.token]).assert().success();
    }
}

#[test]
fn verify_json_prints_header_and_claims() {
    let f = fixture("eddsa");
    let a = f
        .verify(&["--json", "--sub", "alice", &f.token])
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(doc["header"]["alg"], "EdDSA");
    assert_eq!(doc["header"]["typ"], "tessera+jwt");
    assert_eq!(doc["header"]["kid"], f.kid.as_str());
    let c = &doc["claims"];
    assert_eq!(c["iss"], "inventree");
    assert_eq!(c["aud"], "transfer");
    assert_eq!(c["sub"], "alice");
    assert_eq!(c["iat"], T0);
    assert_eq!(c["exp"], T0 + 300);
    assert_eq!(c["dat"], serde_json::json!({"qty": 25}));
    assert_eq!(c["jti"].as_str().unwrap().len(), 22);
}

#[test]
fn verify_reads_stdin_and_tolerates_surrounding_whitespace_only() {
    let f = fixture("hs256");
    // No argument, and `-`: stdin.
    f.verify(&[])
        .write_stdin(f.token.clone())
        .assert()
        .success();
    f.verify(&["-"])
        .write_stdin(format!("\n\t  {}\r\n\n", f.token))
        .assert()
        .success();
    // Surrounding whitespace in the argument too.
    f.verify(&[&format!(" {}\n", f.token)]).assert().success();
    // Anything else is the token's problem: malformed.
    let (head, tail) = f.token.split_at(30);
    refused(
        f.verify(&["-"]).write_stdin(format!("{head} {tail}")),
        "malformed",
        &f.token,
    );
    refused(
        f.verify(&[]).write_stdin(format!("\"{}\"", f.token)),
        "malformed",
        &f.token,
    );
    refused(
        f.verify(&[]).write_stdin(format!("Bearer {}", f.token)),
        "malformed",
        &f.token,
    );
    refused(
        f.verify(&[])
            .write_stdin(format!("{}\n{}", f.token, f.token)),
        "malformed",
        &f.token,
    );
    refused(f.verify(&[]).write_stdin(""), "malformed", "");
    // Not UTF-8.
    refused(
        f.verify(&[])
            .write_stdin(vec![0xff, 0xfe, b'a', b'.', b'b']),
        "malformed",
        "",
    );
}

#[test]
fn verify_refuses_with_the_code_of_the_first_failing_step() {
    let f = fixture("hs256");
    let t = &f.token;
    // Audience, issuer, subject.
    let soon = (T0 + 10).to_string();
    let at_soon = ["--now", &soon, t];
    refused(
        f.verify_as("inventree", "print", &at_soon),
        "wrong_audience",
        t,
    );
    refused(
        f.verify_as("other", "transfer", &at_soon),
        "wrong_issuer",
        t,
    );
    refused(f.verify(&["--sub", "bob", t]), "wrong_subject", t);
    // Times (leeway 30 s).
    f.verify(&["--now", &(T0 + 300 + 29).to_string(), t])
        .assert()
        .success();
    refused(
        f.verify(&["--now", &(T0 + 300 + 30).to_string(), t]),
        "expired",
        t,
    );
    refused(
        f.verify(&["--now", &(T0 - 31).to_string(), t]),
        "not_yet_valid",
        t,
    );
    // Signature: a changed signature or claims byte.
    let sig_at = t.rfind('.').unwrap() + 5;
    refused(f.verify(&[&flip(t, sig_at)]), "bad_signature", t);
    let claims_at = t.find('.').unwrap() + 5;
    refused(f.verify(&[&flip(t, claims_at)]), "bad_signature", t);
    // Structure.
    refused(f.verify(&["garbage"]), "malformed", "");
    refused(f.verify(&["a.b"]), "malformed", "");
    refused(f.verify(&[&format!("{t}.")]), "malformed", t);
    // Key and algorithm.
    let (_, rest) = t.split_once('.').unwrap();
    let unknown = format!(
        "{}.{rest}",
        b64(r#"{"alg":"HS256","typ":"tessera+jwt","kid":"nope"}"#)
    );
    refused(f.verify(&[&unknown]), "unknown_key", t);
    let header = format!(r#"{{"alg":"EdDSA","typ":"tessera+jwt","kid":"{}"}}"#, f.kid);
    refused(
        f.verify(&[&format!("{}.{rest}", b64(&header))]),
        "unsupported_algorithm",
        t,
    );
    let header = format!(r#"{{"alg":"none","typ":"tessera+jwt","kid":"{}"}}"#, f.kid);
    refused(
        f.verify(&[&format!("{}.{rest}", b64(&header))]),
        "unsupported_algorithm",
        t,
    );
    // Length, from the argument.
    refused(f.verify(&[&"a".repeat(100_000)]), "too_large", "");
}

#[test]
fn verify_json_reports_failures_as_a_json_object_on_stdout() {
    let f = fixture("hs256");
    let late = (T0 + 3600).to_string();
    let a = f
        .verify(&["--json", "--now", &late, &f.token])
        .assert()
        .code(1);
    assert!(stderr(&a).is_empty());
    let doc: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(doc["code"], "expired");
    assert!(doc["message"].as_str().unwrap().contains("expired"));
    assert!(!stdout(&a).contains(&f.token));
    // Also for a failure before verification.
    let a = tessera()
        .args([
            "verify",
            "--json",
            "--keys",
            "/no/such/file",
            "--iss",
            "i",
            "--aud",
            "a",
            "x",
        ])
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(doc["code"], "io");
}

#[test]
fn verify_reports_unusable_key_files() {
    let dir = tempdir();
    let t = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    let a = tessera()
        .args(["verify", "--iss", "i", "--aud", "a", "--keys"])
        .arg(dir.path().join("missing.json"))
        .arg(t)
        .assert()
        .code(1);
    assert!(stderr(&a).starts_with("error: io: "), "{}", stderr(&a));
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"keys":[{"kty":"oct","kid":"a","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#,
    )
    .unwrap();
    let a = tessera()
        .args(["verify", "--iss", "i", "--aud", "a", "--keys"])
        .arg(&bad)
        .arg(t)
        .assert()
        .code(1);
    assert!(
        stderr(&a).starts_with("error: invalid_key: "),
        "{}",
        stderr(&a)
    );
    assert!(stderr(&a).contains("\"alg\" is required"), "{}", stderr(&a));
}

#[test]
fn sign_takes_payload_from_json_or_a_file_and_sets_every_claim() {
    let f = fixture("eddsa");
    let dir = tempdir();
    let file = dir.path().join("payload.json");
    std::fs::write(&file, r#"{"part_id": 1234, "note": "é"}"#).unwrap();
    let token = sign(
        &f.keys,
        &[
            "--iss",
            "inventree",
            "--aud",
            "transfer",
            "--sub",
            "bob",
            "--fpr",
            "v7",
            "--payload",
            &format!("@{}", file.display()),
        ],
    );
    let out = succeeds(f.verify_as("inventree", "transfer", &["--sub", "bob", "--json", &token]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["claims"]["dat"],
        serde_json::json!({"part_id": 1234, "note": "é"})
    );
    assert_eq!(doc["claims"]["fpr"], "v7");
    assert_eq!(
        doc["claims"]["exp"].as_u64().unwrap() - doc["claims"]["iat"].as_u64().unwrap(),
        300
    );
    // No payload: null. A custom TTL.
    let token = sign(
        &f.keys,
        &[
            "--iss",
            "i",
            "--aud",
            "a",
            "--ttl",
            "1h30m",
            "--now",
            &T0.to_string(),
        ],
    );
    let out = succeeds(f.verify_as("i", "a", &["--json", "--now", &T0.to_string(), &token]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["claims"]["dat"], serde_json::Value::Null);
    assert_eq!(doc["claims"]["exp"], T0 + 5400);
}

#[test]
fn sign_failures_are_actionable() {
    let f = fixture("hs256");
    let dir = tempdir();
    let run = |extra: &[&str]| {
        let mut c = tessera();
        c.arg("sign")
            .arg("--keys")
            .arg(&f.keys)
            .args(["--iss", "i", "--aud", "a"])
            .args(extra);
        c
    };
    refused(run(&["--payload", "{qty: 25}"]), "bad_payload", "");
    refused(run(&["--payload", ""]), "bad_payload", "");
    let missing = dir.path().join("nope.json");
    refused(
        run(&["--payload", &format!("@{}", missing.display())]),
        "io",
        "",
    );
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&bad_file, "[1, 2,").unwrap();
    refused(
        run(&["--payload", &format!("@{}", bad_file.display())]),
        "bad_payload",
        "",
    );
    refused(run(&["--ttl", "2d"]), "lifetime_too_long", "");
    refused(run(&["--ttl", "0"]), "invalid_config", "");
    // A --now whose expiry would pass 9999-12-31 (or overflow) is refused, not wrapped.
    refused(
        run(&["--now", "18446744073709551615"]),
        "invalid_config",
        "",
    );
    refused(
        run(&["--now", "253402300700", "--ttl", "300"]),
        "invalid_config",
        "",
    );
    let big = format!("\"{}\"", "x".repeat(9000));
    refused(run(&["--payload", &big]), "too_large", "");
    // A verify-only key set cannot sign.
    let eddsa = fixture("eddsa");
    let public = dir.path().join("public.json");
    std::fs::write(&public, public_keys(&eddsa.keys)).unwrap();
    let sign_with_public = ["sign", "--iss", "i", "--aud", "a", "--keys"];
    refused(on_file(&sign_with_public, &public), "invalid_key", "");
}

#[test]
fn inspect_shows_header_claims_and_times_labelled_unverified() {
    let f = fixture("hs256");
    let a = tessera()
        .args(["inspect", "--now", &(T0 + 48).to_string(), &f.token])
        .assert()
        .success();
    let out = stdout(&a);
    assert!(out.starts_with("UNVERIFIED"), "{out}");
    assert!(out.contains("NOT verified"));
    assert!(out.contains("header (unverified)"));
    assert!(out.contains("\"kid\": \"") && out.contains(&f.kid));
    assert!(out.contains("\"sub\": \"alice\""));
    assert!(out.contains("\"qty\": 25"));
    assert!(
        out.contains("issued     2026-09-21 14:13:20 UTC  (48s ago)"),
        "{out}"
    );
    assert!(
        out.contains("expires    2026-09-21 14:18:20 UTC  (expires in 4m 12s)"),
        "{out}"
    );
    // Three hours after expiry.
    let later = (T0 + 300 + 3 * 3600).to_string();
    tessera()
        .args(["inspect", "--now", &later, &f.token])
        .assert()
        .success()
        .stdout(predicate::str::contains("(expired 3h ago)"));
}

#[test]
fn inspect_decodes_even_a_forged_token_and_says_so() {
    let f = fixture("hs256");
    let forged = flip(&f.token, f.token.rfind('.').unwrap() + 3);
    tessera()
        .args(["inspect", "-"])
        .write_stdin(format!("{forged}\n"))
        .assert()
        .success()
        .stdout(predicate::str::starts_with("UNVERIFIED").and(predicate::str::contains("alice")));
    tessera()
        .arg("inspect")
        .write_stdin(f.token)
        .assert()
        .success()
        .stdout(predicate::str::contains("transfer"));
}

#[test]
fn inspect_refuses_what_is_not_a_token() {
    refused(
        {
            let mut c = tessera();
            c.args(["inspect", "garbage"]);
            c
        },
        "malformed",
        "",
    );
    refused(
        {
            let mut c = tessera();
            c.args(["inspect", "e30.e30"]);
            c
        },
        "malformed",
        "",
    );
    refused(
        {
            let mut c = tessera();
            c.args(["inspect", &format!("{}.bm90IGpzb24.c2ln", b64("{}"))]);
            c
        },
        "malformed",
        "",
    );
    refused(
        {
            let mut c = tessera();
            c.arg("inspect").write_stdin("a b.c.d");
            c
        },
        "malformed",
        "",
    );
}

#[test]
fn sealed_tokens_round_trip_and_hide_their_claims() {
    let dir = tempdir();
    let (keys, sealing) = keygen(dir.path(), "keys.json", "a256gcm");
    assert_eq!(
        list(&keys),
        format!("{sealing}\tA256GCM\tactive (sealing)\n")
    );
    // A sealing key is a secret: nothing to publish.
    on_file(&["keys", "public"], &keys).assert().code(1);
    // Without a signing key, only sealing works.
    let sign_signed = ["sign", "--iss", "i", "--aud", "a", "--keys"];
    refused(on_file(&sign_signed, &keys), "invalid_key", "");
    let token = sign(
        &keys,
        &[
            "--iss",
            "i",
            "--aud",
            "a",
            "--seal",
            "--payload",
            r#"{"pin":"7391"}"#,
        ],
    );
    assert_eq!(token.split('.').count(), 5);
    let verify = |accept: Option<&str>| {
        let mut c = on_file(&["verify", "--iss", "i", "--aud", "a", "--keys"], &keys);
        if let Some(accept) = accept {
            c.args(["--accept", accept]);
        }
        c.arg(&token);
        c
    };
    // Signed only by default, like the library: a sealed token is refused as malformed.
    refused(verify(None), "malformed", &token);
    verify(Some("signed")).assert().code(1);
    verify(Some("sealed"))
        .assert()
        .success()
        .stdout("{\n  \"pin\": \"7391\"\n}\n");
    let out = succeeds(verify(Some("either")).arg("--json"));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["header"]["alg"], "dir");
    assert_eq!(doc["header"]["enc"], "A256GCM");
    assert_eq!(doc["header"]["kid"], sealing.as_str());
    // inspect reads the header only; the payload stays hidden.
    let shown = succeeds(tessera().args(["inspect", &token]));
    assert!(shown.contains("sealed (encrypted)"), "{shown}");
    assert!(!shown.contains("7391"));
    // Rotating with no --alg keeps the sealing algorithm; the old sealed token still opens.
    let second = rotate(&keys, &[]);
    assert_eq!(
        list(&keys),
        format!("{sealing}\tA256GCM\topen (sealing)\n{second}\tA256GCM\tactive (sealing)\n")
    );
    verify(Some("sealed")).assert().success();
    retire(&keys, &sealing);
    refused(verify(Some("sealed")), "unknown_key", &token);
}

#[test]
fn verify_json_shows_nbf_only_when_the_token_has_one() {
    let f = fixture("hs256");
    let out = succeeds(f.verify(&["--json", &f.token]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["claims"]["iat"], T0);
    assert!(
        doc["claims"].get("nbf").is_none(),
        "no nbf in the token, none shown: {doc}"
    );
    // A token minted (through the library) with an nbf after iat shows it.
    let keys = std::sync::Arc::new(tessera_protocol::KeySet::from_file(&f.keys).unwrap());
    let minter = tessera_protocol::Minter::new(keys, "inventree");
    let token = minter
        .token("transfer")
        .issued_at(T0)
        .not_before(T0 + 5)
        .ttl(std::time::Duration::from_secs(300))
        .mint()
        .unwrap();
    let out = succeeds(f.verify(&["--json", &token]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["claims"]["nbf"], T0 + 5, "{doc}");
}

#[test]
fn verify_json_of_a_sealed_token_without_nbf_shows_none() {
    let dir = tempdir();
    let (keys, _) = keygen(dir.path(), "keys.json", "a256gcm");
    let token = sign(&keys, &["--iss", "i", "--aud", "a", "--seal"]);
    let verify = [
        "verify", "--iss", "i", "--aud", "a", "--accept", "sealed", "--json", "--keys",
    ];
    let out = succeeds(on_file(&verify, &keys).arg(&token));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(doc["claims"]["iat"].is_u64());
    assert!(doc["claims"].get("nbf").is_none(), "{doc}");
}

#[test]
fn inspect_warns_about_repeated_members_at_any_depth() {
    let header = b64(r#"{"alg":"HS256","typ":"tessera+jwt","alg":"none"}"#);
    let claims = b64(r#"{"iss":"i","dat":{"to":"WH-01","n":[{"x":1,"x":2}],"to":"WH-02"}}"#);
    let token = format!("{header}.{claims}.c2ln");
    let out = succeeds(tessera().args(["inspect", &token]));
    assert!(
        out.contains("WARNING: the header repeats the member(s) /alg: "),
        "{out}"
    );
    assert!(
        out.contains("WARNING: the claims repeat the member(s) /dat/n/0/x, /dat/to: "),
        "{out}"
    );
    assert!(out.contains("malformed"), "{out}");
    // An ordinary token gets no warning.
    let f = fixture("hs256");
    let out = succeeds(tessera().args(["inspect", &f.token]));
    assert!(!out.contains("WARNING"), "{out}");
}

#[test]
fn verify_with_a_published_key_set_accepts_ed25519_public_keys_only() {
    let f = fixture("eddsa");
    let dir = tempdir();
    let published = dir.path().join("jwks.json");
    std::fs::write(&published, public_keys(&f.keys)).unwrap();
    let verify = |jwks: &std::path::Path| {
        let mut cmd = on_file(&["verify", "--jwks"], jwks);
        cmd.args(["--iss", "inventree", "--aud", "transfer"]).args([
            "--now",
            &(T0 + 10).to_string(),
            &f.token,
        ]);
        cmd
    };
    verify(&published)
        .assert()
        .success()
        .stdout("{\n  \"qty\": 25\n}\n");
    // A "published" set holding secrets is refused whole: the issuer's own private key file,
    // or an HMAC key file (whose secret would let whoever wrote the document forge tokens).
    let (hs_keys, _) = keygen(dir.path(), "hs.json", "hs256");
    for bad in [&f.keys, &hs_keys] {
        refused(verify(bad), "invalid_key", &f.token);
    }
    // Exactly one key source.
    tessera()
        .arg("verify")
        .arg("--keys")
        .arg(&f.keys)
        .arg("--jwks")
        .arg(&published)
        .args(["--iss", "inventree", "--aud", "transfer", &f.token])
        .assert()
        .code(2);
    tessera()
        .args([
            "verify",
            "--iss",
            "inventree",
            "--aud",
            "transfer",
            &f.token,
        ])
        .assert()
        .code(2);
}

/// A payload that names a member twice is refused, not minted with only the last value (the
/// first would be silently lost, and no verifier accepts such JSON in a token).
#[test]
fn sign_refuses_a_payload_that_repeats_a_member() {
    let f = fixture("hs256");
    let dir = tempdir();
    let run = |payload: &str| {
        let mut cmd = on_file(&["sign", "--keys"], &f.keys);
        cmd.args(["--iss", "i", "--aud", "a", "--payload", payload]);
        refused(cmd, "bad_payload", "")
    };
    let err = run(r#"{"qty": 5, "qty": 500}"#);
    assert!(err.contains("/qty"), "{err}");
    let file = dir.path().join("payload.json");
    std::fs::write(
        &file,
        r#"{"to": {"bin": "A", "bin": "B"}, "ok": [{"x": 1, "x": 2}]}"#,
    )
    .unwrap();
    let err = run(&format!("@{}", file.display()));
    assert!(err.contains("/to/bin"), "{err}");
    assert!(err.contains("/ok/0/x"), "{err}");
    // The same names in different objects are fine.
    sign(
        &f.keys,
        &[
            "--iss",
            "i",
            "--aud",
            "a",
            "--payload",
            r#"{"a": {"x": 1}, "b": {"x": 2}}"#,
        ],
    );
}

/// Empty (or blank) standard input, or an empty argument, is no token at all: the message says
/// so, rather than describing the segments of a token that was never given. The code stays
/// `malformed`.
#[test]
fn an_empty_token_is_reported_as_no_token() {
    let f = fixture("hs256");
    for stdin in ["", " \n\t\r\n"] {
        for args in [&[][..], &["-"]] {
            let err = refused(f.verify(args).write_stdin(stdin), "malformed", "");
            assert!(
                err.starts_with("error: malformed: no token"),
                "{args:?} {stdin:?}: {err}"
            );
            assert!(err.contains("standard input"), "{err}");
        }
        let err = refused(tessera().arg("inspect").write_stdin(stdin), "malformed", "");
        assert!(err.starts_with("error: malformed: no token"), "{err}");
    }
    let err = refused(f.verify(&[""]), "malformed", "");
    assert!(err.starts_with("error: malformed: no token"), "{err}");
}

/// Two tokens on standard input (a paste of two lines, `cat a.txt b.txt | tessera verify`)
/// are one text of five dot-separated parts, which reads like a sealed token with a non-empty
/// encrypted-key segment. It is `malformed`, but the message says the opposite of what is
/// wrong: "a sealed token's encrypted-key segment is empty (alg dir)" when that segment is
/// NOT empty (and the user gave no sealed token). The message must not state a falsehood
/// about the input (it should say the segment must be empty, or that the input holds more
/// than one token / inner whitespace).
#[test]
fn two_tokens_on_stdin_are_malformed_with_a_message_that_is_true() {
    let f = fixture("hs256");
    let stdin = format!("{}\n{}\n", f.token, f.token);
    for cmd in [&mut f.verify(&["-"]), tessera().args(["inspect", "-"])] {
        let err = refused(cmd.write_stdin(stdin.clone()), "malformed", &f.token);
        assert!(
            !err.contains("segment is empty"),
            "the encrypted-key segment here is not empty: {err}"
        );
    }
}

/// Several faults at once: `sign` reports the one spec §4 checks first (the active key, then
/// iss/aud/sub, then the payload), as the mint vectors M-26 to M-31 pin for the library.
#[test]
fn sign_reports_the_refusal_spec_4_checks_first() {
    let eddsa = fixture("eddsa");
    let dir = tempdir();
    let public = dir.path().join("public.json");
    std::fs::write(&public, public_keys(&eddsa.keys)).unwrap();
    let sign = |keys: &std::path::Path, iss: &str| {
        let mut c = on_file(&["sign", "--keys"], keys);
        c.args(["--iss", iss, "--aud", "a"])
            .args(["--payload", "[18446744073709551616]"]);
        c
    };
    refused(sign(&public, "i"), "invalid_key", "");
    refused(sign(&eddsa.keys, ""), "invalid_config", "");
    refused(sign(&eddsa.keys, "i"), "bad_payload", "");
}

/// An integer beyond 64 bits in a payload would be rounded by the JSON reader (the CLI's own
/// and a verifier's, spec §2.4): refused with a clear message instead of minted as another
/// number. Integers that fit, floats, and big numbers inside strings are minted as given.
#[test]
fn sign_refuses_a_payload_integer_beyond_64_bits() {
    let f = fixture("hs256");
    let sign = |payload: &str| {
        on_file(&["sign", "--keys"], &f.keys)
            .args(["--iss", "inventree", "--aud", "transfer"])
            .arg(format!("--payload={payload}"))
            .args(["--now", &T0.to_string()])
            .assert()
    };
    for payload in [
        r#"{"id": 123456789012345678901234567890}"#,
        "[18446744073709551616]",
        "-9223372036854775809",
    ] {
        let a = sign(payload).code(1);
        assert!(stdout(&a).is_empty(), "no token: {}", stdout(&a));
        let err = stderr(&a);
        assert!(err.starts_with("error: bad_payload: "), "{err}");
        assert!(err.contains("beyond 64 bits"), "{err}");
    }
    let fits = r#"{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1.5e300,
                  "s": "123456789012345678901234567890", "q": "say \"99999999999999999999\""}"#;
    let token = stdout(&sign(fits).success());
    let a = f.verify(&[token.trim()]).assert().success();
    let out = stdout(&a);
    assert!(
        out.contains("18446744073709551615") && out.contains("-9223372036854775808"),
        "{out}"
    );
}
