//! The host's key set: loaded from the key file, which is created on first run.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use tessera_protocol::{Algorithm, KeySet};

use crate::cli::KeySource;

/// Loads the key set. A missing key file is created (when `create` is set) holding one fresh
/// key of `alg`, with mode 0600; the folder it needs is created with mode 0700.
///
/// Errors are sentences naming the path, never key material.
pub(crate) fn load(source: &KeySource, alg: Algorithm, create: bool) -> Result<KeySet, String> {
    match source {
        KeySource::Inline(json) => {
            KeySet::from_json(json).map_err(|e| format!("--keys / TESSERA_KEYS: {e}"))
        }
        KeySource::File(path) => {
            if create && !path.exists() {
                create_key_file(path, alg)?;
            }
            warn_if_readable_by_others(path);
            KeySet::from_file(path).map_err(|e| e.to_string())
        }
    }
    .and_then(|keys| {
        if keys.active().is_none() {
            Err(
                "the key set has no active signing key; the host mints tokens and needs one"
                    .to_owned(),
            )
        } else {
            Ok(keys)
        }
    })
}

/// Writes a new key file atomically with respect to other creators: `create_new` either
/// creates it with mode 0600 or finds that another process did, in which case that file wins.
fn create_key_file(path: &Path, alg: Algorithm) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create key folder {}: {e}", dir.display()))?;
    }
    let keys = KeySet::generate(alg).map_err(|e| e.to_string())?;
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(format!("cannot create key file {}: {e}", path.display())),
    };
    file.write_all(keys.to_private_json().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write key file {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), alg = alg.as_str(), "created a new key file");
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "the key file is readable by other users; chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("keys.json");
        let source = KeySource::File(path.clone());
        let first = load(&source, Algorithm::Hs256, true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        let second = load(&source, Algorithm::EdDsa, true).unwrap();
        assert_eq!(
            first.active().unwrap().kid(),
            second.active().unwrap().kid()
        );
        assert_eq!(second.active().unwrap().algorithm(), Algorithm::Hs256);
    }

    #[test]
    fn missing_file_without_create_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.json");
        let err = load(&KeySource::File(path.clone()), Algorithm::Hs256, false).unwrap_err();
        assert!(err.contains("absent.json"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn verify_only_inline_set_is_refused() {
        let err = load(
            &KeySource::Inline("{\"keys\":[]}".to_owned()),
            Algorithm::Hs256,
            true,
        )
        .unwrap_err();
        assert!(err.contains("no active signing key"), "{err}");
    }
}
