//! Hostile input on stdin: refused with too_large after a bounded read, never a panic or a hang.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::util::{keygen, stderr, tempdir, tessera};

const MIB: usize = 1024 * 1024;

#[test]
fn a_1_mib_token_on_stdin_is_refused_with_too_large() {
    let dir = tempdir();
    let (keys, _) = keygen(dir.path(), "k.json", "hs256");
    // A plausible-looking token, 1 MiB long.
    let mut hostile = String::from("eyJhbGciOiJIUzI1NiIsInR5cCI6InRlc3NlcmErand0Iiwia2lkIjoiYSJ9.");
    hostile.push_str(&"A".repeat(MIB - hostile.len() - 10));
    hostile.push_str(".AAAAAAAAA");
    assert_eq!(hostile.len(), MIB);
    for (args, stdin_arg) in [
        (&["verify"][..], None),
        (&["verify"][..], Some("-")),
        (&["inspect"][..], None),
    ] {
        let mut cmd = tessera();
        cmd.args(args);
        if args[0] == "verify" {
            cmd.arg("--keys")
                .arg(&keys)
                .args(["--iss", "i", "--aud", "a"]);
        }
        if let Some(arg) = stdin_arg {
            cmd.arg(arg);
        }
        let a = cmd.write_stdin(hostile.clone()).assert().code(1);
        assert!(
            stderr(&a).starts_with("error: too_large: "),
            "{args:?}: {}",
            stderr(&a)
        );
        assert!(
            !stderr(&a).contains("AAAAAAAAAAAAAAAA"),
            "the input is never echoed"
        );
        // --json too.
        if args[0] == "verify" {
            let mut cmd = tessera();
            cmd.arg("verify")
                .arg("--keys")
                .arg(&keys)
                .args(["--iss", "i", "--aud", "a", "--json"]);
            let a = cmd.write_stdin(hostile.clone()).assert().code(1);
            let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
            assert_eq!(doc["code"], "too_large");
        }
    }
}

#[test]
fn an_endless_stdin_does_not_hang_verify() {
    // The writer never stops: the CLI must decide after a bounded read, not wait for EOF.
    let dir = tempdir();
    let (keys, _) = keygen(dir.path(), "k.json", "eddsa");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["verify", "--iss", "i", "--aud", "a", "--keys"])
        .arg(&keys)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'A'; 64 * 1024];
        let mut written = 0usize;
        // Stops only when the reader is gone (broken pipe); bounded as a guard against a hang.
        while written < 1024 * MIB {
            if stdin.write_all(&chunk).is_err() {
                return written;
            }
            written += chunk.len();
        }
        written
    });
    let output = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.starts_with("error: too_large: "), "{err}");
    assert!(
        written < 1024 * MIB,
        "the CLI stopped reading long before the writer gave up"
    );
}

#[test]
fn binary_garbage_on_stdin_is_malformed_not_a_panic() {
    let dir = tempdir();
    let (keys, _) = keygen(dir.path(), "k.json", "hs256");
    let garbage: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for input in [
        garbage.clone(),
        garbage[..5000].to_vec(),
        vec![0u8; 100],
        b"..".to_vec(),
    ] {
        let a = tessera()
            .arg("verify")
            .arg("--keys")
            .arg(&keys)
            .args(["--iss", "i", "--aud", "a"])
            .write_stdin(input)
            .assert()
            .code(1);
        let err = stderr(&a);
        assert!(
            err.starts_with("error: malformed: ") || err.starts_with("error: too_large: "),
            "{err}"
        );
    }
}
