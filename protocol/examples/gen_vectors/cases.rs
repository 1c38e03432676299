//! The test-vector cases: deterministic keys, a fixed `now`, and one token per case.
//!
//! Shared by the `gen_vectors` example (which writes `spec/vectors/*.json`) and the protocol
//! test suite (which checks the files have not drifted and runs the verifier over them).
//! Everything is built from fixed inputs and literal JSON text, so the output is byte-stable.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Serialize;
use serde_json::value::RawValue;
use tessera_protocol::{FixedClock, Key, KeySet, Kid, Minter};

#[path = "derive_cases.rs"]
mod derive_cases;

pub(crate) const NOW: u64 = 1_790_000_000;
/// The largest time a claim can hold, 9999-12-31T23:59:59Z (spec §2.5).
const MAX_TIME: u64 = 253_402_300_799;
pub(crate) const ISS: &str = "inventree";
pub(crate) const AUD: &str = "plugin:stock-tools/action:transfer";
pub(crate) const SUB: &str = "user:42";
pub(crate) const JTI: &str = "dGVzc2VyYS12ZWN0b3ItMQ";
pub(crate) const REFERENCE: &str = r#"{"part_id":1234,"location":"WH-01/A/3","qty":25,"mode":"transfer","note":"restock from supplier order PO-2231"}"#;

/// One vector case, in the field order of `spec/vectors/README.md`.
#[derive(Serialize)]
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) description: String,
    /// The key set as a JSON value; `null` when `keys_text` gives it.
    pub(crate) keys: Box<RawValue>,
    /// The key set as text, for a document that a vector file could not embed without the
    /// runner's JSON parser changing it (a repeated member name): written only when set.
    #[serde(rename = "keys-text", skip_serializing_if = "Option::is_none")]
    pub(crate) keys_text: Option<String>,
    /// The key set as text built from a few parts (a document too large to write out, such
    /// as one of 1 MiB): written only when set, with `keys` `null`.
    #[serde(rename = "keys-build", skip_serializing_if = "Option::is_none")]
    pub(crate) keys_build: Option<KeysBuild>,
    pub(crate) now: u64,
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) sub: Option<String>,
    /// The caller is known to be anonymous (step 15): written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) anonymous: bool,
    pub(crate) token: String,
    /// Which kinds of token the verifying route accepts: "signed", "sealed" or "either".
    pub(crate) accept: &'static str,
    /// Verifier options other than the defaults of spec §5.1: written only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<Options>,
    #[serde(rename = "expect-fail")]
    pub(crate) expect_fail: bool,
    #[serde(rename = "expected-code")]
    pub(crate) expected_code: Option<&'static str>,
    pub(crate) payload: Option<Box<RawValue>>,
}

/// A key-set document as text: `head`, then `count` copies of `item` (each with every `{n}`
/// replaced by its index, 0 to count − 1, in decimal) joined by `separator`, then `pad` spaces,
/// then `tail`.
#[derive(Serialize)]
pub(crate) struct KeysBuild {
    pub(crate) head: String,
    pub(crate) item: String,
    pub(crate) separator: String,
    pub(crate) count: usize,
    pub(crate) pad: usize,
    pub(crate) tail: String,
}

impl KeysBuild {
    /// The document the instructions describe.
    pub(crate) fn text(&self) -> String {
        let items: Vec<String> = (0..self.count)
            .map(|n| self.item.replace("{n}", &n.to_string()))
            .collect();
        format!(
            "{}{}{}{}",
            self.head,
            items.join(&self.separator),
            " ".repeat(self.pad),
            self.tail
        )
    }
}

/// Verifier options (spec §5.1) that differ from the defaults; absent ones keep theirs.
#[derive(Clone, Copy, Default, Serialize)]
pub(crate) struct Options {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) leeway: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_lifetime: Option<u64>,
}

#[derive(Serialize)]
struct MintFile<'a> {
    name: &'a str,
    description: &'a str,
    tests: &'a [MintCase],
}

#[derive(Serialize)]
struct File<'a> {
    name: &'a str,
    description: &'a str,
    tests: &'a [Case],
}

/// 32 deterministic bytes for a label (SHA-256 of it): test keys only.
fn bytes32(label: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, label.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn hs_secret(kid: &str) -> [u8; 32] {
    bytes32(&format!("tessera test vector HS256 secret {kid}"))
}

fn ed_seed(kid: &str) -> [u8; 32] {
    bytes32(&format!("tessera test vector Ed25519 seed {kid}"))
}

fn hs(kid: &str) -> Key {
    Key::hs256(Kid::new(kid).expect("literal kid"), &hs_secret(kid)).expect("32-byte secret")
}

fn ed(kid: &str) -> Key {
    Key::ed25519(Kid::new(kid).expect("literal kid"), &ed_seed(kid), None).expect("32-byte seed")
}

fn set(keys: Vec<Key>, active: Option<&str>) -> Arc<KeySet> {
    sealing_set(keys, active, None)
}

/// A key set with an active signing key and, if given, an active sealing key.
fn sealing_set(keys: Vec<Key>, active: Option<&str>, sealing: Option<&str>) -> Arc<KeySet> {
    let mut s = KeySet::new();
    for k in keys {
        s.insert(k).expect("distinct kids");
    }
    if let Some(a) = active {
        s.set_active(&Kid::new(a).expect("literal kid"))
            .expect("signing key");
    }
    if let Some(a) = sealing {
        s.set_active_sealing(&Kid::new(a).expect("literal kid"))
            .expect("sealing key");
    }
    Arc::new(s)
}

/// Removes JSON whitespace outside strings, so embedded documents are compact and byte-stable.
fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_str, mut escaped) = (false, false);
    for c in json.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).expect("literal JSON")
}

