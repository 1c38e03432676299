//! The Python reference implementation (python/tessera/_reference.py, run through the scripts
//! in spec/reference/python) against this crate: tokens
//! minted by either verify in the other, both agree on every vector, and the spec's error
//! table lists every code this crate defines.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};
use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet};

use crate::util::*;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

fn python() -> Command {
    let mut cmd = Command::new("python3");
    cmd.current_dir(spec_dir().join("reference/python"));
    // The reference lives in the package (python/tessera/_reference.py); `import tessera_ref`
    // still names it (python/tessera_ref.py) for scripts given with `-c`.
    cmd.env("PYTHONPATH", spec_dir().join("../python"));
    cmd
}

fn temp_keys(keys: &KeySet, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-xi-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.json");
    std::fs::write(&path, keys.to_private_json()).unwrap();
    path
}

#[test]
fn python_reference_agrees_with_every_vector() {
    let out = python()
        .arg("run_vectors.py")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn python_reference_self_tests_pass() {
    let out = python()
        .args(["-m", "unittest", "discover", "-s", ".", "-q"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tokens_minted_by_python_verify_in_rust() {
    for alg in [Algorithm::Hs256, Algorithm::EdDsa] {
        let keys = KeySet::generate(alg).unwrap();
        let path = temp_keys(&keys, &format!("py-mint-{alg}"));
        let payload = json!({"part_id": 1234, "note": "Grüße \"quoted\"", "qty": 25});
        let out = python()
            .args(["tessera_cli.py", "mint", "--keys"])
            .arg(&path)
            .args([
                "--iss",
                ISS,
                "--aud",
                AUD,
                "--sub",
                SUB,
                "--now",
                &NOW.to_string(),
            ])
            .args(["--payload", &payload.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap();
        let ok = verifier(&Arc::new(keys))
            .verify::<Value>(token.trim(), &expected())
            .unwrap();
        assert_eq!(ok.claims.dat, payload, "{alg}");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}

#[test]
fn tokens_minted_by_rust_verify_in_python_and_refusals_agree() {
    for alg in [Algorithm::Hs256, Algorithm::EdDsa] {
        let keys = Arc::new(KeySet::generate(alg).unwrap());
        let path = temp_keys(&keys, &format!("rs-mint-{alg}"));
        let token = minter(&keys)
            .token(AUD)
            .subject(SUB)
            .payload(&transfer())
            .mint()
            .unwrap();
        let verify = |token: &str, sub: &str| {
            python()
                .args(["tessera_cli.py", "verify", "--keys"])
                .arg(&path)
                .args([
                    "--iss",
                    ISS,
                    "--aud",
                    AUD,
                    "--sub",
                    sub,
                    "--now",
                    &NOW.to_string(),
                    "--",
                ])
                .arg(token)
                .output()
                .unwrap()
        };
        let out = verify(&token, SUB);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dat: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(dat, serde_json::to_value(transfer()).unwrap());
        // Both refuse another principal's click with the same code.
        let out = verify(&token, "user:7");
        assert_eq!(out.status.code(), Some(1));
        let rust = verifier(&keys)
            .verify::<Value>(&token, &Expected::audience(AUD).subject("user:7"))
            .unwrap_err();
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with(&format!("error: {}:", rust.code()))
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}

#[test]
fn spec_error_table_lists_every_code_this_crate_defines() {
    let spec = std::fs::read_to_string(spec_dir().join("PROTOCOL.md")).unwrap();
    for code in ErrorCode::ALL {
        let row = format!("| `{}` |", code.as_str());
        assert!(
            spec.contains(&row),
            "spec/PROTOCOL.md has no table row {row}"
        );
    }
}

#[test]
fn sealed_tokens_cross_between_python_and_rust_both_ways() {
    let mut keys = KeySet::generate(Algorithm::Hs256).unwrap();
    keys.rotate(Algorithm::A256Gcm).unwrap();
    let path = temp_keys(&keys, "sealed");
    let keys = Arc::new(keys);
    let sealed = || {
        Expected::audience(AUD)
            .subject(SUB)
            .accept(tessera_protocol::Accept::Sealed)
    };
    // Python seals, Rust opens.
    let out = python()
        .args(["tessera_cli.py", "mint", "--sealed", "--keys"])
        .arg(&path)
        .args([
            "--iss",
            ISS,
            "--aud",
            AUD,
            "--sub",
            SUB,
            "--now",
            &NOW.to_string(),
            "--payload",
            r#"{"price":17.5}"#,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let ok = verifier(&keys)
        .verify::<Value>(token.trim(), &sealed())
        .unwrap();
    assert_eq!(ok.claims.dat, json!({"price": 17.5}));
    // Rust seals, Python opens; and Python refuses it on a signed-only route like Rust does.
    let token = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .payload(&json!({"price": 17.5}))
        .seal()
        .unwrap();
    let verify = |accept: &str| {
        python()
            .args(["tessera_cli.py", "verify", "--accept", accept, "--keys"])
            .arg(&path)
            .args([
                "--iss",
                ISS,
                "--aud",
                AUD,
                "--sub",
                SUB,
                "--now",
                &NOW.to_string(),
                "--",
            ])
            .arg(&token)
            .output()
            .unwrap()
    };
    let out = verify("sealed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({"price": 17.5})
    );
    let out = verify("signed");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: malformed:"));
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

/// A small deterministic generator (xorshift64*) for the random payloads below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Characters that §2.6 escapes, must not escape, or sorts differently from UTF-16.
    fn text(&mut self) -> String {
        const POOL: &[char] = &[
            'a',
            'b',
            'Z',
            '0',
            '9',
            ' ',
            '"',
            '\\',
            '/',
            '\u{0}',
            '\u{8}',
            '\t',
            '\n',
            '\u{c}',
            '\r',
            '\u{1f}',
            '\u{7f}',
            'é',
            '\u{2028}',
            '\u{2029}',
            '\u{e000}',
            '\u{ffff}',
            '\u{1f600}',
            '倉',
        ];
        (0..self.below(6))
            .map(|_| POOL[self.below(POOL.len() as u64) as usize])
            .collect()
    }
    fn double(&mut self) -> f64 {
        let x = if self.below(2) == 0 {
            f64::from_bits(self.next())
        } else {
            // Short decimals of 1 to 17 digits, from 1e-30 to 1e30: the layout's thresholds
            // (1e-5, 1e16) included.
            let digits = 10u64.pow(1 + self.below(17) as u32);
            let mantissa = self.below(digits) as f64 * if self.below(2) == 0 { 1.0 } else { -1.0 };
            mantissa * 10f64.powi(self.below(60) as i32 - 30)
        };
        if x.is_finite() { x } else { 0.5 }
    }
    fn value(&mut self, depth: u32) -> Value {
        match self.below(if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 if self.below(2) == 0 => Value::from(self.next()),
            2 => Value::from(self.next() as i64),
            3 => Value::from(self.double()),
            4 => Value::from(self.text()),
            5 => (0..self.below(4)).map(|_| self.value(depth - 1)).collect(),
            _ => Value::Object(
                (0..self.below(5))
                    .map(|_| (self.text(), self.value(depth - 1)))
                    .collect(),
            ),
        }
    }
}

/// Spec §2.6 defines every byte a minter writes: the Rust minter and the Python reference,
/// given the same random payloads (every kind of number, the characters escaping treats
/// specially, names that sort differently by code point and by UTF-16), mint the same tokens.
#[test]
fn rust_and_python_mint_the_same_bytes_for_random_payloads() {
    let keys = hs_keys();
    let mut rng = Rng(0x7e55_e7a1_9000_0019);
    let mut payloads: Vec<Value> = (0..400).map(|_| rng.value(4)).collect();
    // Each side of each threshold of §2.6 item 6, whatever the generator drew.
    payloads.push(json!([
        -0.0,
        1e15,
        1.234e15,
        9.999e15,
        1e16,
        1.5e16,
        12.5,
        1e-5,
        1.5e-5,
        9.99e-6,
        1e-6,
        0.1,
        123456789.125,
        5e-324,
        1.7976931348623157e308
    ]));
    let texts: Vec<String> = payloads.iter().map(Value::to_string).collect();
    let script = "import json, sys, tessera_ref as ref\n\
        keys = ref.load_key_set(sys.argv[1])\n\
        print(json.dumps([ref.mint(keys, sys.argv[2], sys.argv[3], json.loads(t), int(sys.argv[4]), jti='j')\n\
                          for t in json.load(sys.stdin)]))";
    let mut child = python()
        .args([
            "-c",
            script,
            &keys.to_private_json(),
            ISS,
            AUD,
            &NOW.to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(&texts).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(python.len(), payloads.len());
    for ((payload, text), theirs) in payloads.iter().zip(&texts).zip(&python) {
        let ours = minter(&keys)
            .token(AUD)
            .payload(payload)
            .mint_with_jti("j")
            .unwrap();
        assert_eq!(&ours, theirs, "payload {text}");
    }
}
