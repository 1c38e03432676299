//! Key files: read with actionable errors, written atomically with mode 0600.

use std::io::Write as _;
use std::path::Path;

use tessera_protocol::KeySet;

use crate::failure::Failure;
use crate::input;

/// The largest key file read, in bytes (a key set of hundreds of keys fits easily).
const MAX_KEY_FILE: usize = 1024 * 1024;

/// Loads a key set from a JWK Set file.
pub(crate) fn load(path: &Path) -> Result<KeySet, Failure> {
    let shown = path.display().to_string();
    let text = input::small_file(&shown, "key", MAX_KEY_FILE)?;
    // The protocol's messages never quote key material.
    KeySet::from_json(&text).map_err(|e| {
        Failure::new(
            e.code().as_str(),
            format!("key file {shown} is not a usable key set: {e}"),
        )
    })
}

/// Writes `set` to `path` atomically: a temp file (mode 0600) in the same directory, flushed
/// to disk, then renamed over `path` (`overwrite`) or linked to it only if `path` does not
/// exist yet (no-clobber). A reader never sees a half-written key file.
pub(crate) fn store(path: &Path, set: &KeySet, overwrite: bool) -> Result<(), Failure> {
    let shown = path.display();
    let dir = match path.parent() {
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
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
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