fn keys_json(keys: &KeySet) -> Box<RawValue> {
    raw(&minify(&keys.to_private_json()))
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hs_header(kid: &str) -> String {
    format!(r#"{{"alg":"HS256","typ":"tessera+jwt","kid":"{kid}"}}"#)
}

fn ed_header(kid: &str) -> String {
    format!(r#"{{"alg":"EdDSA","typ":"tessera+jwt","kid":"{kid}"}}"#)
}

/// Claims as ordered (name, raw JSON value) pairs, so a case can change exactly one thing.
#[derive(Clone)]
struct Claims(Vec<(String, String)>);

impl Claims {
    fn standard() -> Claims {
        Claims(vec![
            ("iss".into(), format!("\"{ISS}\"")),
            ("aud".into(), format!("\"{AUD}\"")),
            ("sub".into(), format!("\"{SUB}\"")),
            ("iat".into(), NOW.to_string()),
            ("exp".into(), (NOW + 300).to_string()),
            ("jti".into(), format!("\"{JTI}\"")),
            ("dat".into(), REFERENCE.into()),
        ])
    }
    fn set(mut self, name: &str, value: &str) -> Claims {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.into(),
            None => {
                let at = self.0.len() - 1; // keep dat last
                self.0.insert(at, (name.into(), value.into()));
            }
        }
        self
    }
    fn remove(mut self, name: &str) -> Claims {
        self.0.retain(|(n, _)| n != name);
        self
    }
    fn push_raw(mut self, name: &str, value: &str) -> Claims {
        self.0.push((name.into(), value.into()));
        self
    }
    fn text(&self) -> String {
        let members: Vec<String> = self.0.iter().map(|(n, v)| format!("\"{n}\":{v}")).collect();
        format!("{{{}}}", members.join(","))
    }
}

fn hmac_sign(input: &str, secret: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    b64(ring::hmac::sign(&key, input.as_bytes()))
}

fn forge_hs_bytes(header: &[u8], claims: &[u8], secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = hmac_sign(&input, secret);
    format!("{input}.{sig}")
}

fn forge_hs(header: &str, claims: &str, kid_secret: &str) -> String {
    forge_hs_bytes(header.as_bytes(), claims.as_bytes(), &hs_secret(kid_secret))
}

fn forge_ed(header: &str, claims: &str, kid_seed: &str) -> String {
    let pair = Ed25519KeyPair::from_seed_unchecked(&ed_seed(kid_seed)).expect("seed");
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = pair.sign(input.as_bytes());
    format!("{input}.{}", b64(sig))
}

fn mint(keys: &Arc<KeySet>, iat: u64, sub: Option<&str>, dat: &str, ttl: u64) -> String {
    let minter = Minter::new(keys.clone(), ISS).with_clock(Arc::new(FixedClock(iat)));
    let payload = raw(dat);
    let mut b = minter
        .token(AUD)
        .payload(&*payload)
        .ttl(std::time::Duration::from_secs(ttl));
    if let Some(s) = sub {
        b = b.subject(s);
    }
    b.mint_with_jti(JTI).expect("vector tokens mint")
}

struct Builder {
    prefix: &'static str,
    accept: &'static str,
    cases: Vec<Case>,
}

impl Builder {
    /// Marks the last case as verified for a caller known to be anonymous (step 15).
    fn anonymous(&mut self) {
        if let Some(case) = self.cases.last_mut() {
            case.anonymous = true;
        }
    }
    /// Gives the last case verifier options other than the defaults.
    fn options(&mut self, options: Options) {
        if let Some(case) = self.cases.last_mut() {
            case.options = Some(options);
        }
    }
    /// Gives the last case its key set as build instructions (`keys` becomes `null`).
    fn keys_build(&mut self, build: KeysBuild) {
        if let Some(case) = self.cases.last_mut() {
            case.keys = raw("null");
            case.keys_build = Some(build);
        }
    }
    fn ok(&mut self, desc: &str, keys: &KeySet, sub: Option<&str>, token: String, payload: &str) {
        self.push(
            desc,
            keys_json(keys),
            NOW,
            AUD,
            sub,
            token,
            None,
            Some(raw(payload)),
        );
    }
    fn ok_at(
        &mut self,
        desc: &str,
        keys: &KeySet,
        now: u64,
        sub: Option<&str>,
        token: String,
        payload: &str,
    ) {
        self.push(
            desc,
            keys_json(keys),
            now,
            AUD,
            sub,
            token,
            None,
            Some(raw(payload)),
        );
    }
    fn fail(&mut self, desc: &str, keys: &KeySet, token: String, code: &'static str) {
        self.push(
            desc,
            keys_json(keys),
            NOW,
            AUD,
            Some(SUB),
            token,
            Some(code),
            None,
        );
    }
    #[allow(clippy::too_many_arguments)] // One row of the vector table.
    fn fail_at(
        &mut self,
        desc: &str,
        keys: &KeySet,
        now: u64,
        aud: &str,
        sub: Option<&str>,
        token: String,
        code: &'static str,
    ) {
        self.push(
            desc,
            keys_json(keys),
            now,
            aud,
            sub,
            token,
            Some(code),
            None,
        );
    }
    /// A key-set document refused at load time: the case fails with `invalid_key` whatever
    /// the token (a valid one is given, so that nothing else can be the cause).
    /// The same, with the document given as text (`keys-text`).
    fn bad_key_set_text(&mut self, desc: &str, doc: &str, token: String) {
        self.bad_key_set(desc, "null", token);
        if let Some(case) = self.cases.last_mut() {
            case.keys_text = Some(doc.to_owned());
        }
    }
    fn bad_key_set(&mut self, desc: &str, doc: &str, token: String) {
        self.push(
            desc,
            raw(doc),
            NOW,
            AUD,
            Some(SUB),
            token,
            Some("invalid_key"),
            None,
        );
    }
    #[allow(clippy::too_many_arguments)] // One row of the vector table.
    fn push(
        &mut self,
        desc: &str,
        keys: Box<RawValue>,
        now: u64,
        aud: &str,
        sub: Option<&str>,
        token: String,
        code: Option<&'static str>,
        payload: Option<Box<RawValue>>,
    ) {
        let name = format!("{}-{}", self.prefix, self.cases.len() + 1);
        self.cases.push(Case {
            name,
            description: desc.to_owned(),
            keys,
            keys_text: None,
            keys_build: None,
            now,
            iss: ISS.to_owned(),
            aud: aud.to_owned(),
            sub: sub.map(str::to_owned),
            anonymous: false,
            token,
            accept: self.accept,
            options: None,
            expect_fail: code.is_some(),
            expected_code: code,
            payload,
        });
    }
}

/// All HS256 success cases, rotation included.
pub(crate) fn hs256_cases() -> Vec<Case> {
    let k = set(vec![hs("hs-a")], Some("hs-a"));
    let mut b = Builder {
        prefix: "HS-S",
        accept: "signed",
        cases: Vec::new(),
    };
    b.ok(
        "reference payload, with subject",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    b.ok(
        "no subject in the token, none expected",
        &k,
        None,
        mint(&k, NOW, None, REFERENCE, 300),
        REFERENCE,
    );
    b.ok(
        "subject in the token, none expected",
        &k,
        None,
        mint(&k, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    b.ok(
        "null payload",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), "null", 300),
        "null",
    );
    // Floats are read correctly rounded (IEEE 754 round-half-even): the expected payload is
    // the nearest doubles, written plainly, so a parser that rounds otherwise disagrees.
    b.ok(
        "floats that need correct rounding",
        &k,
        Some(SUB),
        mint(
            &k,
            NOW,
            Some(SUB),
            r#"{"halfway":9007199254740993.0,"tiny":2.4703282292062328e-324,"tenth":0.1}"#,
            300,
        ),
        r#"{"halfway":9007199254740992.0,"tiny":5e-324,"tenth":0.1}"#,
    );
    let unicode = r#"{"note":"Grüße – 倉庫 🚚","esc":"quote \" backslash \\ tab \t"}"#;
    b.ok(
        "non-ASCII and escaped payload text",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), unicode, 300),
        unicode,
    );
    b.ok(
        "array payload with a float",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), "[1,2.5,\"x\",true,null]", 300),
        "[1,2.5,\"x\",true,null]",
    );
    b.ok_at(
        "29 s after exp: inside the 30 s leeway",
        &k,
        NOW + 300 + 29,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    let nbf = forge_hs(
        &hs_header("hs-a"),
        &Claims::standard()
            .set("nbf", &(NOW + 30).to_string())
            .set("exp", &(NOW + 600).to_string())
            .text(),
        "hs-a",
    );
    b.ok(
        "nbf 30 s in the future: inside the leeway",
        &k,
        Some(SUB),
        nbf,
        REFERENCE,
    );
    let explicit_nbf = forge_hs(
        &hs_header("hs-a"),
        &Claims::standard()
            .set("nbf", &(NOW - 10).to_string())
            .text(),
        "hs-a",
    );
    b.ok(
        "explicit nbf in the past",
        &k,
        Some(SUB),
        explicit_nbf,
        REFERENCE,
    );
    let fpr = forge_hs(
        &hs_header("hs-a"),
        &Claims::standard().set("fpr", "\"stock:1234:v7\"").text(),
        "hs-a",
    );
    b.ok(
        "state fingerprint claim present",
        &k,
        Some(SUB),
        fpr,
        REFERENCE,
    );
    b.ok(
        "lifetime exactly the 24 h maximum",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 86_400),
        REFERENCE,
    );
    // Rotation: hs-b is active, hs-a kept for verification.
    let old = set(vec![hs("hs-a")], Some("hs-a"));
    let rotated = set(vec![hs("hs-a"), hs("hs-b")], Some("hs-b"));
    b.ok(
        "rotation: token from the previous key still verifies",
        &rotated,
        Some(SUB),
        mint(&old, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    b.ok(
        "rotation: token from the new active key",
        &rotated,
        Some(SUB),
        mint(&rotated, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    // §2.4: every verifier accepts claims nested 64 deep (the claims object is depth 1).
    let deep = nested(63);
    b.ok(
        "claims nested 64 deep, the depth every verifier accepts",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), &deep, 300),
        &deep,
    );
    b.ok(
        "anonymous caller, token without a subject",
        &k,
        None,
        mint(&k, NOW, None, REFERENCE, 300),
        REFERENCE,
    );
    b.anonymous();
    // §3.3, §5.2: kids are compared after unescaping.
    b.ok(
        "a header kid written with a JSON escape (hs\\u002da) names the key hs-a",
        &k,
        Some(SUB),
        forge_hs(
            r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs\u002da"}"#,
            &Claims::standard().text(),
            "hs-a",
        ),
        REFERENCE,
    );
    // §2.3: fpr is counted in UTF-8 bytes of the unescaped string, not in JSON text.
    b.ok(
        "fpr of 128 escaped letters (\\u0041): 768 bytes of JSON text, 128 bytes unescaped",
        &k,
        Some(SUB),
        forge_hs(
            &hs_header("hs-a"),
            &Claims::standard()
                .set("fpr", &format!("\"{}\"", "\\u0041".repeat(128)))
                .text(),
            "hs-a",
        ),
        REFERENCE,
    );
    // A key set given as text (`keys-text`), as the failure cases that repeat a member are: a
    // runner that ignores `keys-text` fails here.
    b.ok(
        "the key set given as text in keys-text (keys is null)",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    if let Some(case) = b.cases.last_mut() {
        case.keys_text = Some(k.to_private_json());
        case.keys = raw("null");
    }
    // §2.3: jti is any string; the verifier checks its type only.
    b.ok(
        "an empty jti (the verifier checks its type only)",
        &k,
        Some(SUB),
        forge_hs(
            &hs_header("hs-a"),
            &Claims::standard().set("jti", "\"\"").text(),
            "hs-a",
        ),
        REFERENCE,
    );
    // §2.4 rule 4: a number is refused only if it rounds to an infinity.
    b.ok(
        "numbers at the edges of binary64: 1.7976931348623158e308 rounds to the largest double, 1e-400 to 0",
        &k,
        Some(SUB),
        forge_hs(
            &hs_header("hs-a"),
            &Claims::standard()
                .set("dat", "[1.7976931348623158e308,1e-400]")
                .text(),
            "hs-a",
        ),
        "[1.7976931348623157e308,0.0]",
    );
    // §5.1: now may be past the last time a claim can hold; the leeway still applies.
    b.ok_at(
        "now one second past 9999-12-31T23:59:59Z, inside the leeway of a token that expires then",
        &k,
        MAX_TIME + 1,
        Some(SUB),
        mint(&k, MAX_TIME - 799, Some(SUB), REFERENCE, 799),
        REFERENCE,
    );
    // §2.4: integers beyond 64 bits, and -0, are handed over as binary64.
    b.ok(
        "integers beyond the 64-bit range and -0 in dat are read as binary64",
        &k,
        Some(SUB),
        forge_hs(
            &hs_header("hs-a"),
            &Claims::standard()
                .set("dat", "[-0,18446744073709551617,-9223372036854775809]")
                .text(),
            "hs-a",
        ),
        "[-0.0,1.8446744073709552e19,-9.223372036854776e18]",
    );
    // §2.4: an integer inside the 64-bit range is handed over exactly, as an integer, even
    // where binary64 would round it (a parser that reads every number as a double fails).
    let exact = "[9007199254740993,-9007199254740993,18446744073709551615,-9223372036854775808]";
    b.ok(
        "integers beyond 2^53 but inside the 64-bit range are handed over exactly",
        &k,
        Some(SUB),
        forge_hs(
            &hs_header("hs-a"),
            &Claims::standard().set("dat", exact).text(),
            "hs-a",
        ),
        exact,
    );
    // §2.4: whitespace and member order on input are the producer's choice; verifiers accept
    // any (they check the signature over the bytes as received).
    b.ok(
        "header with whitespace between its members",
        &k,
        Some(SUB),
        forge_hs(
            "{ \"alg\" : \"HS256\",\n  \"typ\": \"tessera+jwt\",\t\"kid\":\"hs-a\" }\r\n",
            &Claims::standard().text(),
            "hs-a",
        ),
        REFERENCE,
    );
    b.ok(
        "header members in the order kid, typ, alg",
        &k,
        Some(SUB),
        forge_hs(
            r#"{"kid":"hs-a","typ":"tessera+jwt","alg":"HS256"}"#,
            &Claims::standard().text(),
            "hs-a",
        ),
        REFERENCE,
    );
    let mut reordered = Claims::standard();
    reordered.0.reverse();
    let spaced = reordered
        .text()
        .replace(",\"", ", \"")
        .replace("\":", "\" : ");
    b.ok(
        "claims in reverse order, with whitespace",
        &k,
        Some(SUB),
        forge_hs(&hs_header("hs-a"), &spaced, "hs-a"),
        REFERENCE,
    );
    // §3.4: a key set at both caps, 1024 keys and exactly 1 MiB, loads.
    b.ok(
        "a key set at both caps: 1024 keys in a document of exactly 1048576 bytes",
        &k,
        Some(SUB),
        forge_hs(&hs_header("k0"), &Claims::standard().text(), "hs-a"),
        REFERENCE,
    );
    b.keys_build(many_keys(1024, Some(1024 * 1024)));
    // §5.1: options other than the defaults.
    let five_min = mint(&k, NOW, Some(SUB), REFERENCE, 300);
    b.ok_at(
        "leeway 0: valid in the last second before exp",
        &k,
        NOW + 299,
        Some(SUB),
        five_min.clone(),
        REFERENCE,
    );
    b.options(Options {
        leeway: Some(0),
        ..Options::default()
    });
    b.ok_at(
        "leeway 300 (the largest): valid 299 s after exp",
        &k,
        NOW + 300 + 299,
        Some(SUB),
        five_min.clone(),
        REFERENCE,
    );
    b.options(Options {
        leeway: Some(300),
        ..Options::default()
    });
    b.ok(
        "maximum lifetime 600 s: a 600 s token",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 600),
        REFERENCE,
    );
    b.options(Options {
        max_lifetime: Some(600),
        ..Options::default()
    });
    b.ok(
        "length cap equal to the token's length",
        &k,
        Some(SUB),
        five_min.clone(),
        REFERENCE,
    );
    b.options(Options {
        max_len: Some(five_min.len()),
        ..Options::default()
    });
    b.cases
}

/// Instructions for a key set of `count` HS256 keys `k0`, `k1`, … sharing the secret of
/// `hs-a` (kids renamed in a migration may share one, spec §3.2), `k0` active, padded with
/// spaces to `size` bytes when given.
pub(crate) fn many_keys(count: usize, size: Option<usize>) -> KeysBuild {
    let mut build = KeysBuild {
        head: r#"{"keys":["#.to_owned(),
        item: format!(
            r#"{{"kty":"oct","kid":"k{{n}}","use":"sig","alg":"HS256","k":"{}"}}"#,
            b64(hs_secret("hs-a"))
        ),
        separator: ",".to_owned(),
        count,
        pad: 0,
        tail: r#"],"active":"k0"}"#.to_owned(),
    };
    if let Some(size) = size {
        build.pad = size - build.text().len();
    }
    build
}

/// A payload of `levels` nested containers, objects and arrays in turn: with the claims
/// object around it, claims nested `levels + 1` deep.
pub(crate) fn nested(levels: usize) -> String {
    let mut text = String::from("0");
    for level in (0..levels).rev() {
        text = if level % 2 == 0 {
            format!(r#"{{"n":{text}}}"#)
        } else {
            format!("[{text}]")
        };
    }
    text
}

/// All EdDSA success cases.
pub(crate) fn eddsa_cases() -> Vec<Case> {
    let k = set(vec![ed("ed-a")], Some("ed-a"));
    let mut b = Builder {
        prefix: "ED-S",
        accept: "signed",
        cases: Vec::new(),
    };
    b.ok(
        "reference payload, with subject",
        &k,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    let public = KeySet::from_json(&k.public_jwks().to_string()).expect("public set");
    b.ok(
        "verify-only key set (public key, no d)",
        &public,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    let mixed = set(vec![hs("hs-a"), ed("ed-a")], Some("hs-a"));
    b.ok(
        "mixed key set: EdDSA token beside an HS256 key",
        &mixed,
        Some(SUB),
        mint(&k, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    let rotated = set(vec![hs("hs-a"), ed("ed-b")], Some("ed-b"));
    b.ok(
        "rotation from HS256 to EdDSA: new EdDSA token",
        &rotated,
        Some(SUB),
        mint(&rotated, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    let old = set(vec![hs("hs-a")], Some("hs-a"));
    b.ok(
        "rotation from HS256 to EdDSA: old HS256 token",
        &rotated,
        Some(SUB),
        mint(&old, NOW, Some(SUB), REFERENCE, 300),
        REFERENCE,
    );
    b.cases
}

/// One or more failure cases per error code and per RFC 8725 attack that fits in a token.
pub(crate) fn failure_cases() -> Vec<Case> {
    let k = set(vec![hs("hs-a")], Some("hs-a"));
    let ke = set(vec![ed("ed-a")], Some("ed-a"));
    let mixed = set(vec![hs("hs-a"), ed("ed-a")], Some("hs-a"));
    let good = mint(&k, NOW, Some(SUB), REFERENCE, 300);
    let (input, sig) = good.rsplit_once('.').expect("three segments");
    let (h, c) = input.split_once('.').expect("three segments");
    let std = Claims::standard();
    let hh = hs_header("hs-a");
    let f = |claims: &Claims| forge_hs(&hh, &claims.text(), "hs-a");
    let fh = |header: &str| forge_hs(header, &std.text(), "hs-a");
    let mut b = Builder {
        prefix: "F",
        accept: "signed",
        cases: Vec::new(),
    };

    // Step 1.
    b.fail(
        "too_large: 8193 bytes, refused before decoding",
        &k,
        format!("{h}.{c}.{sig}{}", "A".repeat(8193 - good.len())),
        "too_large",
    );
    b.fail(
        "too_large: not even a token, 9000 bytes",
        &k,
        "{".repeat(9000),
        "too_large",
    );
    // Step 2.
    b.fail("two segments", &k, format!("{h}.{c}"), "malformed");
    b.fail("four segments", &k, format!("{good}.{sig}"), "malformed");
    b.fail(
        "empty signature segment (alg none style)",
        &k,
        format!("{h}.{c}."),
        "malformed",
    );
    b.fail("padded base64", &k, format!("{good}="), "malformed");
    b.fail(
        "standard-alphabet character",
        &k,
        format!("{h}.{c}.{}+", &sig[..sig.len() - 1]),
        "malformed",
    );
    b.fail(
        "surrounding whitespace",
        &k,
        format!(" {good}"),
        "malformed",
    );
    b.fail(
        "segment length 1 mod 4",
        &k,
        format!("{h}.{c}A.{sig}"),
        "malformed",
    );
    let last = sig.chars().last().expect("non-empty");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let flipped = alphabet
        .chars()
        .nth(alphabet.find(last).expect("base64url") ^ 1)
        .expect("in range");
    b.fail(
        "non-canonical base64url (unused bits set)",
        &k,
        format!("{input}.{}{flipped}", &sig[..sig.len() - 1]),
        "malformed",
    );
    // Steps 3-4.
    b.fail("header is not JSON", &k, fh("alg=HS256"), "malformed");
    b.fail(
        "typ JWT instead of tessera+jwt",
        &k,
        fh(r#"{"alg":"HS256","typ":"JWT","kid":"hs-a"}"#),
        "malformed",
    );
    b.fail(
        "typ missing",
        &k,
        fh(r#"{"alg":"HS256","kid":"hs-a"}"#),
        "malformed",
    );
    b.fail(
        "typ in another case",
        &k,
        fh(r#"{"alg":"HS256","typ":"Tessera+JWT","kid":"hs-a"}"#),
        "malformed",
    );
    b.fail(
        "crit header member",
        &k,
        fh(r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs-a","crit":["exp"]}"#),
        "malformed",
    );
    b.fail(
        "embedded jwk header member",
        &k,
        fh(&format!(
            r#"{{"alg":"HS256","typ":"tessera+jwt","kid":"hs-a","jwk":{{"kty":"oct","k":"{}"}}}}"#,
            b64(hs_secret("attacker"))
        )),
        "malformed",
    );
    b.fail("jku header member (never fetched)", &k, fh(r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs-a","jku":"https://attacker.example/jwks.json"}"#), "malformed");
    b.fail("x5u header member", &k, fh(r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs-a","x5u":"https://attacker.example/cert.pem"}"#), "malformed");
    b.fail(
        "duplicate header member",
        &k,
        fh(r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs-a","alg":"HS256"}"#),
        "malformed",
    );
    b.fail(
        "kid is not a string",
        &k,
        fh(r#"{"alg":"HS256","typ":"tessera+jwt","kid":["hs-a"]}"#),
        "malformed",
    );
    b.fail(
        "header with a UTF-8 BOM",
        &k,
        fh(&format!("\u{feff}{hh}")),
        "malformed",
    );
    let utf16: Vec<u8> = hh.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    b.fail(
        "header in UTF-16LE",
        &k,
        forge_hs_bytes(&utf16, std.text().as_bytes(), &hs_secret("hs-a")),
        "malformed",
    );
    // Step 5.
    b.fail(
        "unknown kid",
        &k,
        forge_hs(&hs_header("hs-z"), &std.text(), "hs-a"),
        "unknown_key",
    );
    b.fail(
        "kid differs only in case",
        &k,
        forge_hs(&hs_header("HS-A"), &std.text(), "hs-a"),
        "unknown_key",
    );
    let retired = set(vec![hs("hs-b")], Some("hs-b"));
    b.fail(
        "rotation: token from a retired key",
        &retired,
        good.clone(),
        "unknown_key",
    );
    // Step 6.
    for alg in [
        "none", "None", "NONE", "nOnE", "HS512", "RS256", "ES256", "hs256", " HS256",
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"tessera+jwt","kid":"hs-a"}}"#);
        b.fail(
            &format!("alg {alg:?} on an HS256 key"),
            &k,
            fh(&header),
            "unsupported_algorithm",
        );
    }
    b.fail(
        "alg none spelled with a JSON escape",
        &k,
        fh(r#"{"alg":"\u006eone","typ":"tessera+jwt","kid":"hs-a"}"#),
        "unsupported_algorithm",
    );
    let ed_public = *mixed
        .get("ed-a")
        .expect("ed-a")
        .ed25519_public_key()
        .expect("EdDSA");
    let confused = forge_hs_bytes(
        hs_header("ed-a").as_bytes(),
        std.text().as_bytes(),
        &ed_public,
    );
    b.fail(
        "HS256 header on an Ed25519 kid, MACed with the public key",
        &mixed,
        confused,
        "unsupported_algorithm",
    );
    b.fail(
        "EdDSA header on an HS256 kid",
        &mixed,
        forge_ed(&ed_header("hs-a"), &std.text(), "ed-a"),
        "unsupported_algorithm",
    );
    // Step 7.
    let mut raw_sig = URL_SAFE_NO_PAD.decode(sig).expect("base64url");
    raw_sig[0] ^= 0x01;
    b.fail(
        "one flipped signature bit",
        &k,
        format!("{input}.{}", b64(&raw_sig)),
        "bad_signature",
    );
    b.fail(
        "truncated signature",
        &k,
        format!("{input}.{}", b64(&raw_sig[..16])),
        "bad_signature",
    );
    b.fail(
        "signed with another secret under the same kid",
        &k,
        forge_hs(&hh, &std.text(), "attacker"),
        "bad_signature",
    );
    b.fail(
        "weak secret \"secret\"",
        &k,
        forge_hs_bytes(hh.as_bytes(), std.text().as_bytes(), b"secret"),
        "bad_signature",
    );
    let altered = b64(std.clone().set("sub", "\"user:7\"").text());
    b.fail(
        "claims altered under the original signature",
        &k,
        format!("{h}.{altered}.{sig}"),
        "bad_signature",
    );
    b.fail(
        "EdDSA all-zero signature",
        &ke,
        format!(
            "{}.{}",
            forge_ed(&ed_header("ed-a"), &std.text(), "ed-a")
                .rsplit_once('.')
                .expect("3")
                .0,
            b64([0u8; 64])
        ),
        "bad_signature",
    );
    b.fail(
        "EdDSA signature by another key under the same kid",
        &ke,
        forge_ed(&ed_header("ed-a"), &std.text(), "attacker"),
        "bad_signature",
    );
    // Step 8.
    b.fail(
        "exp as a float",
        &k,
        f(&std.clone().set("exp", &format!("{}.0", NOW + 300))),
        "malformed",
    );
    b.fail(
        "exp in exponent notation",
        &k,
        f(&std.clone().set("exp", "1.7900003e9")),
        "malformed",
    );
    b.fail(
        "exp as a string",
        &k,
        f(&std.clone().set("exp", &format!("\"{}\"", NOW + 300))),
        "malformed",
    );
    b.fail(
        "negative iat",
        &k,
        f(&std.clone().set("iat", "-1")),
        "malformed",
    );
    b.fail(
        "exp overflowing 64 bits",
        &k,
        f(&std.clone().set("exp", "18446744073709551616")),
        "malformed",
    );
    b.fail(
        "exp past year 9999",
        &k,
        f(&std.clone().set("exp", "253402300800")),
        "malformed",
    );
    b.fail(
        "iat missing",
        &k,
        f(&std.clone().remove("iat")),
        "malformed",
    );
    b.fail(
        "exp missing",
        &k,
        f(&std.clone().remove("exp")),
        "malformed",
    );
    b.fail(
        "jti missing",
        &k,
        f(&std.clone().remove("jti")),
        "malformed",
    );
    b.fail(
        "dat missing",
        &k,
        f(&std.clone().remove("dat")),
        "malformed",
    );
    b.fail(
        "unknown claim",
        &k,
        f(&std.clone().set("admin", "true")),
        "malformed",
    );
    b.fail(
        "null nbf",
        &k,
        f(&std.clone().set("nbf", "null")),
        "malformed",
    );
    b.fail(
        "sub is a number",
        &k,
        f(&std.clone().set("sub", "42")),
        "malformed",
    );
    b.fail(
        "exp not after iat",
        &k,
        f(&std.clone().set("exp", &NOW.to_string())),
        "malformed",
    );
    b.fail(
        "duplicate claim (exp twice)",
        &k,
        f(&std.clone().push_raw("exp", &(NOW + 80_000).to_string())),
        "malformed",
    );
    b.fail(
        "duplicate member inside dat",
        &k,
        f(&std.clone().set("dat", r#"{"qty":25,"qty":2500}"#)),
        "malformed",
    );
    b.fail(
        "NaN literal in dat",
        &k,
        f(&std.clone().set("dat", r#"{"qty":NaN}"#)),
        "malformed",
    );
    b.fail(
        "number out of binary64 range in dat (1e400)",
        &k,
        f(&std.clone().set("dat", r#"{"qty":25,"extra":1e400}"#)),
        "malformed",
    );
    b.fail(
        "integer of 400 digits in dat",
        &k,
        f(&std.clone().set(
            "dat",
            &format!(r#"{{"qty":25,"extra":{}}}"#, "9".repeat(400)),
        )),
        "malformed",
    );
    b.fail(
        "number out of range nested in dat",
        &k,
        f(&std
            .clone()
            .set("dat", r#"{"qty":25,"extra":[1,{"x":-1e999}]}"#)),
        "malformed",
    );
    b.fail(
        "lone surrogate escape in dat",
        &k,
        f(&std.clone().set("dat", r#"{"note":"\ud800"}"#)),
        "malformed",
    );
    let mut invalid_utf8 = std.text().into_bytes();
    let at = invalid_utf8.iter().position(|&c| c == b'W').expect("WH-01");
    invalid_utf8[at] = 0xC0; // an overlong-encoding lead byte: never valid UTF-8
    b.fail(
        "invalid UTF-8 in a claim string",
        &k,
        forge_hs_bytes(hh.as_bytes(), &invalid_utf8, &hs_secret("hs-a")),
        "malformed",
    );
    b.fail(
        "claims with a UTF-8 BOM",
        &k,
        forge_hs_bytes(
            hh.as_bytes(),
            format!("\u{feff}{}", std.text()).as_bytes(),
            &hs_secret("hs-a"),
        ),
        "malformed",
    );
    // Steps 9-12.
    b.fail_at(
        "expired: now = exp + leeway",
        &k,
        NOW + 300 + 30,
        AUD,
        Some(SUB),
        good.clone(),
        "expired",
    );
    b.fail_at(
        "expired an hour ago",
        &k,
        NOW + 3600,
        AUD,
        Some(SUB),
        good.clone(),
        "expired",
    );
    b.fail(
        "nbf beyond the leeway",
        &k,
        f(&std.clone().set("nbf", &(NOW + 31).to_string())),
        "not_yet_valid",
    );
    b.fail(
        "iat in the future",
        &k,
        f(&std
            .clone()
            .set("iat", &(NOW + 100).to_string())
            .set("exp", &(NOW + 400).to_string())),
        "not_yet_valid",
    );
    b.fail(
        "lifetime one second over 24 h",
        &k,
        f(&std.clone().set("exp", &(NOW + 86_401).to_string())),
        "lifetime_too_long",
    );
    b.fail(
        "never-expiring: exp at year 9999",
        &k,
        f(&std.clone().set("exp", "253402300799")),
        "lifetime_too_long",
    );
    // Steps 13-15.
    b.fail(
        "another issuer",
        &k,
        f(&std.clone().set("iss", "\"inventree-staging\"")),
        "wrong_issuer",
    );
    b.fail(
        "issuer as an array",
        &k,
        f(&std.clone().set("iss", "[\"inventree\"]")),
        "wrong_issuer",
    );
    b.fail(
        "issuer missing",
        &k,
        f(&std.clone().remove("iss")),
        "wrong_issuer",
    );
    b.fail(
        "issuer with a trailing NUL",
        &k,
        f(&std.clone().set("iss", "\"inventree\\u0000\"")),
        "wrong_issuer",
    );
    b.fail_at(
        "token for another action of the same plugin",
        &k,
        NOW,
        "plugin:stock-tools/action:print",
        Some(SUB),
        good.clone(),
        "wrong_audience",
    );
    b.fail(
        "audience as an array holding the right action",
        &k,
        f(&std.clone().set("aud", &format!("[\"{AUD}\"]"))),
        "wrong_audience",
    );
    b.fail(
        "audience is a prefix of the action",
        &k,
        f(&std
            .clone()
            .set("aud", "\"plugin:stock-tools/action:trans\"")),
        "wrong_audience",
    );
    b.fail(
        "audience missing",
        &k,
        f(&std.clone().remove("aud")),
        "wrong_audience",
    );
    b.fail_at(
        "another principal's token",
        &k,
        NOW,
        AUD,
        Some("user:7"),
        good.clone(),
        "wrong_subject",
    );
    b.fail(
        "subject expected, token has none",
        &k,
        f(&std.clone().remove("sub")),
        "wrong_subject",
    );
    // Key loading.
    let short = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{}"}}],"active":"hs-a"}}"#,
        b64(&hs_secret("hs-a")[..31])
    );
    b.bad_key_set(
        "invalid_key: a 31-byte HS256 secret is refused at load",
        &short,
        good.clone(),
    );
    let no_alg = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"hs-a","k":"{}"}}],"active":"hs-a"}}"#,
        b64(hs_secret("hs-a"))
    );
    b.bad_key_set("invalid_key: a key without alg", &no_alg, good.clone());
    let hs_k = b64(hs_secret("hs-a"));
    for (description, doc) in [
        (
            "invalid_key: \"use\": null is not an absent use",
            format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":null,"alg":"HS256","k":"{hs_k}"}}],"active":"hs-a"}}"#
            ),
        ),
        (
            "invalid_key: \"active\": null names no key",
            format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}}],"active":null}}"#
            ),
        ),
        (
            "invalid_key: one secret as an HS256 key and an A256GCM key",
            format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}},{{"kty":"oct","kid":"enc-a","use":"enc","alg":"A256GCM","k":"{hs_k}"}}],"active":"hs-a"}}"#
            ),
        ),
    ] {
        b.bad_key_set(description, &doc, good.clone());
    }
    // Step 15, anonymous caller.
    b.fail_at(
        "anonymous caller, token minted for a subject",
        &k,
        NOW,
        AUD,
        None,
        good.clone(),
        "wrong_subject",
    );
    b.anonymous();
    // Step 3: enc belongs to a sealed token's header only.
    b.fail(
        "signed token's header with an enc member",
        &k,
        fh(r#"{"alg":"HS256","typ":"tessera+jwt","kid":"hs-a","enc":"A256GCM"}"#),
        "malformed",
    );
    // Step 8: fpr is 1 to 128 bytes; jti is a string.
    b.fail(
        "empty fpr",
        &k,
        f(&std.clone().set("fpr", "\"\"")),
        "malformed",
    );
    b.fail(
        "fpr of 129 bytes",
        &k,
        f(&std.clone().set("fpr", &format!("\"{}\"", "v".repeat(129)))),
        "malformed",
    );
    b.fail(
        "jti is a number",
        &k,
        f(&std.clone().set("jti", "1")),
        "malformed",
    );
    // Step 7: x is not checked at load; a key whose x is no curve point verifies nothing.
    let not_a_point = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"ed-a","use":"sig","alg":"EdDSA","x":"{}"}}]}}"#,
        b64([0xffu8; 32])
    );
    b.push(
        "Ed25519 x that is not a curve point: loads, verifies nothing",
        raw(&not_a_point),
        NOW,
        AUD,
        Some(SUB),
        forge_ed(&ed_header("ed-a"), &std.text(), "ed-a"),
        Some("bad_signature"),
        None,
    );
    // Key loading (§3.2, §3.4).
    let ed_x = b64(ed_public);
    let other_x = b64(Ed25519KeyPair::from_seed_unchecked(&ed_seed("ed-b"))
        .expect("seed")
        .public_key());
    let ed_d = b64(ed_seed("ed-a"));
    let enc_k = b64(bytes32("tessera test vector A256GCM key enc-a"));
    for (description, doc) in [
        (
            "invalid_key: two keys with one kid",
            format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}},{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{ed_d}"}}],"active":"hs-a"}}"#
            ),
        ),
        (
            "invalid_key: a JWK member tessera does not define",
            format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}","key_ops":["sign"]}}],"active":"hs-a"}}"#
            ),
        ),
        (
            "invalid_key: an Ed25519 d that does not derive x",
            format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"ed-a","use":"sig","alg":"EdDSA","x":"{other_x}","d":"{ed_d}"}}],"active":"ed-a"}}"#
            ),
        ),
        (
            "invalid_key: active names a verify-only Ed25519 key",
            format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"ed-a","use":"sig","alg":"EdDSA","x":"{ed_x}"}}],"active":"ed-a"}}"#
            ),
        ),
        (
            "invalid_key: active_sealing names an HS256 key",
            format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}},{{"kty":"oct","kid":"enc-a","use":"enc","alg":"A256GCM","k":"{enc_k}"}}],"active_sealing":"hs-a"}}"#
            ),
        ),
        (
            "invalid_key: an Ed25519 x of small order (the identity point)",
            ed_public_set(&small_order_x(1, false)),
        ),
        (
            "invalid_key: an Ed25519 x of small order (order 8, sign bit set)",
            ed_public_set(&small_order_x(8, true)),
        ),
        (
            "invalid_key: an Ed25519 x of small order in a non-canonical encoding (y = p + 1)",
            ed_public_set(&small_order_x(0, false)),
        ),
        (
            "invalid_key: an HS256 secret that is the bytes of an Ed25519 x of the set",
            format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"ed-a","use":"sig","alg":"EdDSA","x":"{ed_x}"}},{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{ed_x}"}}],"active":"hs-a"}}"#
            ),
        ),
        (
            "invalid_key: an HS256 secret that is the base64url text of an Ed25519 x of the set",
            format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{}"}},{{"kty":"OKP","crv":"Ed25519","kid":"ed-a","use":"sig","alg":"EdDSA","x":"{ed_x}"}}],"active":"hs-a"}}"#,
                b64(ed_x.as_bytes())
            ),
        ),
    ] {
        b.bad_key_set(description, &doc, good.clone());
    }
    // §2.4: claims deeper than 64 are refused by every verifier.
    b.fail(
        "claims nested 65 deep, one more than a verifier accepts",
        &k,
        f(&std.clone().set("dat", &nested(64))),
        "malformed",
    );
    // Step 11 on its own: nbf within the leeway, iat beyond it.
    b.fail(
        "iat in the future with an earlier nbf that has passed (step 11)",
        &k,
        f(&std
            .clone()
            .set("iat", &(NOW + 100).to_string())
            .set("nbf", &NOW.to_string())
            .set("exp", &(NOW + 400).to_string())),
        "not_yet_valid",
    );
    b.fail(
        "iat written -0",
        &k,
        f(&std.clone().set("iat", "-0")),
        "malformed",
    );
    b.fail(
        "exp with a leading zero",
        &k,
        f(&std.clone().set("exp", &format!("0{}", NOW + 300))),
        "malformed",
    );
    // §2.3: fpr is counted in UTF-8 bytes of the unescaped string.
    b.fail(
        "fpr of 43 characters that are 129 UTF-8 bytes (\u{20ac} each)",
        &k,
        f(&std
            .clone()
            .set("fpr", &format!("\"{}\"", "\u{20ac}".repeat(43)))),
        "malformed",
    );
    b.bad_key_set(
        "invalid_key: \"active_sealing\": null names no key",
        &format!(
            r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}}],"active":"hs-a","active_sealing":null}}"#
        ),
        good.clone(),
    );
    // §3.4: a key-set document follows the JSON rules of §2.4 (given as text: the vector file
    // itself must not repeat a member name).
    b.bad_key_set_text(
        "invalid_key: a JWK that repeats its member k (two different secrets)",
        &format!(
            r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}","k":"{}"}}],"active":"hs-a"}}"#,
            b64(hs_secret("hs-b"))
        ),
        good.clone(),
    );
    b.bad_key_set_text(
        "invalid_key: a key set that repeats its member active",
        &format!(
            r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}}],"active":"hs-a","active":"hs-a"}}"#
        ),
        good.clone(),
    );
    // §2.4 rule 5, steps 3 and 8, §3.4: the header, the claims and a key set are JSON
    // objects. A reader that fills a record from an array of its values in order (serde's
    // derived structs do) must not accept these.
    b.fail(
        "header is a JSON array of the values alg, typ, kid",
        &k,
        fh(r#"["HS256","tessera+jwt","hs-a"]"#),
        "malformed",
    );
    b.fail(
        "claims are a JSON array of the values iss, aud, sub, iat, nbf, exp, jti, fpr, dat",
        &k,
        forge_hs(
            &hh,
            &format!(
                r#"["{ISS}","{AUD}","{SUB}",{NOW},{NOW},{},"{JTI}","f",{REFERENCE}]"#,
                NOW + 300
            ),
            "hs-a",
        ),
        "malformed",
    );
    b.bad_key_set_text(
        "invalid_key: a key set written as a JSON array of the values keys, active",
        &format!(
            r#"[[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}}],"hs-a"]"#
        ),
        good.clone(),
    );
    // §5.1: a clock past the last time a claim can hold sees every token expired.
    b.fail_at(
        "now one second past 9999-12-31T23:59:59Z: the reference token has long expired",
        &k,
        MAX_TIME + 1,
        AUD,
        Some(SUB),
        good.clone(),
        "expired",
    );
    // §3.1: an Ed25519 signature whose S is not reduced (S + L, the same signature for a
    // lenient verifier) is refused.
    let ed_good = mint(&ke, NOW, Some(SUB), REFERENCE, 300);
    let (ed_input, ed_sig) = ed_good.rsplit_once('.').expect("three segments");
    let mut sig_bytes = URL_SAFE_NO_PAD.decode(ed_sig).expect("base64url");
    add_group_order(&mut sig_bytes[32..]);
    b.fail(
        "Ed25519 signature with S + L instead of S (S >= L, non-canonical)",
        &ke,
        format!("{ed_input}.{}", b64(&sig_bytes)),
        "bad_signature",
    );
    // §2.2, §2.4: the header is flat; any nesting, however deep, is malformed, never a crash.
    let deep_kid = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    b.fail(
        "header whose kid is nested 2000 arrays deep",
        &k,
        fh(&format!(
            r#"{{"alg":"HS256","typ":"tessera+jwt","kid":{deep_kid}}}"#
        )),
        "malformed",
    );
    b.fail(
        "claims nested 2501 deep (dat 2500 arrays), far beyond the 64 levels",
        &k,
        f(&std
            .clone()
            .set("dat", &format!("{}{}", "[".repeat(2500), "]".repeat(2500)))),
        "malformed",
    );
    // §3.4: nesting, count and size caps of a key set.
    b.bad_key_set_text(
        "invalid_key: a key set whose keys member is nested 5000 arrays deep",
        &format!(r#"{{"keys":{}{}}}"#, "[".repeat(5000), "]".repeat(5000)),
        good.clone(),
    );
    b.bad_key_set(
        "invalid_key: a key set of 1025 keys, one more than the cap",
        "null",
        forge_hs(&hs_header("k0"), &std.text(), "hs-a"),
    );
    b.keys_build(many_keys(1025, None));
    b.bad_key_set(
        "invalid_key: a key set of one key, 1048577 bytes long (one byte over the cap)",
        "null",
        forge_hs(&hs_header("k0"), &std.text(), "hs-a"),
    );
    b.keys_build(many_keys(1, Some(1024 * 1024 + 1)));
    // §5.1: options other than the defaults.
    b.fail_at(
        "leeway 0: expired at exp",
        &k,
        NOW + 300,
        AUD,
        Some(SUB),
        good.clone(),
        "expired",
    );
    b.options(Options {
        leeway: Some(0),
        ..Options::default()
    });
    b.fail_at(
        "leeway 300: expired 300 s after exp",
        &k,
        NOW + 600,
        AUD,
        Some(SUB),
        good.clone(),
        "expired",
    );
    b.options(Options {
        leeway: Some(300),
        ..Options::default()
    });
    b.fail(
        "leeway 0: nbf one second in the future",
        &k,
        f(&std
            .clone()
            .set("nbf", &(NOW + 1).to_string())
            .set("exp", &(NOW + 600).to_string())),
        "not_yet_valid",
    );
    b.options(Options {
        leeway: Some(0),
        ..Options::default()
    });
    b.fail(
        "maximum lifetime 599 s: a 600 s token",
        &k,
        f(&std.clone().set("exp", &(NOW + 600).to_string())),
        "lifetime_too_long",
    );
    b.options(Options {
        max_lifetime: Some(599),
        ..Options::default()
    });
    b.fail(
        "length cap one byte below the token's length",
        &k,
        good.clone(),
        "too_large",
    );
    b.options(Options {
        max_len: Some(good.len() - 1),
        ..Options::default()
    });
    for (desc, options) in [
        (
            "invalid_config: leeway 301 s, above the largest",
            Options {
                leeway: Some(301),
                ..Options::default()
            },
        ),
        (
            "invalid_config: maximum lifetime 0",
            Options {
                max_lifetime: Some(0),
                ..Options::default()
            },
        ),
        (
            "invalid_config: length cap 0",
            Options {
                max_len: Some(0),
                ..Options::default()
            },
        ),
    ] {
        b.fail(desc, &k, good.clone(), "invalid_config");
        b.options(options);
    }
    // §2.2: an alg outside the table is unsupported_algorithm (step 6), a non-string alg
    // malformed (step 3).
    b.fail(
        "alg \"\" (an empty string) on an HS256 key",
        &k,
        fh(r#"{"alg":"","typ":"tessera+jwt","kid":"hs-a"}"#),
        "unsupported_algorithm",
    );
    b.fail(
        "alg 256, a number",
        &k,
        fh(r#"{"alg":256,"typ":"tessera+jwt","kid":"hs-a"}"#),
        "malformed",
    );
    // §3.4: "active" and "active_sealing" name a kid of the set. Here they hold the key's own
    // secret instead, as if pasted into the wrong member (a key_set fuzz finding: the refusal
    // quoted it); the code is invalid_key, and a message must not repeat the name (§9).
    for member in ["active", "active_sealing"] {
        b.bad_key_set(
            &format!(
                "invalid_key: \"{member}\" names no kid of the set (it holds the key's own k)"
            ),
            &format!(
                r#"{{"keys":[{{"kty":"oct","kid":"hs-a","use":"sig","alg":"HS256","k":"{hs_k}"}}],"{member}":"{hs_k}"}}"#
            ),
            good.clone(),
        );
    }
    b.cases
}

/// Adds the Ed25519 group order L = 2^252 + 27742317777372353535851937790883648493 to the
/// 32-byte little-endian scalar `s` (which stays below 2^256: s < L < 2^253).
fn add_group_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x10,
    ];
    let mut carry = 0u16;
    for (byte, l) in s.iter_mut().zip(L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
}

/// A key set of one verify-only Ed25519 key whose `x` is `x` (base64url).
fn ed_public_set(x: &str) -> String {
    format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"ed-a","use":"sig","alg":"EdDSA","x":"{x}"}}]}}"#
    )
}

