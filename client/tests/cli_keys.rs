//! `tessera keygen` and `tessera keys …`.

use predicates::prelude::*;
use tessera_protocol::{Algorithm, KeySet};

use crate::util::{
    fails_with, is_symlink, key_doc, keygen, kids, list, mode, names, on_file, public_keys, retire,
    rotate, sign, stderr, stdout, succeeds, tempdir, tessera,
};

#[test]
fn every_subcommand_has_help() {
    let commands: &[&[&str]] = &[
        &[],
        &["keygen"],
        &["keys"],
        &["keys", "list"],
        &["keys", "public"],
        &["keys", "rotate"],
        &["keys", "retire"],
        &["keys", "activate"],
        &["sign"],
        &["verify"],
        &["inspect"],
        &["panels"],
        &["click"],
    ];
    for command in commands {
        tessera()
            .args(*command)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: tessera"));
    }
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["keygen", "--out", "x.json"],
        &["keygen", "--alg", "rs256", "--out", "x.json"],
        &["keys"],
        &["keys", "retire", "only-a-file.json"],
        &["keys", "activate", "only-a-file.json"],
        &["verify", "--iss", "a"],
        &[
            "verify",
            "--keys",
            "k",
            "--iss",
            "a",
            "--aud",
            "b",
            "--now",
            "yesterday",
        ],
        &[
            "sign",
            "--keys",
            "k",
            "--iss",
            "a",
            "--aud",
            "b",
            "--ttl",
            "5 minutes",
        ],
        &["click", "http://127.0.0.1:1", "--plugin", "p"],
    ];
    for args in cases {
        tessera().args(*args).assert().code(2);
    }
}

#[test]
fn keygen_writes_a_0600_key_set_and_prints_the_kid() {
    let dir = tempdir();
    for alg in ["hs256", "eddsa"] {
        let (path, kid) = keygen(dir.path(), &format!("{alg}.json"), alg);
        assert_eq!(mode(&path), 0o600, "{alg}");
        let set = KeySet::from_file(&path).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.active().unwrap().kid().as_str(), kid);
        let want = if alg == "hs256" {
            Algorithm::Hs256
        } else {
            Algorithm::EdDsa
        };
        assert_eq!(set.active().unwrap().algorithm(), want);
    }
    // No temp file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 2);
}

#[test]
fn keygen_takes_a_kid_and_refuses_a_bad_one() {
    let dir = tempdir();
    let path = dir.path().join("k.json");
    let out = succeeds(on_file(
        &["keygen", "--alg", "eddsa", "--kid", "2026-11-a", "--out"],
        &path,
    ));
    assert_eq!(out, "2026-11-a\n");
    assert_eq!(kids(&path), ["2026-11-a"]);
    let bad = dir.path().join("bad.json");
    let bad_kid = [
        "keygen",
        "--alg",
        "hs256",
        "--kid",
        "../etc/passwd",
        "--out",
    ];
    fails_with(on_file(&bad_kid, &bad), "invalid_key");
    assert!(!bad.exists());
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempdir();
    let (path, _) = keygen(dir.path(), "k.json", "hs256");
    let before = std::fs::read(&path).unwrap();
    let err = fails_with(
        on_file(&["keygen", "--alg", "hs256", "--out"], &path),
        "file_exists",
    );
    assert!(err.contains("--force"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the old keys are intact"
    );
    // Also for a file that is not a key file at all.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "precious").unwrap();
    fails_with(
        on_file(&["keygen", "--alg", "eddsa", "--out"], &other),
        "file_exists",
    );
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "precious");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temp file left"
    );
}

#[test]
fn keygen_force_overwrites_with_a_new_0600_key() {
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "hs256");
    // Even if someone loosened the mode, the new file is 0600.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let forced = [
        "keygen", "--alg", "eddsa", "--kid", "fresh", "--force", "--out",
    ];
    assert_eq!(succeeds(on_file(&forced, &path)).trim(), "fresh");
    assert_ne!(first, "fresh");
    assert_eq!(kids(&path), ["fresh"]);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn keygen_into_a_missing_directory_is_an_io_error() {
    let dir = tempdir();
    let path = dir.path().join("no/such/dir/k.json");
    fails_with(on_file(&["keygen", "--alg", "hs256", "--out"], &path), "io");
}

