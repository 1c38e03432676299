//! Mint and verify, HS256 and EdDSA, against their floors and against `jsonwebtoken`.
//!
//! `cargo bench -p tessera-protocol` runs the criterion groups `hs256` and `eddsa`, then a
//! summary: every operation timed again in one interleaved loop (round-robin batches, median
//! of the batches), so that the ratios compare figures taken under the same machine load, and
//! the goals of issue 2 checked against them.
//!
//! Reference token: the payload
//! `{"part_id":1234,"location":"WH-01/A/3","qty":25,"mode":"transfer","note":"restock from supplier order PO-2231"}`
//! as a typed struct, iss `inventree`, aud `plugin:stock-tools/action:transfer`, sub `user:42`,
//! TTL 300 s, a [`FixedClock`] at the wall time of the start of the run (so that
//! `jsonwebtoken`, which reads the system clock, accepts the same tokens).
//!
//! Floors, each doing the same job as the tessera operation it is compared with, minimally:
//! - (a) `ring::hmac::verify` with a prepared key over the token's signing input;
//! - (b) a hand-written HS256 verify: split at the dots, base64url-decode the claims and the
//!   signature (with `base64-simd`, the decoder tessera uses), HMAC verify, one `serde_json`
//!   parse of the claims into a struct holding the payload struct, then the
//!   `exp`/`iss`/`aud`/`sub` comparisons (the practical floor);
//! - (c) a hand-written HS256 mint: a fresh 16-byte `jti` from `SystemRandom` (tessera mints one
//!   too), claims serialized once, base64url (`base64-simd`), HMAC, concatenation; the header
//!   is encoded once, at setup;
//! - (d) bare ring Ed25519 sign and verify over the signing input.
//!
//! Peer: `jsonwebtoken::decode` of the same token with a standard `Validation` (iss, aud, sub
//! set; exp, iss, aud, sub required; leeway 30 s) on tessera's ring provider; `jsonwebtoken::encode`
//! is timed too. Under `cargo test --benches` (criterion's test mode) every operation runs once
//! and the timing summary is skipped.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::Criterion;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use tessera_protocol::{
    Clock, DEFAULT_MAX_TOKEN_LEN, Expected, FixedClock, Key, KeySet, Kid, Minter, SystemClock,
    UntrustedToken, Verifier,
};

const ISS: &str = "inventree";
const AUD: &str = "plugin:stock-tools/action:transfer";
const SUB: &str = "user:42";
const TTL: Duration = Duration::from_secs(300);
/// Leeway of tessera's verifier (its default), also given to `jsonwebtoken`'s `Validation`.
const LEEWAY: u64 = 30;
/// RFC 8410 PKCS#8 v1 prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The reference payload.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
struct Transfer {
    part_id: u32,
    location: String,
    qty: u32,
    mode: String,
    note: String,
}

fn reference_payload() -> Transfer {
    Transfer {
        part_id: 1234,
        location: "WH-01/A/3".to_owned(),
        qty: 25,
        mode: "transfer".to_owned(),
        note: "restock from supplier order PO-2231".to_owned(),
    }
}

/// The claims of a tessera token minted without `nbf` and `fpr`: what floor (b) and
/// `jsonwebtoken::decode` parse into (owned, like tessera's `Claims<T>`).
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
struct PlainClaims {
    iss: String,
    aud: String,
    sub: String,
    iat: u64,
    exp: u64,
    jti: String,
    dat: Transfer,
}

/// The same claims, borrowed, for the hand-written mint and `jsonwebtoken::encode`.
#[derive(Serialize)]
struct ClaimsRef<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: u64,
    /// Only for the length comparison with a JWT that carries `nbf` (tessera omits `nbf = iat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    exp: u64,
    jti: &'a str,
    dat: &'a Transfer,
}

