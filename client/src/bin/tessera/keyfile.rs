//! Key files: read only when regular and trusted, written whole with mode 0600 (both through
//! [`tessera_protocol::file`]), rewritten under an exclusive lock.

use std::path::{Path, PathBuf};

use tessera_protocol::file::{self, Durability, ReadRules};
use tessera_protocol::{KeySet, MAX_KEY_SET_BYTES};

use crate::failure::Failure;

/// Loads a key set from a JWK Set file.
pub(crate) fn load(path: &Path) -> Result<KeySet, Failure> {
    read_set(path, "key file", KeySet::from_json)
}

/// Loads a key set an issuer published (its `/.well-known/jwks.json`): Ed25519 public keys
/// only ([`KeySet::from_public_jwks`]).
pub(crate) fn load_published(path: &Path) -> Result<KeySet, Failure> {
    read_set(path, "published key set", KeySet::from_public_jwks)
}

/// Reads the file at `path` by the key-file rules (a regular file, which no other user may
/// write or owns: [`ReadRules::trusted`], of at most [`MAX_KEY_SET_BYTES`]) and parses it with `parse`; an
/// error names the file as a `what`. The protocol's messages never quote key material.
fn read_set(
    path: &Path,
    what: &str,
    parse: fn(&str) -> Result<KeySet, tessera_protocol::Error>,
) -> Result<KeySet, Failure> {
    let text = ReadRules::new(MAX_KEY_SET_BYTES)
        .trusted()
        .read(path)
        .map_err(|e| Failure::key_file(what, &e))?;
    parse(&text).map_err(|e| {
        Failure::new(
            e.code().as_str(),
            format!("{what} {} is not usable: {e}", path.display()),
        )
    })
}

/// The file a key-file path stands for: a symbolic link is followed to its target (so that a
/// rewrite replaces the target, not the link); a path that does not exist yet is kept as is.
pub(crate) fn resolve(path: &Path) -> Result<PathBuf, Failure> {
    match std::fs::canonicalize(path) {
        Ok(target) => Ok(target),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !is_symlink(path) => {
            Ok(path.to_path_buf())
        }
        Err(e) => Err(Failure::io(format!(
            "cannot resolve the key file path {}: {e}",
            path.display()
        ))),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// An exclusive lock on a key file, held until dropped: a sidecar `<name>.lock` (mode 0600)
/// next to the resolved key file, locked with [`std::fs::File::lock`]. Every rewrite of a key
/// file (`keys rotate`, `keys activate`, `keys retire`, `keygen --force`) reads, changes and
/// writes it while holding this lock, so concurrent rewrites never lose each other's keys.
pub(crate) struct KeyFileLock {
    /// The locked sidecar file; `None` when there was nothing to lock (see [`lock`]).
    _file: Option<std::fs::File>,
}

/// Resolves `path` and takes the exclusive lock on it, waiting for other holders.
///
/// The lock file is created only for a key file that exists, or with `create` (a key file
/// about to be written); otherwise nothing is locked and the caller's read reports the missing
/// file, so a failed `keys rotate` of a missing file leaves nothing behind.
pub(crate) fn lock(path: &Path, create: bool) -> Result<KeyFileLock, Failure> {
    let resolved = resolve(path)?;
    file::check_replaceable(&resolved).map_err(|e| Failure::file("key file", &e))?;
    if !create && !resolved.exists() {
        return Ok(KeyFileLock { _file: None });
    }
    let mut name = resolved.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let lock_path = resolved.with_file_name(name);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let io = |what: &str, e: std::io::Error| {
        Failure::io(format!(
            "cannot {what} the lock file {}: {e}",
            lock_path.display()
        ))
    };
    let file = options.open(&lock_path).map_err(|e| io("create", e))?;
    file.lock().map_err(|e| io("lock", e))?;
    Ok(KeyFileLock { _file: Some(file) })
}

/// Writes `set` to `path` whole ([`file::replace_whole`] with `overwrite`, else
/// [`file::create_whole`], which never replaces an existing file): a temporary file (mode 0600)
/// in the directory of the file `path` resolves to (symbolic links followed), synced, then
/// renamed over it or linked to its name. A reader never sees a half-written key file, a
/// symbolic link keeps pointing at the rewritten file, and only a regular file is replaced.
pub(crate) fn store(path: &Path, set: &KeySet, overwrite: bool) -> Result<(), Failure> {
    let target = resolve(path)?;
    let mut text = set.to_private_json();
    text.push('\n');
    let durability = Durability::ContentAndFolderIfPossible;
    let refused = |e: file::FileError| Failure::file("key file", &e);
    if overwrite {
        return file::replace_whole(&target, text.as_bytes(), durability).map_err(refused);
    }
    file::check_replaceable(&target).map_err(refused)?;
    if file::create_whole(&target, text.as_bytes(), durability).map_err(refused)? {
        Ok(())
    } else {
        Err(Failure::new(
            "file_exists",
            format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            ),
        ))
    }
}