#[test]
fn keys_list_shows_kids_algorithms_and_the_active_key() {
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "hs256");
    let second = rotate(&path, &["--alg", "eddsa"]);
    assert_eq!(
        list(&path),
        format!("{first}\tHS256\tverify\n{second}\tEdDSA\tactive\n")
    );
}

#[test]
fn keys_public_exports_eddsa_keys_without_secrets() {
    let dir = tempdir();
    let (path, kid) = keygen(dir.path(), "k.json", "eddsa");
    let signed_by_first = sign(&path, &["--iss", "i", "--aud", "a", "--payload", "1"]);
    rotate(&path, &["--alg", "hs256"]);
    let out = public_keys(&path);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "the HMAC key is not exported");
    assert_eq!(keys[0]["kid"], kid.as_str());
    assert_eq!(keys[0]["kty"], "OKP");
    assert!(keys[0].get("d").is_none());
    assert!(keys[0].get("k").is_none());
    for secret in key_doc(&path)["keys"].as_array().unwrap() {
        let secret = secret
            .get("d")
            .or(secret.get("k"))
            .unwrap()
            .as_str()
            .unwrap();
        assert!(!out.contains(secret));
    }
    // The public set is a verify-only key set: it verifies tokens of the exported key...
    let public = dir.path().join("public.json");
    std::fs::write(&public, &out).unwrap();
    let verify = |token: &str| {
        tessera()
            .args(["verify", "--iss", "i", "--aud", "a", "--keys"])
            .arg(&public)
            .arg(token)
            .assert()
    };
    verify(&signed_by_first).success().stdout("1\n");
    // ...and knows nothing of keys added later.
    rotate(&path, &["--alg", "eddsa"]);
    let signed_by_third = sign(&path, &["--iss", "i", "--aud", "a"]);
    verify(&signed_by_third)
        .code(1)
        .stderr(predicate::str::starts_with("error: unknown_key: "));
}

#[test]
fn keys_public_of_an_hmac_only_set_is_an_error() {
    let dir = tempdir();
    let (path, _) = keygen(dir.path(), "k.json", "hs256");
    let err = fails_with(on_file(&["keys", "public"], &path), "no_public_keys");
    let secret = key_doc(&path)["keys"][0]["k"].as_str().unwrap().to_owned();
    assert!(!err.contains(&secret));
}

#[test]
fn keys_rotate_keeps_old_keys_defaults_to_the_active_algorithm_and_stays_0600() {
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "eddsa");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let second = rotate(&path, &[]);
    assert_ne!(first, second);
    assert_eq!(kids(&path), [first, second.clone()]);
    let set = KeySet::from_file(&path).unwrap();
    assert_eq!(set.active().unwrap().kid().as_str(), second);
    assert_eq!(set.active().unwrap().algorithm(), Algorithm::EdDsa);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        names(dir.path()),
        ["k.json", "k.json.lock"],
        "no temp file left; the (empty) lock file stays"
    );
}

#[test]
fn keys_rotate_of_a_public_only_set_defaults_to_the_algorithm_of_its_keys() {
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "eddsa");
    let public = dir.path().join("public.json");
    std::fs::write(&public, public_keys(&path)).unwrap();
    assert!(KeySet::from_file(&public).unwrap().active().is_none());
    let second = rotate(&public, &[]);
    assert_eq!(kids(&public), [first, second.clone()]);
    let set = KeySet::from_file(&public).unwrap();
    assert_eq!(set.active().unwrap().kid().as_str(), second);
    assert_eq!(set.active().unwrap().algorithm(), Algorithm::EdDsa);
}