/// Everything prepared once: keys, minters, verifiers, reference tokens, floor keys.
struct Fixture {
    now: u64,
    payload: Transfer,
    expected: Expected<'static>,
    rng: SystemRandom,
    hs_minter: Minter,
    hs_verifier: Verifier,
    hs_token: String,
    /// `BASE64URL({"alg":"HS256","typ":"tessera+jwt","kid":K})`, for floor (c).
    hs_header_b64: String,
    hmac_key: hmac::Key,
    ed_minter: Minter,
    ed_verifier: Verifier,
    ed_token: String,
    ed_pair: Ed25519KeyPair,
    ed_public: UnparsedPublicKey<Vec<u8>>,
    jwt_hs_decoding: DecodingKey,
    jwt_hs_encoding: EncodingKey,
    jwt_hs_validation: Validation,
    jwt_ed_decoding: DecodingKey,
    jwt_ed_encoding: EncodingKey,
    jwt_ed_validation: Validation,
}

fn jwt_validation(alg: JwtAlgorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY;
    v.set_issuer(&[ISS]);
    v.set_audience(&[AUD]);
    v.sub = Some(SUB.to_owned());
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v
}

impl Fixture {
    fn new() -> Fixture {
        tessera_protocol::crypto::install();
        let rng = SystemRandom::new();
        let now = SystemClock.now();
        let clock: Arc<dyn Clock> = Arc::new(FixedClock(now));

        let mut secret = [0u8; 32];
        rng.fill(&mut secret).expect("random HS256 secret");
        let hs_key = Key::hs256(Kid::random().expect("kid"), &secret).expect("HS256 key");
        let hs_kid = hs_key.kid().as_str().to_owned();
        let hs_keys = Arc::new(KeySet::with_active(hs_key).expect("HS256 key set"));

        let mut seed = [0u8; 32];
        rng.fill(&mut seed).expect("random Ed25519 seed");
        let ed_key = Key::ed25519(Kid::random().expect("kid"), &seed, None).expect("Ed25519 key");
        let ed_public_bytes = *ed_key.ed25519_public_key().expect("an Ed25519 key");
        let ed_keys = Arc::new(KeySet::with_active(ed_key).expect("Ed25519 key set"));
        let mut pkcs8 = PKCS8_ED25519_PREFIX.to_vec();
        pkcs8.extend_from_slice(&seed);

        let hs_minter = Minter::new(hs_keys.clone(), ISS).with_clock(clock.clone());
        let hs_verifier = Verifier::new(hs_keys, ISS).with_clock(clock.clone());
        let ed_minter = Minter::new(ed_keys.clone(), ISS).with_clock(clock.clone());
        let ed_verifier = Verifier::new(ed_keys, ISS).with_clock(clock);
        let payload = reference_payload();
        let hs_token = mint(&hs_minter, &payload);
        let ed_token = mint(&ed_minter, &payload);

        let hs_header_b64 = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"HS256","typ":"tessera+jwt","kid":"{hs_kid}"}}"#
        ));
        assert!(
            hs_token.starts_with(&format!("{hs_header_b64}.")),
            "floor (c) must write tessera's header"
        );

        Fixture {
            now,
            payload,
            expected: Expected::audience(AUD).subject(SUB),
            hmac_key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            hs_header_b64,
            ed_pair: Ed25519KeyPair::from_seed_unchecked(&seed).expect("Ed25519 seed"),
            ed_public: UnparsedPublicKey::new(&ED25519, ed_public_bytes.to_vec()),
            jwt_hs_decoding: DecodingKey::from_secret(&secret),
            jwt_hs_encoding: EncodingKey::from_secret(&secret),
            jwt_hs_validation: jwt_validation(JwtAlgorithm::HS256),
            jwt_ed_decoding: DecodingKey::from_ed_der(&ed_public_bytes),
            jwt_ed_encoding: EncodingKey::from_ed_der(&pkcs8),
            jwt_ed_validation: jwt_validation(JwtAlgorithm::EdDSA),
            rng,
            hs_minter,
            hs_verifier,
            hs_token,
            ed_minter,
            ed_verifier,
            ed_token,
        }
    }

    fn signing_input(token: &str) -> &[u8] {
        let end = token.rfind('.').expect("a compact JWS");
        &token.as_bytes()[..end]
    }

    fn decoded_signature(token: &str) -> Vec<u8> {
        let start = token.rfind('.').expect("a compact JWS") + 1;
        URL_SAFE_NO_PAD
            .decode(&token[start..])
            .expect("a base64url signature")
    }

    /// Checks that every operation succeeds and that the floors and peers see the same token:
    /// a benchmark of an error path would be meaningless.
    fn check(&self) {
        let expect = |claims: &PlainClaims| {
            assert_eq!(claims.dat, self.payload);
            assert_eq!((claims.iss.as_str(), claims.aud.as_str()), (ISS, AUD));
            assert_eq!(
                (claims.iat, claims.exp),
                (self.now, self.now + TTL.as_secs())
            );
        };
        for (verifier, token) in [
            (&self.hs_verifier, &self.hs_token),
            (&self.ed_verifier, &self.ed_token),
        ] {
            let ok = verifier
                .verify::<Transfer>(token, &self.expected)
                .expect("tessera verifies its own token");
            assert_eq!(ok.claims.dat, self.payload);
            assert_eq!(ok.claims.sub.as_deref(), Some(SUB));
        }
        expect(&floor_hs256_verify(&self.hmac_key, &self.hs_token, self.now).expect("floor (b)"));
        let floor_token = floor_hs256_mint(self);
        assert_eq!(floor_token.len(), self.hs_token.len());
        expect(&floor_hs256_verify(&self.hmac_key, &floor_token, self.now).expect("floor (c)"));
        self.hs_verifier
            .verify::<Transfer>(&floor_token, &self.expected)
            .expect("tessera verifies the floor's token");
        let sig = Self::decoded_signature(&self.hs_token);
        hmac::verify(&self.hmac_key, Self::signing_input(&self.hs_token), &sig).expect("floor (a)");
        let ed_input = Self::signing_input(&self.ed_token);
        let ed_sig = self.ed_pair.sign(ed_input);
        assert_eq!(ed_sig.as_ref(), Self::decoded_signature(&self.ed_token));
        self.ed_public
            .verify(ed_input, ed_sig.as_ref())
            .expect("floor (d)");
        expect(&jwt_decode(
            &self.hs_token,
            &self.jwt_hs_decoding,
            &self.jwt_hs_validation,
        ));
        expect(&jwt_decode(
            &self.ed_token,
            &self.jwt_ed_decoding,
            &self.jwt_ed_validation,
        ));
        for (encoding, alg, decoding, validation) in [
            (
                &self.jwt_hs_encoding,
                JwtAlgorithm::HS256,
                &self.jwt_hs_decoding,
                &self.jwt_hs_validation,
            ),
            (
                &self.jwt_ed_encoding,
                JwtAlgorithm::EdDSA,
                &self.jwt_ed_decoding,
                &self.jwt_ed_validation,
            ),
        ] {
            expect(&jwt_decode(
                &jwt_encode(self, encoding, alg, false),
                decoding,
                validation,
            ));
        }
    }
}