/// The base64url encoding of a small-order Ed25519 point: `order` 1 (the identity, y = 1), 8
/// (y = 0x05fc…e826) or 0 for the non-canonical encoding y = p + 1 of the identity; with the
/// sign bit set or not.
fn small_order_x(order: u8, sign: bool) -> String {
    let mut y = match order {
        1 => {
            let mut y = [0u8; 32];
            y[0] = 1;
            y
        }
        8 => [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
            0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88,
            0x6d, 0x53, 0xfc, 0x05,
        ],
        _ => {
            // p + 1 = 2^255 - 18, little-endian.
            let mut y = [0xffu8; 32];
            y[0] = 0xee;
            y[31] = 0x7f;
            y
        }
    };
    if sign {
        y[31] |= 0x80;
    }
    b64(y)
}

fn enc(kid: &str) -> Key {
    Key::a256gcm(
        Kid::new(kid).expect("literal kid"),
        &bytes32(&format!("tessera test vector A256GCM key {kid}")),
    )
    .expect("32-byte key")
}

fn nonce(n: u8) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[..4].copy_from_slice(b"tvec");
    iv[11] = n;
    iv
}

fn seal_tok(keys: &Arc<KeySet>, iat: u64, dat: &str, n: u8) -> String {
    let minter = Minter::new(keys.clone(), ISS).with_clock(Arc::new(FixedClock(iat)));
    let payload = raw(dat);
    minter
        .token(AUD)
        .subject(SUB)
        .payload(&*payload)
        .dangerous_seal_with(JTI, nonce(n))
        .expect("vector tokens seal")
}