#[test]
fn keys_retire_removes_an_old_key_but_never_the_active_one() {
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "hs256");
    // The active key cannot go.
    let err = fails_with(
        on_file(&["keys", "retire"], &path).arg(&first),
        "invalid_key",
    );
    assert!(err.contains("rotate"));
    assert_eq!(kids(&path), std::slice::from_ref(&first));
    // A kid that is not there.
    fails_with(
        on_file(&["keys", "retire"], &path).arg("nope"),
        "invalid_key",
    );
    let second = rotate(&path, &[]);
    retire(&path, &first);
    assert_eq!(kids(&path), [second]);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn key_commands_report_missing_and_invalid_key_files() {
    let dir = tempdir();
    let missing = dir.path().join("missing.json");
    let garbage = dir.path().join("garbage.json");
    std::fs::write(
        &garbage,
        "{\"keys\": [{\"kty\": \"oct\", \"kid\": \"a\", \"alg\": \"HS256\", \"k\": \"c2hvcnQ\"}]}",
    )
    .unwrap();
    let not_json = dir.path().join("not-json.json");
    std::fs::write(&not_json, "this is not JSON, and contains a s3cret").unwrap();
    for sub in [
        &["keys", "list"][..],
        &["keys", "public"],
        &["keys", "rotate"],
    ] {
        let err = fails_with(on_file(sub, &missing), "io");
        assert!(err.contains("missing.json"), "{sub:?}: {err}");
        let err = fails_with(on_file(sub, &garbage), "invalid_key");
        assert!(err.contains("32 bytes"), "{sub:?}: {err}");
        let err = fails_with(on_file(sub, &not_json), "invalid_key");
        assert!(!err.contains("s3cret"), "file content is never echoed");
    }
    assert!(!missing.exists(), "rotate does not create a key file");
}

#[test]
fn a_key_file_over_1_mib_is_invalid_key_and_one_of_exactly_1_mib_loads() {
    // spec §3.4: the loader refuses a document over 1 MiB before parsing it, with invalid_key
    // (too_large is for tokens and request bodies, §6.1).
    let dir = tempdir();
    let (keys, _) = keygen(dir.path(), "k.json", "hs256");
    let doc = std::fs::read_to_string(&keys).unwrap();
    let padded = |size: usize| {
        let path = dir.path().join(format!("padded-{size}.json"));
        std::fs::write(&path, format!("{doc}{}", " ".repeat(size - doc.len()))).unwrap();
        path
    };
    let (at_cap, over) = (padded(1024 * 1024), padded(1024 * 1024 + 1));
    tessera()
        .args(["keys", "list"])
        .arg(&at_cap)
        .assert()
        .success();
    let a = tessera().args(["keys", "list"]).arg(&over).assert().code(1);
    assert!(
        stderr(&a).starts_with("error: invalid_key: "),
        "{}",
        stderr(&a)
    );
}

#[test]
fn round_trip_keygen_sign_verify_rotate_retire() {
    let dir = tempdir();
    let (keys, first) = keygen(dir.path(), "keys.json", "hs256");
    let verify = |token: &str| {
        tessera()
            .args([
                "verify",
                "--iss",
                "inventree",
                "--aud",
                "transfer",
                "--keys",
            ])
            .arg(&keys)
            .arg(token)
            .assert()
    };
    let old = sign(
        &keys,
        &[
            "--iss",
            "inventree",
            "--aud",
            "transfer",
            "--payload",
            r#"{"qty":25}"#,
        ],
    );
    verify(&old).success().stdout("{\n  \"qty\": 25\n}\n");

    let second = rotate(&keys, &["--alg", "eddsa"]);
    // The old token still verifies with the rotated file; new tokens use the new key.
    verify(&old).success().stdout("{\n  \"qty\": 25\n}\n");
    let new = sign(
        &keys,
        &["--iss", "inventree", "--aud", "transfer", "--payload", "7"],
    );
    let decoded = tessera_protocol::dangerous::decode_unverified(&new).unwrap();
    assert_eq!(decoded.header["kid"], second.as_str());
    verify(&new).success().stdout("7\n");

    retire(&keys, &first);
    let a = verify(&old).code(1);
    assert!(
        stderr(&a).starts_with("error: unknown_key: "),
        "{}",
        stderr(&a)
    );
    assert!(!stderr(&a).contains(&old), "the token is never echoed");
    verify(&new).success();
}

#[test]
fn kids_that_start_with_a_hyphen_are_values_not_flags() {
    // Generated kids are base64url, so about one in 32 starts with `-`.
    let dir = tempdir();
    let path = dir.path().join("k.json");
    let lead = ["keygen", "--alg", "hs256", "--kid", "-lead", "--out"];
    assert_eq!(succeeds(on_file(&lead, &path)), "-lead\n");
    rotate(&path, &[]);
    retire(&path, "-lead");
    assert!(!kids(&path).contains(&"-lead".to_owned()));
}