fn mint(minter: &Minter, payload: &Transfer) -> String {
    minter
        .token(AUD)
        .subject(SUB)
        .payload(payload)
        .ttl(TTL)
        .mint()
        .expect("tessera mints the reference token")
}

/// 16 random bytes, base64url (22 characters), on the stack.
fn fresh_jti(rng: &SystemRandom, out: &mut [u8; 24]) -> usize {
    let mut jti = [0u8; 16];
    rng.fill(&mut jti).expect("random jti");
    URL_SAFE_NO_PAD
        .encode_slice(jti, out)
        .expect("22 characters fit in 24 bytes")
}

/// Floor (b): the least a correct HS256 verifier of these claims can do.
fn floor_hs256_verify(key: &hmac::Key, token: &str, now: u64) -> Option<PlainClaims> {
    let (signing_input, sig_b64) = token.rsplit_once('.')?;
    let (_header_b64, claims_b64) = signing_input.split_once('.')?;
    let sig = base64_simd::URL_SAFE_NO_PAD.decode_to_vec(sig_b64).ok()?;
    let claims_json = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(claims_b64)
        .ok()?;
    hmac::verify(key, signing_input.as_bytes(), &sig).ok()?;
    let claims: PlainClaims = serde_json::from_slice(&claims_json).ok()?;
    let ok =
        now < claims.exp + LEEWAY && claims.iss == ISS && claims.aud == AUD && claims.sub == SUB;
    ok.then_some(claims)
}

