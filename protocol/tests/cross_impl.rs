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