#[test]
fn rotate_and_retire_through_a_symlink_rewrite_the_target_and_keep_the_link() {
    let dir = tempdir();
    let (real, first) = keygen(dir.path(), "real.json", "hs256");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let second = rotate(&link, &[]);
    assert!(is_symlink(&link), "the link is still a link");
    assert_eq!(
        kids(&real),
        [first.clone(), second.clone()],
        "the target changed"
    );
    assert_eq!(mode(&real), 0o600);
    retire(&link, &first);
    assert!(is_symlink(&link));
    assert_eq!(kids(&real), [second]);
    assert_eq!(mode(&real), 0o600);
    // keygen --force through the link also rewrites the target.
    let forced = [
        "keygen", "--alg", "hs256", "--kid", "fresh", "--force", "--out",
    ];
    succeeds(on_file(&forced, &link));
    assert!(is_symlink(&link));
    assert_eq!(kids(&real), ["fresh"]);
}

/// Runs `tessera <args> PATH` `n` times at once and checks that every kid printed is in the
/// file, which then holds its first key and the `n` new ones.
fn rotate_in_parallel(path: &std::path::Path, n: usize, args: &[&str]) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
                .args(args)
                .arg(path)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut printed = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
    }
    let kids = kids(path);
    assert_eq!(kids.len(), n + 1, "{kids:?}");
    for kid in &printed {
        assert!(kids.contains(kid), "{kid} was lost: {kids:?}");
    }
}

#[test]
fn parallel_rotations_lose_no_key() {
    const N: usize = 10;
    let dir = tempdir();
    let (path, _) = keygen(dir.path(), "k.json", "hs256");
    rotate_in_parallel(&path, N, &["keys", "rotate"]);
    assert_eq!(mode(&path), 0o600);
    let lock = dir.path().join("k.json.lock");
    assert_eq!(mode(&lock), 0o600, "the lock file is private too");
}

#[test]
fn keygen_into_a_directory_says_it_is_a_directory() {
    let dir = tempdir();
    for force in [false, true] {
        let mut cmd = on_file(&["keygen", "--alg", "hs256", "--out"], dir.path());
        if force {
            cmd.arg("--force");
        }
        let err = fails_with(cmd, "is_a_directory");
        assert!(err.contains("is a directory"), "{err}");
        assert!(!err.contains("--force"), "no --force hint: {err}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn keys_public_of_a_sealing_only_set_names_the_real_reason() {
    let dir = tempdir();
    let (path, _) = keygen(dir.path(), "seal.json", "a256gcm");
    let err = fails_with(on_file(&["keys", "public"], &path), "no_public_keys");
    assert!(!err.contains("HMAC"), "{err}");
    assert!(err.contains("A256GCM"), "{err}");
    assert!(err.contains("sealing"), "{err}");
}

/// A key file whose name is not UTF-8 (legal on Unix) is read, rotated and used like any other:
/// the path is used as given, never through its lossy display form.
#[test]
fn key_files_with_non_utf8_names_are_usable() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempdir();
    let path = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"keys-\xff\xfe.json"));
    succeeds(on_file(
        &["keygen", "--alg", "eddsa", "--kid", "k1", "--out"],
        &path,
    ));
    let listed = list(&path);
    assert!(listed.starts_with("k1\tEdDSA\tactive"), "{listed}");
    public_keys(&path);
    let token = sign(&path, &["--iss", "i", "--aud", "a"]);
    verify(&path, &token).success();
    rotate(&path, &[]);
    assert_eq!(kids(&path).len(), 2);
    assert_eq!(mode(&path), 0o600);
}

// Staged rotation, for a host whose workers reload the key file one after another:
// `keys rotate --inactive`, reload, `keys activate`, reload.