/// Floor (c): the least a minter of the same token can do (fresh jti, same header and claims).
fn floor_hs256_mint(f: &Fixture) -> String {
    let mut jti_buf = [0u8; 24];
    let jti_len = fresh_jti(&f.rng, &mut jti_buf);
    let jti = std::str::from_utf8(&jti_buf[..jti_len]).expect("base64url is ASCII");
    let claims = ClaimsRef {
        iss: ISS,
        aud: AUD,
        sub: SUB,
        iat: f.now,
        nbf: None,
        exp: f.now + TTL.as_secs(),
        jti,
        dat: &f.payload,
    };
    let json = serde_json::to_vec(&claims).expect("claims serialize");
    let mut token = String::with_capacity(f.hs_header_b64.len() + json.len() * 4 / 3 + 48);
    token.push_str(&f.hs_header_b64);
    token.push('.');
    base64_simd::URL_SAFE_NO_PAD.encode_append(&json, &mut token);
    let tag = hmac::sign(&f.hmac_key, token.as_bytes());
    token.push('.');
    base64_simd::URL_SAFE_NO_PAD.encode_append(tag, &mut token);
    token
}

fn jwt_decode(token: &str, key: &DecodingKey, validation: &Validation) -> PlainClaims {
    match jsonwebtoken::decode::<PlainClaims>(token, key, validation) {
        Ok(data) => data.claims,
        Err(e) => panic!("jsonwebtoken refused the reference token: {e:?}"),
    }
}

/// The same claims through `jsonwebtoken::encode` with a plain `{"alg":..,"typ":"JWT"}` header.
fn jwt_encode(f: &Fixture, key: &EncodingKey, alg: JwtAlgorithm, with_nbf: bool) -> String {
    let mut jti_buf = [0u8; 24];
    let jti_len = fresh_jti(&f.rng, &mut jti_buf);
    let claims = ClaimsRef {
        iss: ISS,
        aud: AUD,
        sub: SUB,
        iat: f.now,
        nbf: with_nbf.then_some(f.now),
        exp: f.now + TTL.as_secs(),
        jti: std::str::from_utf8(&jti_buf[..jti_len]).expect("base64url is ASCII"),
        dat: &f.payload,
    };
    jsonwebtoken::encode(&Header::new(alg), &claims, key).expect("jsonwebtoken encodes")
}

/// One benchmarked operation.
struct Op<'a> {
    group: &'static str,
    name: &'static str,
    run: Box<dyn Fn() + 'a>,
}

fn ops(f: &Fixture) -> Vec<Op<'_>> {
    fn op<'a>(group: &'static str, name: &'static str, run: impl Fn() + 'a) -> Op<'a> {
        Op {
            group,
            name,
            run: Box::new(run),
        }
    }
    let hs_input = Fixture::signing_input(&f.hs_token);
    let hs_sig = Fixture::decoded_signature(&f.hs_token);
    let ed_input = Fixture::signing_input(&f.ed_token);
    let ed_sig = Fixture::decoded_signature(&f.ed_token);
    vec![
        op("hs256", "tessera_mint", move || {
            black_box(mint(&f.hs_minter, black_box(&f.payload)));
        }),
        op("hs256", "tessera_verify", move || {
            let ok = f
                .hs_verifier
                .verify::<Transfer>(black_box(&f.hs_token), &f.expected);
            black_box(ok.expect("tessera verifies the reference token"));
        }),
        op("hs256", "floor_a_ring_hmac_verify", move || {
            let ok = hmac::verify(&f.hmac_key, black_box(hs_input), black_box(&hs_sig));
            ok.expect("floor (a)");
        }),
        op("hs256", "floor_b_handwritten_verify", move || {
            let claims = floor_hs256_verify(&f.hmac_key, black_box(&f.hs_token), f.now);
            black_box(claims.expect("floor (b)"));
        }),
        op("hs256", "floor_c_handwritten_mint", move || {
            black_box(floor_hs256_mint(black_box(f)));
        }),
        // Diagnostic: steps 1-4 alone (length, segments, base64url, header), before any key.
        op("hs256", "tessera_untrusted_parse", move || {
            let parsed = UntrustedToken::parse(black_box(&f.hs_token), DEFAULT_MAX_TOKEN_LEN);
            black_box(parsed.expect("the reference token parses"));
        }),
        op("hs256", "jsonwebtoken_decode", move || {
            black_box(jwt_decode(
                black_box(&f.hs_token),
                &f.jwt_hs_decoding,
                &f.jwt_hs_validation,
            ));
        }),
        op("hs256", "jsonwebtoken_encode", move || {
            black_box(jwt_encode(
                f,
                &f.jwt_hs_encoding,
                JwtAlgorithm::HS256,
                false,
            ));
        }),
        op("eddsa", "tessera_mint", move || {
            black_box(mint(&f.ed_minter, black_box(&f.payload)));
        }),
        op("eddsa", "tessera_verify", move || {
            let ok = f
                .ed_verifier
                .verify::<Transfer>(black_box(&f.ed_token), &f.expected);
            black_box(ok.expect("tessera verifies the reference token"));
        }),
        op("eddsa", "floor_d_ring_sign", move || {
            black_box(f.ed_pair.sign(black_box(ed_input)));
        }),
        op("eddsa", "floor_d_ring_verify", move || {
            let ok = f.ed_public.verify(black_box(ed_input), black_box(&ed_sig));
            ok.expect("floor (d)");
        }),
        op("eddsa", "jsonwebtoken_decode", move || {
            black_box(jwt_decode(
                black_box(&f.ed_token),
                &f.jwt_ed_decoding,
                &f.jwt_ed_validation,
            ));
        }),
        op("eddsa", "jsonwebtoken_encode", move || {
            black_box(jwt_encode(
                f,
                &f.jwt_ed_encoding,
                JwtAlgorithm::EdDSA,
                false,
            ));
        }),
    ]
}