/// A JWE compact token with any header text, sealed with raw key bytes.
fn forge_sealed(header: &str, claims: &str, key: &[u8], iv: &[u8]) -> String {
    let h = b64(header);
    let aead = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key).expect("32-byte key"),
    );
    let mut body = claims.as_bytes().to_vec();
    let mut n = [0u8; 12];
    n.copy_from_slice(&iv[..12]);
    let tag = aead
        .seal_in_place_separate_tag(
            ring::aead::Nonce::assume_unique_for_key(n),
            ring::aead::Aad::from(h.as_bytes()),
            &mut body,
        )
        .expect("seal");
    format!("{h}..{}.{}.{}", b64(iv), b64(&body), b64(tag.as_ref()))
}

fn flip(token: &str, segment: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut raw = URL_SAFE_NO_PAD.decode(&parts[segment]).expect("base64url");
    raw[0] ^= 0x01;
    parts[segment] = b64(&raw);
    parts.join(".")
}

/// Sealed tokens (JWE `dir` + `A256GCM`): successes and refusals.
pub(crate) fn sealed_cases() -> Vec<Case> {
    let k = sealing_set(vec![hs("hs-a"), enc("enc-a")], Some("hs-a"), Some("enc-a"));
    let enc_secret = bytes32("tessera test vector A256GCM key enc-a");
    let std = Claims::standard();
    let sealed_header = r#"{"alg":"dir","enc":"A256GCM","typ":"tessera+jwt","kid":"enc-a"}"#;
    let good = seal_tok(&k, NOW, REFERENCE, 1);
    let mut b = Builder {
        prefix: "SE",
        accept: "sealed",
        cases: Vec::new(),
    };
    b.ok(
        "sealed reference payload",
        &k,
        Some(SUB),
        good.clone(),
        REFERENCE,
    );
    let rotated = sealing_set(
        vec![hs("hs-a"), enc("enc-a"), enc("enc-b")],
        Some("hs-a"),
        Some("enc-b"),
    );
    b.ok(
        "rotation: token sealed with the previous sealing key",
        &rotated,
        Some(SUB),
        good.clone(),
        REFERENCE,
    );
    b.ok(
        "rotation: token sealed with the new sealing key",
        &rotated,
        Some(SUB),
        seal_tok(&rotated, NOW, REFERENCE, 2),
        REFERENCE,
    );
    b.fail("tag changed", &k, flip(&good, 4), "bad_signature");
    b.fail("ciphertext changed", &k, flip(&good, 3), "bad_signature");
    b.fail("IV changed", &k, flip(&good, 2), "bad_signature");
    let reordered = r#"{"typ":"tessera+jwt","alg":"dir","enc":"A256GCM","kid":"enc-a"}"#;
    b.fail(
        "protected header re-serialized (AAD differs)",
        &k,
        format!("{}.{}", b64(reordered), good.split_once('.').expect("5").1),
        "bad_signature",
    );
    b.fail(
        "non-empty encrypted-key segment",
        &k,
        good.replacen("..", ".AAAA.", 1),
        "malformed",
    );
    let other_secret = bytes32("attacker");
    b.fail(
        "sealed with another key under the same kid",
        &k,
        forge_sealed(sealed_header, &std.text(), &other_secret, &nonce(3)),
        "bad_signature",
    );
    b.fail(
        "enc A128GCM",
        &k,
        forge_sealed(
            r#"{"alg":"dir","enc":"A128GCM","typ":"tessera+jwt","kid":"enc-a"}"#,
            &std.text(),
            &enc_secret,
            &nonce(4),
        ),
        "unsupported_algorithm",
    );
    b.fail(
        "alg A256KW",
        &k,
        forge_sealed(
            r#"{"alg":"A256KW","enc":"A256GCM","typ":"tessera+jwt","kid":"enc-a"}"#,
            &std.text(),
            &enc_secret,
            &nonce(5),
        ),
        "unsupported_algorithm",
    );
    b.fail(
        "zip DEF (compression is not offered)",
        &k,
        forge_sealed(
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF","typ":"tessera+jwt","kid":"enc-a"}"#,
            &std.text(),
            &enc_secret,
            &nonce(6),
        ),
        "malformed",
    );
    b.fail(
        "sealed header without enc",
        &k,
        forge_sealed(
            r#"{"alg":"dir","typ":"tessera+jwt","kid":"enc-a"}"#,
            &std.text(),
            &enc_secret,
            &nonce(7),
        ),
        "malformed",
    );
    b.fail(
        "sealed header naming the HMAC key (sealed with its secret)",
        &k,
        forge_sealed(
            r#"{"alg":"dir","enc":"A256GCM","typ":"tessera+jwt","kid":"hs-a"}"#,
            &std.text(),
            &hs_secret("hs-a"),
            &nonce(8),
        ),
        "unsupported_algorithm",
    );
    b.fail(
        "sealed token, unknown kid",
        &k,
        forge_sealed(
            r#"{"alg":"dir","enc":"A256GCM","typ":"tessera+jwt","kid":"enc-z"}"#,
            &std.text(),
            &enc_secret,
            &nonce(9),
        ),
        "unknown_key",
    );
    b.fail(
        "16-byte IV",
        &k,
        forge_sealed(sealed_header, &std.text(), &enc_secret, &[9u8; 16]),
        "malformed",
    );
    b.fail_at(
        "sealed token expired",
        &k,
        NOW + 330,
        AUD,
        Some(SUB),
        good.clone(),
        "expired",
    );
    b.fail(
        "sealed claims with a duplicate member",
        &k,
        forge_sealed(
            sealed_header,
            &std.clone().push_raw("aud", "\"x\"").text(),
            &enc_secret,
            &nonce(10),
        ),
        "malformed",
    );
    let short = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"enc-a","use":"enc","alg":"A256GCM","k":"{}"}}]}}"#,
        b64(&enc_secret[..16])
    );
    b.bad_key_set("invalid_key: a 16-byte A256GCM key", &short, good.clone());
    // Route kinds: sealed where signed is expected, and the reverse; and "either".
    let signed = mint(&k, NOW, Some(SUB), REFERENCE, 300);
    b.accept = "signed";
    b.fail(
        "sealed token on a signed-only route",
        &k,
        good.clone(),
        "malformed",
    );
    let jws_on_enc = forge_hs_bytes(
        r#"{"alg":"HS256","typ":"tessera+jwt","kid":"enc-a"}"#.as_bytes(),
        std.text().as_bytes(),
        &enc_secret,
    );
    b.fail(
        "signed token naming the sealing key (MACed with its bytes)",
        &k,
        jws_on_enc,
        "unsupported_algorithm",
    );
    b.accept = "sealed";
    b.fail(
        "signed token on a sealed-only route",
        &k,
        signed.clone(),
        "malformed",
    );
    b.accept = "either";
    b.ok(
        "either: a sealed token",
        &k,
        Some(SUB),
        good.clone(),
        REFERENCE,
    );
    b.ok("either: a signed token", &k, Some(SUB), signed, REFERENCE);
    b.accept = "sealed";
    let (without_tag, _) = good.rsplit_once('.').expect("5");
    b.fail(
        "15-byte tag",
        &k,
        format!("{without_tag}.{}", b64([7u8; 15])),
        "malformed",
    );
    let parts: Vec<&str> = good.split('.').collect();
    b.fail(
        "empty ciphertext segment",
        &k,
        format!("{}..{}..{}", parts[0], parts[2], parts[4]),
        "malformed",
    );
    b.fail(
        "sealed header with typ JWT",
        &k,
        forge_sealed(
            r#"{"alg":"dir","enc":"A256GCM","typ":"JWT","kid":"enc-a"}"#,
            &std.text(),
            &enc_secret,
            &nonce(11),
        ),
        "malformed",
    );
    b.cases
}