/// The `kid` of a token's header, as `tessera inspect` shows it.
fn header_kid(token: &str) -> String {
    let text = succeeds(tessera().arg("inspect").arg(token));
    let header = text
        .split_once("header (unverified):\n")
        .and_then(|(_, rest)| rest.split_once("\nclaims"))
        .unwrap_or_else(|| panic!("no header in: {text}"))
        .0;
    let header: serde_json::Value = serde_json::from_str(header).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// `tessera verify` of a token from issuer `i` for audience `a` against `keys`; a sealed token
/// (five segments) with `--accept sealed`.
fn verify(keys: &std::path::Path, token: &str) -> assert_cmd::assert::Assert {
    let accept = if token.split('.').count() == 5 {
        "sealed"
    } else {
        "signed"
    };
    tessera()
        .args([
            "verify", "--iss", "i", "--aud", "a", "--accept", accept, "--keys",
        ])
        .arg(keys)
        .arg(token)
        .assert()
}

/// Runs `tessera keys rotate --inactive FILE [args]`; returns the printed kid and stderr.
fn rotate_inactive(path: &std::path::Path, args: &[&str]) -> (String, String) {
    let out = tessera()
        .args(["keys", "rotate", "--inactive"])
        .args(args)
        .arg(path)
        .assert()
        .success();
    (stdout(&out).trim().to_owned(), stderr(&out))
}

/// Runs `tessera keys activate FILE KID` and returns its stderr.
fn activate(path: &std::path::Path, kid: &str) -> String {
    let out = on_file(&["keys", "activate"], path)
        .arg(kid)
        .assert()
        .success();
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    stderr(&out)
}

#[test]
fn keys_rotate_inactive_adds_a_key_but_the_old_one_stays_active() {
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "hs256");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let old = sign(&path, &["--iss", "i", "--aud", "a", "--payload", "1"]);
    let (second, note) = rotate_inactive(&path, &[]);
    assert_ne!(first, second);
    assert_eq!(kids(&path), [first.clone(), second.clone()]);
    let set = KeySet::from_file(&path).unwrap();
    assert_eq!(set.active().unwrap().kid().as_str(), first, "still active");
    assert!(set.active_sealing().is_none());
    assert_eq!(
        set.get(&second).unwrap().algorithm(),
        Algorithm::Hs256,
        "the default algorithm is the active key's"
    );
    assert_eq!(key_doc(&path)["active"], first.as_str());
    // The note says the key is not active yet and gives the next command, exactly.
    assert!(note.contains("NOT active"), "{note}");
    assert!(note.contains(&first), "names the key still active: {note}");
    let next = format!("tessera keys activate {} {second}", path.display());
    assert!(note.contains(&next), "{next:?} not in {note}");
    // Tokens signed before still verify, and new ones are still signed by the old key.
    verify(&path, &old).success().stdout("1\n");
    let new = sign(&path, &["--iss", "i", "--aud", "a"]);
    assert_eq!(header_kid(&new), first);
    verify(&path, &new).success();
    // Listed as a plain verify key.
    assert_eq!(
        list(&path),
        format!("{first}\tHS256\tactive\n{second}\tHS256\tverify\n")
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(names(dir.path()), ["k.json", "k.json.lock"], "no temp file");
}

#[test]
fn keys_rotate_inactive_a256gcm_leaves_the_sealing_key_as_it_is() {
    let dir = tempdir();
    let (path, signing) = keygen(dir.path(), "k.json", "eddsa");
    let sealing = rotate(&path, &["--alg", "a256gcm"]);
    let old = sign(&path, &["--iss", "i", "--aud", "a", "--seal"]);
    let (added, note) = rotate_inactive(&path, &["--alg", "a256gcm"]);
    let set = KeySet::from_file(&path).unwrap();
    assert_eq!(set.active().unwrap().kid().as_str(), signing);
    assert_eq!(set.active_sealing().unwrap().kid().as_str(), sealing);
    assert_eq!(set.get(&added).unwrap().algorithm(), Algorithm::A256Gcm);
    assert!(note.contains("NOT active"), "{note}");
    assert!(note.contains(&sealing), "{note}");
    let sealed = sign(&path, &["--iss", "i", "--aud", "a", "--seal"]);
    assert_eq!(header_kid(&sealed), sealing);
    verify(&path, &old).success();
    assert_eq!(
        list(&path),
        format!(
            "{signing}\tEdDSA\tactive\n{sealing}\tA256GCM\tactive (sealing)\n\
             {added}\tA256GCM\topen (sealing)\n"
        )
    );
    // Without --alg, a sealing-only set's new inactive key is a sealing key too.
    let (seal_only, _) = keygen(dir.path(), "seal.json", "a256gcm");
    let (added, _) = rotate_inactive(&seal_only, &[]);
    let set = KeySet::from_file(&seal_only).unwrap();
    assert_eq!(set.get(&added).unwrap().algorithm(), Algorithm::A256Gcm);
    assert_ne!(set.active_sealing().unwrap().kid().as_str(), added);
}

/// The staged rotation of a signing key of `alg`: the new key verifies before it signs, and
/// once activated it signs while the old key still verifies.
fn staged_rotation_switches_the_signing_key(alg: &str, shown: &str) {
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", alg);
    let old = sign(&path, &["--iss", "i", "--aud", "a", "--payload", "1"]);
    let (second, _) = rotate_inactive(&path, &[]);
    let before = sign(&path, &["--iss", "i", "--aud", "a"]);
    assert_eq!(
        header_kid(&before),
        first,
        "{alg}: not active before activate"
    );
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let note = activate(&path, &second);
    assert!(note.contains(&second), "{alg}: {note}");
    assert!(note.contains("before"), "{alg}: {note}");
    assert!(
        note.contains(&first),
        "{alg}: names the previous key: {note}"
    );
    let set = KeySet::from_file(&path).unwrap();
    assert_eq!(set.active().unwrap().kid().as_str(), second, "{alg}");
    assert_eq!(
        kids(&path),
        [first.clone(), second.clone()],
        "{alg}: no key lost"
    );
    let new = sign(&path, &["--iss", "i", "--aud", "a", "--payload", "2"]);
    assert_eq!(
        header_kid(&new),
        second,
        "{alg}: signed by the activated key"
    );
    verify(&path, &new).success().stdout("2\n");
    verify(&path, &old).success().stdout("1\n");
    verify(&path, &before).success();
    assert_eq!(
        list(&path),
        format!("{first}\t{shown}\tverify\n{second}\t{shown}\tactive\n")
    );
    assert_eq!(mode(&path), 0o600, "{alg}");
    assert_eq!(
        names(dir.path()),
        ["k.json", "k.json.lock"],
        "{alg}: no temp file"
    );
    // And the old key can now be retired.
    on_file(&["keys", "retire"], &path)
        .arg(&first)
        .assert()
        .success()
        .stderr(predicates::str::contains("retired; 1 key left in"));
    assert_eq!(kids(&path), [second]);
}

#[test]
fn keys_activate_switches_the_active_key_of_an_hs256_set() {
    staged_rotation_switches_the_signing_key("hs256", "HS256");
}

#[test]
fn keys_activate_switches_the_active_key_of_an_eddsa_set() {
    staged_rotation_switches_the_signing_key("eddsa", "EdDSA");
}

#[test]
fn keys_activate_of_an_a256gcm_key_switches_the_sealing_key_only() {
    let dir = tempdir();
    let (path, signing) = keygen(dir.path(), "k.json", "hs256");
    let first = rotate(&path, &["--alg", "a256gcm"]);
    let old = sign(
        &path,
        &["--iss", "i", "--aud", "a", "--seal", "--payload", "1"],
    );
    assert_eq!(header_kid(&old), first);
    let (second, _) = rotate_inactive(&path, &["--alg", "a256gcm"]);
    let note = activate(&path, &second);
    assert!(note.contains("sealing"), "{note}");
    assert!(
        note.contains(&first),
        "names the previous sealing key: {note}"
    );
    let set = KeySet::from_file(&path).unwrap();
    assert_eq!(set.active_sealing().unwrap().kid().as_str(), second);
    assert_eq!(
        set.active().unwrap().kid().as_str(),
        signing,
        "the signing key is not affected"
    );
    let sealed = sign(
        &path,
        &["--iss", "i", "--aud", "a", "--seal", "--payload", "2"],
    );
    assert_eq!(header_kid(&sealed), second);
    verify(&path, &sealed).success().stdout("2\n");
    verify(&path, &old).success().stdout("1\n");
    assert_eq!(
        header_kid(&sign(&path, &["--iss", "i", "--aud", "a"])),
        signing
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(names(dir.path()), ["k.json", "k.json.lock"], "no temp file");
}

#[test]
fn keys_activate_of_the_active_key_succeeds_and_rewrites_nothing() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "eddsa");
    rotate_inactive(&path, &[]);
    let bytes = std::fs::read(&path).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    let note = activate(&path, &first);
    assert!(note.contains("already"), "{note}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(
        std::fs::metadata(&path).unwrap().ino(),
        inode,
        "the file was not rewritten"
    );
}