fn run_criterion(ops: &[Op<'_>]) {
    let mut c = Criterion::default()
        .without_plots()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .nresamples(10_000)
        .configure_from_args();
    for group_name in ["hs256", "eddsa"] {
        let mut group = c.benchmark_group(group_name);
        for op in ops.iter().filter(|op| op.group == group_name) {
            group.bench_function(op.name, |b| b.iter(|| (op.run)()));
        }
        group.finish();
    }
    c.final_summary();
}

/// Whether criterion runs in benchmark mode (`cargo bench`), not test (`cargo test --benches`),
/// list or profile mode: the same rule as criterion's own argument parsing.
fn benchmark_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench")
        && !has("--test")
        && !has("--list")
        && !args.iter().any(|a| a.starts_with("--profile-time"))
}

/// Interleaved timing: calibrate a batch of about `BATCH` per operation, then `ROUNDS` rounds
/// that each run one batch of every operation in turn; the figure is the median batch (ns/op).
struct Timing {
    median: f64,
    p25: f64,
    p75: f64,
}

const BATCH: Duration = Duration::from_millis(5);
const ROUNDS: usize = 41;

fn time_batch(run: &dyn Fn(), iters: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        run();
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

fn measure(ops: &[Op<'_>]) -> Vec<Timing> {
    let iters: Vec<u64> = ops
        .iter()
        .map(|op| {
            // Warm up and estimate: double the batch until it takes at least 20 ms.
            let mut n = 1u64;
            loop {
                let per_op = time_batch(&*op.run, n);
                if per_op * n as f64 >= 20e6 {
                    break ((BATCH.as_nanos() as f64 / per_op) as u64).max(1);
                }
                n *= 2;
            }
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(ROUNDS); ops.len()];
    for _ in 0..ROUNDS {
        for (i, op) in ops.iter().enumerate() {
            samples[i].push(time_batch(&*op.run, iters[i]));
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
            Timing {
                median: at(0.5),
                p25: at(0.25),
                p75: at(0.75),
            }
        })
        .collect()
}

fn summary(f: &Fixture, ops: &[Op<'_>]) {
    let plain_jwt = jwt_encode(f, &f.jwt_hs_encoding, JwtAlgorithm::HS256, false);
    let plain_jwt_nbf = jwt_encode(f, &f.jwt_hs_encoding, JwtAlgorithm::HS256, true);
    println!();
    println!(
        "== tessera summary: interleaved timing, {ROUNDS} rounds of ~{BATCH:?} batches per operation, median =="
    );
    let timings = measure(ops);
    let ns = |group: &str, name: &str| -> f64 {
        ops.iter()
            .zip(&timings)
            .find(|(op, _)| op.group == group && op.name == name)
            .map(|(_, t)| t.median)
            .expect("a measured operation")
    };
    println!(
        "{:<34} {:>12} {:>22}",
        "operation", "ns/op", "p25..p75 (ns/op)"
    );
    for (op, t) in ops.iter().zip(&timings) {
        println!(
            "{:<34} {:>12.0} {:>10.0}..{:<11.0}",
            format!("{}/{}", op.group, op.name),
            t.median,
            t.p25,
            t.p75
        );
    }
    println!();
    println!("{:<58} {:>7} {:>7}  verdict", "ratio", "value", "goal");
    let ratio = |label: &str, num: f64, den: f64, goal: Option<f64>| {
        let r = num / den;
        let (goal_text, verdict) = match goal {
            Some(g) if r <= g => (format!("<={g}"), "met".to_owned()),
            Some(g) => (
                format!("<={g}"),
                format!(
                    "MISSED by {:.0}% ({:.0} ns/op over)",
                    (r / g - 1.0) * 100.0,
                    num - g * den
                ),
            ),
            None => ("-".to_owned(), String::new()),
        };
        println!("{label:<58} {r:>7.2} {goal_text:>7}  {verdict}");
    };
    let hs_verify = ns("hs256", "tessera_verify");
    let hs_mint = ns("hs256", "tessera_mint");
    let ed_verify = ns("eddsa", "tessera_verify");
    let ed_mint = ns("eddsa", "tessera_mint");
    ratio(
        "HS256 verify / floor (b) hand-written verify",
        hs_verify,
        ns("hs256", "floor_b_handwritten_verify"),
        Some(1.5),
    );
    ratio(
        "HS256 mint / floor (c) hand-written mint",
        hs_mint,
        ns("hs256", "floor_c_handwritten_mint"),
        Some(1.5),
    );
    ratio(
        "EdDSA mint / floor (d) ring Ed25519 sign",
        ed_mint,
        ns("eddsa", "floor_d_ring_sign"),
        Some(1.1),
    );
    ratio(
        "EdDSA verify / floor (d) ring Ed25519 verify",
        ed_verify,
        ns("eddsa", "floor_d_ring_verify"),
        Some(1.1),
    );
    ratio(
        "HS256 verify / jsonwebtoken::decode (HS256)",
        hs_verify,
        ns("hs256", "jsonwebtoken_decode"),
        None,
    );
    ratio(
        "EdDSA verify / jsonwebtoken::decode (EdDSA)",
        ed_verify,
        ns("eddsa", "jsonwebtoken_decode"),
        None,
    );
    ratio(
        "HS256 mint / jsonwebtoken::encode (HS256)",
        hs_mint,
        ns("hs256", "jsonwebtoken_encode"),
        None,
    );
    ratio(
        "EdDSA mint / jsonwebtoken::encode (EdDSA)",
        ed_mint,
        ns("eddsa", "jsonwebtoken_encode"),
        None,
    );
    ratio(
        "HS256 verify / floor (a) bare ring HMAC verify",
        hs_verify,
        ns("hs256", "floor_a_ring_hmac_verify"),
        None,
    );
    ratio(
        "floor (b) / floor (a)",
        ns("hs256", "floor_b_handwritten_verify"),
        ns("hs256", "floor_a_ring_hmac_verify"),
        None,
    );
    println!();
    println!("token length, reference claims (bytes):");
    let lengths = [
        ("tessera HS256 (typ tessera+jwt, kid)", f.hs_token.len()),
        ("tessera EdDSA", f.ed_token.len()),
        (
            "jsonwebtoken::encode, same claims, {alg:HS256,typ:JWT}",
            plain_jwt.len(),
        ),
        ("  the same plus nbf = iat", plain_jwt_nbf.len()),
    ];
    for (label, len) in lengths {
        println!("  {label:<56} {len:>4}");
    }
    println!(
        "  tessera HS256 - plain JWT of the same claims: {:+} (header: typ and kid)",
        f.hs_token.len() as i64 - plain_jwt.len() as i64
    );
}

fn main() {
    let fixture = Fixture::new();
    fixture.check();
    let ops = ops(&fixture);
    run_criterion(&ops);
    if benchmark_mode() {
        summary(&fixture, &ops);
    } else {
        println!(
            "tessera summary skipped (not in benchmark mode); every operation ran and checked"
        );
    }
}