/// The vector files: (file name, JSON text).
pub(crate) fn files() -> Vec<(&'static str, String)> {
    let render = |name: &str, description: &str, tests: &[Case]| {
        let mut text = serde_json::to_string_pretty(&File {
            name,
            description,
            tests,
        })
        .expect("vector cases serialize");
        text.push('\n');
        text
    };
    vec![
        // spec §3.7, derive_cases.rs
        ("derive.json", derive_cases::file()),
        (
            "hs256.json",
            render(
                "hs256",
                "Valid HS256 tokens, rotation included.",
                &hs256_cases(),
            ),
        ),
        (
            "eddsa.json",
            render("eddsa", "Valid EdDSA (Ed25519) tokens.", &eddsa_cases()),
        ),
        (
            "failures.json",
            render(
                "failures",
                "Tokens and key sets refused, one or more per error code and per RFC 8725 attack.",
                &failure_cases(),
            ),
        ),
        (
            "sealed.json",
            render(
                "sealed",
                "Sealed tokens (JWE compact, dir + A256GCM) and route kinds.",
                &sealed_cases(),
            ),
        ),
        ("mint.json", {
            let mut text = serde_json::to_string_pretty(&MintFile {
                name: "mint",
                description: "Minting: inputs with a fixed now, jti and IV, and the exact token or the refusal.",
                tests: &mint_cases(),
            })
            .expect("mint cases serialize");
            text.push('\n');
            text
        }),
    ]
}