#[test]
fn keys_activate_refuses_an_unknown_kid_and_a_verify_only_key_and_leaves_the_file() {
    let dir = tempdir();
    let (path, active) = keygen(dir.path(), "k.json", "hs256");
    // Add an Ed25519 public key (no "d") of another issuer: it verifies, it cannot sign.
    let (other, public_kid) = keygen(dir.path(), "other.json", "eddsa");
    let public: serde_json::Value = serde_json::from_str(&public_keys(&other)).unwrap();
    let mut doc = key_doc(&path);
    doc["keys"]
        .as_array_mut()
        .unwrap()
        .push(public["keys"][0].clone());
    std::fs::write(&path, format!("{doc:#}\n")).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::remove_file(&other).unwrap();
    assert_eq!(
        list(&path),
        format!("{active}\tHS256\tactive\n{public_kid}\tEdDSA\tverify (public only)\n")
    );
    let bytes = std::fs::read(&path).unwrap();
    let refused = |kid: &str| {
        let err = fails_with(
            on_file(&["keys", "activate"], &path).arg(kid),
            "invalid_key",
        );
        assert!(err.contains(kid), "{kid}: names the kid: {err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{kid}: file unchanged"
        );
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            names(dir.path()),
            ["k.json", "k.json.lock"],
            "{kid}: no temp file"
        );
        err
    };
    let err = refused("nope");
    assert!(err.contains("not in the key file"), "{err}");
    let err = refused(&public_kid);
    assert!(err.contains("private part"), "{err}");
    assert!(err.contains("cannot sign"), "{err}");
    // A missing key file is an io error, and creates nothing.
    let missing = dir.path().join("missing.json");
    fails_with(on_file(&["keys", "activate"], &missing).arg(&active), "io");
    assert_eq!(names(dir.path()), ["k.json", "k.json.lock"]);
}

