//! Which files the CLI reads and replaces: a key file, a published key set or a payload file
//! only when it is a regular file (a FIFO is refused at once, never waited on), a key file
//! only when no other user could have written it, and `keygen` replaces regular files only.

use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::util::{fails_with, keygen, names, on_file, sign, succeeds, tempdir, tessera};

/// A FIFO at `dir/name` (mode 0600), made with the system's `mkfifo`.
fn mkfifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let made = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    path
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every command that reads a key file (`file`), each with what else it needs; `token` is
/// signed by a key of the file, `kid` names one of its keys.
fn key_file_readers(file: &Path, token: &str, kid: &str) -> Vec<assert_cmd::Command> {
    let verify = |flag: &str| {
        let mut cmd = tessera();
        cmd.args(["verify", "--iss", "i", "--aud", "a", flag])
            .arg(file)
            .arg(token);
        cmd
    };
    let mut signing = tessera();
    signing
        .args(["sign", "--iss", "i", "--aud", "a", "--keys"])
        .arg(file);
    let mut activate = on_file(&["keys", "activate"], file);
    activate.arg(kid);
    let mut retire = on_file(&["keys", "retire"], file);
    retire.arg(kid);
    vec![
        verify("--keys"),
        verify("--jwks"),
        signing,
        on_file(&["keys", "list"], file),
        on_file(&["keys", "public"], file),
        on_file(&["keys", "rotate"], file),
        activate,
        retire,
    ]
}

/// `tessera sign --keys KEYS --payload @PAYLOAD`.
fn sign_with_payload_file(keys: &Path, payload: &Path) -> assert_cmd::Command {
    let mut cmd = on_file(&["sign", "--iss", "i", "--aud", "a", "--keys"], keys);
    cmd.arg(format!("--payload=@{}", payload.display()));
    cmd
}

#[test]
fn a_fifo_given_as_a_key_file_is_refused_by_every_command_without_waiting() {
    let dir = tempdir();
    let (keys, kid) = keygen(dir.path(), "keys.json", "eddsa");
    let token = sign(&keys, &["--iss", "i", "--aud", "a"]);
    let fifo = mkfifo(dir.path(), "fifo.json");
    // No writer ever opens the FIFO: a reader that opened it would wait for ever (the
    // command's hang guard would then fail the test).
    for cmd in key_file_readers(&fifo, &token, &kid) {
        let err = fails_with(cmd, "not_a_file");
        assert!(err.contains("fifo.json") && err.contains("FIFO"), "{err}");
    }
    let err = fails_with(sign_with_payload_file(&keys, &fifo), "not_a_file");
    assert!(err.contains("payload file"), "{err}");
    // Nothing was written beside it (no lock file for the rewriting commands).
    assert_eq!(names(dir.path()), ["fifo.json", "keys.json"]);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn keygen_replaces_only_a_regular_file() {
    let dir = tempdir();
    let fifo = mkfifo(dir.path(), "fifo.json");
    let socket = dir.path().join("socket.json");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    for (path, what) in [(&fifo, "FIFO"), (&socket, "socket")] {
        for force in [true, false] {
            let mut cmd = on_file(&["keygen", "--alg", "hs256", "--out"], path);
            if force {
                cmd.arg("--force");
            }
            let err = fails_with(cmd, "not_a_file");
            assert!(
                err.contains(what) && err.contains("not a regular file"),
                "{err}"
            );
        }
    }
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::metadata(&socket).unwrap().file_type().is_socket());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "nothing else written"
    );
    // A device is refused the same way, and left as it is.
    let err = fails_with(
        tessera().args(["keygen", "--alg", "hs256", "--force", "--out", "/dev/null"]),
        "not_a_file",
    );
    assert!(err.contains("character device"), "{err}");
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(!Path::new("/dev/null.lock").exists());
}

#[test]
fn a_directory_given_as_a_key_file_or_payload_says_it_is_a_directory() {
    let dir = tempdir();
    let (keys, kid) = keygen(dir.path(), "keys.json", "hs256");
    let token = sign(&keys, &["--iss", "i", "--aud", "a"]);
    for cmd in key_file_readers(dir.path(), &token, &kid) {
        let err = fails_with(cmd, "is_a_directory");
        assert!(err.contains("is a directory"), "{err}");
    }
    fails_with(sign_with_payload_file(&keys, dir.path()), "is_a_directory");
}

#[test]
fn a_key_file_other_users_may_write_is_refused_by_every_command_and_left_as_it_is() {
    let dir = tempdir();
    let (keys, kid) = keygen(dir.path(), "keys.json", "eddsa");
    let token = sign(&keys, &["--iss", "i", "--aud", "a"]);
    let public = dir.path().join("public.json");
    std::fs::write(&public, succeeds(on_file(&["keys", "public"], &keys))).unwrap();
    let before = std::fs::read(&keys).unwrap();
    for mode in [0o666, 0o620, 0o602] {
        chmod(&keys, mode);
        chmod(&public, mode);
        let mut readers = key_file_readers(&keys, &token, &kid);
        // --jwks reads the published set.
        readers[1] = tessera();
        readers[1]
            .args(["verify", "--iss", "i", "--aud", "a", "--jwks"])
            .arg(&public)
            .arg(&token);
        for cmd in readers {
            let err = fails_with(cmd, "invalid_key");
            assert!(err.contains("other users may write"), "{mode:o}: {err}");
            assert!(err.contains(&format!("mode {mode:o}")), "{err}");
            assert!(err.contains("chmod go-w"), "{err}");
        }
        assert_eq!(
            std::fs::read(&keys).unwrap(),
            before,
            "the file is unchanged"
        );
    }
    // Readable by others is the owner's business: it is read (and a rewrite makes it 0600).
    chmod(&keys, 0o644);
    chmod(&public, 0o644);
    let verified = |flag: &str, file: &Path| {
        let mut cmd = tessera();
        cmd.args(["verify", "--iss", "i", "--aud", "a", flag])
            .arg(file)
            .arg(&token);
        succeeds(cmd)
    };
    assert_eq!(verified("--keys", &keys), "null\n");
    assert_eq!(verified("--jwks", &public), "null\n");
}

#[test]
fn a_key_file_another_user_owns_is_refused() {
    use std::os::unix::fs::MetadataExt as _;
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        return; // only root can give a file to another user
    }
    let dir = tempdir();
    let (keys, kid) = keygen(dir.path(), "keys.json", "eddsa");
    let token = sign(&keys, &["--iss", "i", "--aud", "a"]);
    std::os::unix::fs::chown(&keys, Some(65534), None).unwrap();
    for cmd in key_file_readers(&keys, &token, &kid) {
        let err = fails_with(cmd, "invalid_key");
        assert!(err.contains("another user (uid 65534)"), "{err}");
    }
    // Root's own files are trusted.
    std::os::unix::fs::chown(&keys, Some(0), None).unwrap();
    succeeds(on_file(&["keys", "list"], &keys));
}