// ---- mint vectors (spec §2.6, §4): inputs with a fixed now, jti and IV → the exact token ----

/// One mint case, in the field order of `spec/vectors/README.md`.
#[derive(Clone, Serialize)]
pub(crate) struct MintCase {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) keys: Box<RawValue>,
    /// "signed" or "sealed".
    pub(crate) kind: &'static str,
    pub(crate) now: u64,
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) sub: Option<String>,
    pub(crate) ttl: u64,
    pub(crate) nbf: Option<u64>,
    pub(crate) fpr: Option<String>,
    pub(crate) jti: String,
    /// The 12-byte IV of a sealed token, base64url; `null` for a signed one.
    pub(crate) iv: Option<String>,
    /// The payload as JSON text; the minter is handed the value it denotes.
    #[serde(rename = "dat-text")]
    pub(crate) dat_text: String,
    /// Inputs given as the JSON text of a string, replacing the member of the same name: for
    /// strings a vector file cannot hold (a lone surrogate). Written only when set.
    #[serde(rename = "text-inputs", skip_serializing_if = "Option::is_none")]
    pub(crate) text_inputs: Option<std::collections::BTreeMap<&'static str, String>>,
    /// Minter options other than the defaults: written only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<Options>,
    /// The claims JSON exactly as minted; `null` for a failure case.
    pub(crate) claims: Option<String>,
    /// The exact token; `null` for a failure case.
    pub(crate) token: Option<String>,
    #[serde(rename = "expect-fail")]
    pub(crate) expect_fail: bool,
    #[serde(rename = "expected-code")]
    pub(crate) expected_code: Option<&'static str>,
}