#[test]
fn keys_activate_through_a_symlink_rewrites_the_target_and_takes_hyphen_kids() {
    let dir = tempdir();
    let path = dir.path().join("real.json");
    succeeds(on_file(
        &["keygen", "--alg", "hs256", "--kid", "-lead", "--out"],
        &path,
    ));
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let (second, _) = rotate_inactive(&link, &[]);
    activate(&link, &second);
    assert!(is_symlink(&link), "the link is still a link");
    let active = |p: &std::path::Path| {
        KeySet::from_file(p)
            .unwrap()
            .active()
            .unwrap()
            .kid()
            .as_str()
            .to_owned()
    };
    assert_eq!(active(&path), second, "the target changed");
    activate(&link, "-lead");
    assert_eq!(active(&path), "-lead");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        names(dir.path()),
        ["link.json", "real.json", "real.json.lock"],
        "no temp file; the lock is next to the target"
    );
}

#[test]
fn parallel_inactive_rotations_lose_no_key_and_keep_the_active_one() {
    const N: usize = 6;
    let dir = tempdir();
    let (path, first) = keygen(dir.path(), "k.json", "hs256");
    rotate_in_parallel(&path, N, &["keys", "rotate", "--inactive"]);
    let set = KeySet::from_file(&path).unwrap();
    assert_eq!(set.active().unwrap().kid().as_str(), first);
}

#[test]
fn keys_help_explains_the_staged_rotation() {
    let help = succeeds(tessera().args(["keys", "--help"]));
    assert!(help.contains("activate"), "{help}");
    assert!(
        help.contains("rotate --inactive, reload, activate, reload"),
        "{help}"
    );
    let help = succeeds(tessera().args(["keys", "rotate", "--help"]));
    assert!(help.contains("--inactive"), "{help}");
    assert!(help.contains("tessera keys activate FILE KID"), "{help}");
}
