//! Key files: read with actionable errors, written atomically with mode 0600, rewritten under
//! an exclusive lock.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use tessera_protocol::{KeySet, MAX_KEY_SET_BYTES};

use crate::failure::Failure;
use crate::input;

/// The largest key file read, in bytes: the protocol's cap on a key-set document (a key set
/// of hundreds of keys fits easily). A larger file is `invalid_key`, as spec §3.4 says.
const MAX_KEY_FILE: usize = MAX_KEY_SET_BYTES;

/// Loads a key set from a JWK Set file.
pub(crate) fn load(path: &Path) -> Result<KeySet, Failure> {
    read_set(path, "key", "key file", KeySet::from_json)
}

/// Loads a key set an issuer published (its `/.well-known/jwks.json`): Ed25519 public keys
/// only ([`KeySet::from_public_jwks`]).
pub(crate) fn load_published(path: &Path) -> Result<KeySet, Failure> {
    read_set(path, "JWKS", "published key set", KeySet::from_public_jwks)
}

/// Reads the file at `path` (at most [`MAX_KEY_FILE`] bytes) and parses it with `parse`; an
/// error names the file as a `what`. The protocol's messages never quote key material.
fn read_set(
    path: &Path,
    file_kind: &str,
    what: &str,
    parse: fn(&str) -> Result<KeySet, tessera_protocol::Error>,
) -> Result<KeySet, Failure> {
    let shown = path.display();
    let text = input::small_file(path, file_kind, MAX_KEY_FILE, "invalid_key")?;
    parse(&text).map_err(|e| {
        Failure::new(
            e.code().as_str(),
            format!("{what} {shown} is not usable: {e}"),
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
    refuse_directory(path, &resolved)?;
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

/// Writes `set` to `path` atomically: a temp file (mode 0600) in the directory of the file
/// `path` resolves to (symbolic links followed), flushed to disk, then renamed over it
/// (`overwrite`) or linked to it only if it does not exist yet (no-clobber). A reader never
/// sees a half-written key file, and a symbolic link keeps pointing at the rewritten file.
pub(crate) fn store(path: &Path, set: &KeySet, overwrite: bool) -> Result<(), Failure> {
    let shown = path.display();
    let target = resolve(path)?;
    refuse_directory(path, &target)?;
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let io = |what: &str, e: std::io::Error| Failure::io(format!("cannot {what} {shown}: {e}"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tessera-keys-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io("create a temporary file next to", e))?;
    restrict(tmp.as_file()).map_err(|e| io("set mode 0600 for", e))?;
    let mut text = set.to_private_json();
    text.push('\n');
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io("write", e))?;
    let persisted = if overwrite {
        tmp.persist(&target)
    } else {
        tmp.persist_noclobber(&target)
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::new(
                "file_exists",
                format!("{shown} already exists; pass --force to overwrite it"),
            )
        } else {
            io("write", e.error)
        }
    })?;
    // Make the rename itself durable; a failure here does not undo the write.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A directory is never a key file: say so (rather than "exists, pass --force").
fn refuse_directory(path: &Path, target: &Path) -> Result<(), Failure> {
    if target.is_dir() {
        return Err(Failure::new(
            "is_a_directory",
            format!(
                "{} is a directory; give the path of a key file",
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn restrict(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_file: &std::fs::File) -> std::io::Result<()> {
    // tempfile creates files readable by the owner only where the platform supports it.
    Ok(())
}