/// Runs one mint case (as it reads in a vector file) through the Rust minter:
/// `Some(Ok(token))`, `Some(Err(code))`, or `None` when an input is a string that Rust's `str`
/// cannot hold (a lone surrogate given in `text-inputs`).
pub(crate) fn mint_outcome(case: &serde_json::Value) -> Option<Result<String, String>> {
    let string = |name: &str| -> Option<Option<String>> {
        match case.get("text-inputs").and_then(|t| t.get(name)) {
            Some(text) => serde_json::from_str::<String>(text.as_str()?)
                .ok()
                .map(Some),
            None => Some(case[name].as_str().map(str::to_owned)),
        }
    };
    let (iss, aud, sub, fpr) = (
        string("iss")?,
        string("aud")?,
        string("sub")?,
        string("fpr")?,
    );
    let code = |e: tessera_protocol::Error| e.code().as_str().to_owned();
    let option = |name: &str| case.get("options").and_then(|o| o.get(name)?.as_u64());
    let run = || -> Result<String, String> {
        let keys = KeySet::from_json(&case["keys"].to_string()).map_err(code)?;
        let mut minter = Minter::new(Arc::new(keys), iss.clone().unwrap_or_default());
        if let Some(max) = option("max_lifetime") {
            minter = minter
                .with_max_lifetime(std::time::Duration::from_secs(max))
                .map_err(code)?;
        }
        if let Some(max) = option("max_len") {
            minter = minter.with_max_len(max as usize).map_err(code)?;
        }
        // The payload is handed over as the value of its text: a RawValue keeps every
        // literal (an integer beyond 64 bits included) for the minter to judge.
        let dat: Box<RawValue> = serde_json::from_str(case["dat-text"].as_str().unwrap())
            .expect("dat-text is JSON text");
        let aud = aud.clone().unwrap_or_default();
        let mut b = minter
            .token(&aud)
            .payload(&*dat)
            .ttl(std::time::Duration::from_secs(
                case["ttl"].as_u64().unwrap(),
            ))
            .issued_at(case["now"].as_u64().unwrap());
        if let Some(sub) = &sub {
            b = b.subject(sub);
        }
        if let Some(nbf) = case["nbf"].as_u64() {
            b = b.not_before(nbf);
        }
        if let Some(fpr) = &fpr {
            b = b.fingerprint(fpr);
        }
        let jti = case["jti"].as_str().unwrap();
        if case["kind"] == "sealed" {
            let iv = URL_SAFE_NO_PAD
                .decode(case["iv"].as_str().unwrap())
                .expect("base64url IV");
            b.dangerous_seal_with(jti, iv.try_into().expect("12-byte IV"))
                .map_err(code)
        } else {
            b.mint_with_jti(jti).map_err(code)
        }
    };
    Some(run())
}

struct MintBuilder {
    cases: Vec<MintCase>,
}

impl MintBuilder {
    /// The reference inputs: HS256 key hs-a, signed, the reference payload, ttl 300.
    fn base(desc: &str) -> MintCase {
        MintCase {
            name: String::new(),
            description: desc.to_owned(),
            keys: keys_json(&set(vec![hs("hs-a")], Some("hs-a"))),
            kind: "signed",
            now: NOW,
            iss: ISS.to_owned(),
            aud: AUD.to_owned(),
            sub: Some(SUB.to_owned()),
            ttl: 300,
            nbf: None,
            fpr: None,
            jti: JTI.to_owned(),
            iv: None,
            dat_text: REFERENCE.to_owned(),
            text_inputs: None,
            options: None,
            claims: None,
            token: None,
            expect_fail: false,
            expected_code: None,
        }
    }

