//! Helpers shared by the test modules: running the CLI, key files, file modes.

use std::borrow::BorrowMut;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// A guard against hangs (never an assertion on timing): a child still running after this is
/// killed and its test fails.
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(120);

/// The `tessera` binary of this package.
pub(crate) fn tessera() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("tessera");
    cmd.timeout(HANG_GUARD);
    cmd
}

/// `tessera <args> FILE`: a command about a file (append a kid or a token with `.arg`).
pub(crate) fn on_file(args: &[&str], file: &Path) -> Command {
    let mut cmd = tessera();
    cmd.args(args).arg(file);
    cmd
}

/// Runs `cmd`, expects exit 0 and returns its stdout.
pub(crate) fn succeeds(mut cmd: impl BorrowMut<Command>) -> String {
    stdout(&cmd.borrow_mut().assert().success())
}

/// Runs `cmd`, expects exit 1 with one line `error: <code>: …` on stderr and nothing on
/// stdout, and returns that line.
pub(crate) fn fails_with(mut cmd: impl BorrowMut<Command>, code: &str) -> String {
    let a = cmd.borrow_mut().assert().code(1);
    let err = stderr(&a);
    assert!(
        err.starts_with(&format!("error: {code}: ")),
        "want {code}, got {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(stdout(&a).is_empty(), "nothing on stdout: {}", stdout(&a));
    err
}

/// Runs `tessera keys rotate [args] FILE` and returns the new kid.
pub(crate) fn rotate(file: &Path, args: &[&str]) -> String {
    let mut cmd = tessera();
    cmd.args(["keys", "rotate"]).args(args).arg(file);
    succeeds(cmd).trim().to_owned()
}

/// Runs `tessera keys list FILE` and returns what it prints.
pub(crate) fn list(file: &Path) -> String {
    succeeds(on_file(&["keys", "list"], file))
}

/// Runs `tessera keys public FILE` and returns the public JWK Set it prints.
pub(crate) fn public_keys(file: &Path) -> String {
    succeeds(on_file(&["keys", "public"], file))
}

/// Runs `tessera keys retire FILE KID`, expecting success.
pub(crate) fn retire(file: &Path, kid: &str) {
    succeeds(on_file(&["keys", "retire"], file).arg(kid));
}

/// Runs `tessera keygen` into `dir/name` and returns the path and the printed kid.
pub(crate) fn keygen(dir: &Path, name: &str, alg: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let out = tessera()
        .args(["keygen", "--alg", alg, "--out"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    (path, String::from_utf8(out).unwrap().trim().to_owned())
}

/// Runs `tessera sign` with `args` after `--keys FILE` and returns the token.
pub(crate) fn sign(keys: &Path, args: &[&str]) -> String {
    let out = tessera()
        .arg("sign")
        .arg("--keys")
        .arg(keys)
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap().trim().to_owned()
}

/// The permission bits of a file.
pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The key file's JSON document.
pub(crate) fn key_doc(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The kids in a key file, in order.
pub(crate) fn kids(path: &Path) -> Vec<String> {
    key_doc(path)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The file names in `dir`, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether `path` is a symbolic link (not followed).
pub(crate) fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_symlink()
}

/// A fresh temporary directory.
pub(crate) fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The stderr of a finished command, as text.
pub(crate) fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// The stdout of a finished command, as text.
pub(crate) fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}