    /// A case that mints; when `dat` is given, the claims must end with `"dat":` and it (the
    /// minted form of §2.6, written out by hand here).
    fn ok(&mut self, desc: &str, change: impl FnOnce(&mut MintCase), dat: Option<&str>) {
        let mut case = Self::base(desc);
        change(&mut case);
        case.name = format!("M-{}", self.cases.len() + 1);
        let value = serde_json::to_value(&case).expect("case serializes");
        let token = match mint_outcome(&value) {
            Some(Ok(token)) => token,
            other => panic!("{}: the Rust minter gives {other:?}", case.name),
        };
        // The claims: of the token itself, or of its signed twin for a sealed one (same
        // inputs, the set's active signing key).
        let signed = if case.kind == "sealed" {
            let mut twin = value;
            twin["kind"] = "signed".into();
            mint_outcome(&twin)
                .and_then(Result::ok)
                .expect("signed twin mints")
        } else {
            token.clone()
        };
        let claims = String::from_utf8(
            URL_SAFE_NO_PAD
                .decode(signed.split('.').nth(1).expect("three segments"))
                .expect("base64url"),
        )
        .expect("UTF-8 claims");
        if let Some(dat) = dat {
            assert!(
                claims.ends_with(&format!(r#""dat":{dat}}}"#)),
                "{}: minted {claims}, the spec's form is {dat}",
                case.name
            );
        }
        case.claims = Some(claims);
        case.token = Some(token);
        self.cases.push(case);
    }

    /// A case refused with `code`; the Rust minter must agree (unless it cannot be handed the
    /// inputs: a lone surrogate).
    fn fail(&mut self, desc: &str, change: impl FnOnce(&mut MintCase), code: &'static str) {
        let mut case = Self::base(desc);
        change(&mut case);
        case.name = format!("M-{}", self.cases.len() + 1);
        case.expect_fail = true;
        case.expected_code = Some(code);
        let value = serde_json::to_value(&case).expect("case serializes");
        match mint_outcome(&value) {
            None => {}
            Some(Err(got)) if got == code => {}
            other => panic!(
                "{}: expected {code}, the Rust minter gives {other:?}",
                case.name
            ),
        }
        self.cases.push(case);
    }
}

/// A text input: the JSON text of a string that holds a lone surrogate.
fn lone(
    name: &'static str,
    text: &str,
) -> Option<std::collections::BTreeMap<&'static str, String>> {
    Some(std::collections::BTreeMap::from([(name, text.to_owned())]))
}

/// All mint cases: successes (with the exact token) and refusals, with their order.
pub(crate) fn mint_cases() -> Vec<MintCase> {
    let mut b = MintBuilder { cases: Vec::new() };
    let beyond = "18446744073709551616";
    b.ok(
        "HS256, reference payload given with its members unsorted: written sorted",
        |_| {},
        Some(
            r#"{"location":"WH-01/A/3","mode":"transfer","note":"restock from supplier order PO-2231","part_id":1234,"qty":25}"#,
        ),
    );
    b.ok(
        "EdDSA, reference payload",
        |c| c.keys = keys_json(&set(vec![ed("ed-a")], Some("ed-a"))),
        None,
    );
    b.ok(
        "no subject, null payload",
        |c| {
            c.sub = None;
            c.dat_text = "null".to_owned();
        },
        Some("null"),
    );
    b.ok(
        "a not-before later than iat, and a fingerprint",
        |c| {
            c.nbf = Some(NOW + 60);
            c.fpr = Some("stock:1234:v7".to_owned());
        },
        None,
    );
    b.ok(
        "a not-before equal to iat is not written",
        |c| c.nbf = Some(NOW),
        None,
    );
    b.ok(
        "strings that need escapes, and some that must not be escaped",
        |c| {
            c.iss = "iss \"q\" \\ /".to_owned();
            c.aud = "plugin:x/action:\u{e9}\u{2028}".to_owned();
            c.sub = Some("user\t42\u{7f}".to_owned());
            c.fpr = Some("\u{1f}\u{0}".to_owned());
            c.dat_text = r#"["\"\\\/\b\f\n\r\t\u0000\u0001\u001f\u007f\u00e9\u2028\u2029\ud83d\ude9a","<>&'"]"#.to_owned();
        },
        Some("[\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\u{7f}\u{e9}\u{2028}\u{2029}\u{1f69a}\",\"<>&'\"]"),
    );
    b.ok(
        "numbers: integers exact, binary64 numbers in their one minted form",
        |c| {
            c.dat_text = "[0,-1,9007199254740993,18446744073709551615,-9223372036854775808,1.0,-0.0,0.1,1E2,100.00,2.5,1e15,1e16,1e21,1.5e300,5e-324,2.4703282292062328e-324,1e-5,1e-6,0.000001234,1.2345e-7,123456789.125,1.7976931348623157e308,12345678901234567890.0,9007199254740993.0,-7.25e-10]".to_owned();
        },
        Some(
            "[0,-1,9007199254740993,18446744073709551615,-9223372036854775808,1.0,-0.0,0.1,100.0,100.0,2.5,1000000000000000.0,1e+16,1e+21,1.5e+300,5e-324,5e-324,0.00001,1e-6,1.234e-6,1.2345e-7,123456789.125,1.7976931348623157e+308,1.2345678901234567e+19,9007199254740992.0,-7.25e-10]",
        ),
    );
    b.ok(
        "member order inside dat: by code point (not UTF-16), at every depth; arrays keep theirs",
        |c| {
            c.dat_text = r#"{"b":1,"a":{"z":[{"y":1,"x":2}],"Z":0},"\ud83d\ude00":2,"\ue000":3,"":4,"é":5,"10":6,"9":7,"a\u0000":8,"A":9}"#.to_owned();
        },
        Some(
            "{\"\":4,\"10\":6,\"9\":7,\"A\":9,\"a\":{\"Z\":0,\"z\":[{\"x\":2,\"y\":1}]},\"a\\u0000\":8,\"b\":1,\"\u{e9}\":5,\"\u{e000}\":3,\"\u{1f600}\":2}",
        ),
    );
    b.ok(
        "sealed with a fixed IV (claims as for a signed token)",
        |c| {
            c.keys = keys_json(&sealing_set(
                vec![hs("hs-a"), enc("enc-a")],
                Some("hs-a"),
                Some("enc-a"),
            ));
            c.kind = "sealed";
            c.iv = Some(b64(nonce(1)));
        },
        None,
    );
    b.ok(
        "maximum lifetime 600 s: a 600 s token",
        |c| {
            c.ttl = 600;
            c.options = Some(Options {
                max_lifetime: Some(600),
                ..Options::default()
            });
        },
        None,
    );
    let reference_len = b.cases[0].token.as_ref().expect("minted").len();
    b.ok(
        "length cap equal to the token's length",
        |c| {
            c.options = Some(Options {
                max_len: Some(reference_len),
                ..Options::default()
            });
        },
        None,
    );
    b.ok(
        "claims nested 64 deep, the most a minter writes",
        |c| c.dat_text = nested(63),
        None,
    );
    // Refusals, one fault each.
    b.fail(
        "no active key",
        |c| c.keys = raw(r#"{"keys":[]}"#),
        "invalid_key",
    );
    b.fail(
        "sealed, without an active sealing key",
        |c| {
            c.kind = "sealed";
            c.iv = Some(b64(nonce(2)));
        },
        "invalid_key",
    );
    b.fail("empty iss", |c| c.iss = String::new(), "invalid_config");
    b.fail(
        "empty sub",
        |c| c.sub = Some(String::new()),
        "invalid_config",
    );
    b.fail("ttl 0", |c| c.ttl = 0, "invalid_config");
    b.fail(
        "ttl 86401 s, over the default maximum lifetime",
        |c| c.ttl = 86_401,
        "lifetime_too_long",
    );
    b.fail(
        "an integer of 2^64 in dat: a verifier would read a binary64 number",
        |c| c.dat_text = format!(r#"{{"n":{beyond}}}"#),
        "bad_payload",
    );
    b.fail(
        "an integer of -2^63 - 1 in dat",
        |c| c.dat_text = "[-9223372036854775809]".to_owned(),
        "bad_payload",
    );
    b.fail(
        "an expiry after 9999-12-31T23:59:59Z",
        |c| c.now = MAX_TIME - 100,
        "invalid_config",
    );
    b.fail(
        "a not-before earlier than iat",
        |c| c.nbf = Some(NOW - 1),
        "invalid_config",
    );
    b.fail(
        "a fingerprint of 129 bytes",
        |c| c.fpr = Some("f".repeat(129)),
        "invalid_config",
    );
    b.fail(
        "claims nested 65 deep",
        |c| c.dat_text = nested(64),
        "bad_payload",
    );
    b.fail(
        "a token longer than the length cap",
        |c| {
            c.options = Some(Options {
                max_len: Some(100),
                ..Options::default()
            });
        },
        "too_large",
    );
    // Several faults at once: the first in the order of §4 wins.
    b.fail(
        "order: a length cap of 0 and no active key (options first)",
        |c| {
            c.keys = raw(r#"{"keys":[]}"#);
            c.options = Some(Options {
                max_len: Some(0),
                ..Options::default()
            });
        },
        "invalid_config",
    );
    b.fail(
        "order: no active key and an empty iss (the key first)",
        |c| {
            c.keys = raw(r#"{"keys":[]}"#);
            c.iss = String::new();
        },
        "invalid_key",
    );
    b.fail(
        "order: an empty aud and a ttl over the maximum lifetime (iss, aud, sub first)",
        |c| {
            c.aud = String::new();
            c.ttl = 86_401;
        },
        "invalid_config",
    );
    b.fail(
        "order: a ttl over the maximum lifetime and an integer beyond 64 bits (ttl first)",
        |c| {
            c.ttl = 86_401;
            c.dat_text = beyond.to_owned();
        },
        "lifetime_too_long",
    );
    b.fail(
        "order: a fingerprint of 129 bytes and an integer beyond 64 bits (fpr first)",
        |c| {
            c.fpr = Some("f".repeat(129));
            c.dat_text = beyond.to_owned();
        },
        "invalid_config",
    );
    b.fail(
        "order: an integer beyond 64 bits and a token over the length cap (dat first)",
        |c| {
            c.dat_text = beyond.to_owned();
            c.options = Some(Options {
                max_len: Some(10),
                ..Options::default()
            });
        },
        "bad_payload",
    );
    b.fail(
        "a lone surrogate in a dat string",
        |c| c.dat_text = r#"{"note":"a\ud800b"}"#.to_owned(),
        "bad_payload",
    );
    b.fail(
        "a lone surrogate in a dat member name",
        |c| c.dat_text = r#"{"\udc00":1}"#.to_owned(),
        "bad_payload",
    );
    b.fail(
        "a number in dat that rounds to infinity",
        |c| c.dat_text = "[1e400]".to_owned(),
        "bad_payload",
    );
    b.fail(
        "maximum lifetime 0",
        |c| {
            c.options = Some(Options {
                max_lifetime: Some(0),
                ..Options::default()
            });
        },
        "invalid_config",
    );
    for name in ["iss", "aud", "sub", "fpr"] {
        b.fail(
            &format!("a lone surrogate in {name} (text-inputs)"),
            |c| c.text_inputs = lone(name, r#""x\ud800""#),
            "invalid_config",
        );
    }
    b.fail(
        "order: a lone surrogate in sub and an integer beyond 64 bits (sub first)",
        |c| {
            c.text_inputs = lone("sub", r#""\udfff""#);
            c.dat_text = beyond.to_owned();
        },
        "invalid_config",
    );
    b.fail("empty aud", |c| c.aud = String::new(), "invalid_config");
    b.cases
}
