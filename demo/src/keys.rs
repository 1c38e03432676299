//! The host's key set: loaded from the key file, which is created on first run.

use std::fs::DirBuilder;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use tessera_protocol::file::{self, Durability};
use tessera_protocol::{Algorithm, KeySet};

use crate::cli::KeySource;

/// Loads the key set. A missing key file is created (when `create` is set) holding one fresh
/// key of `alg`, with mode 0600; the folder it needs is created with mode 0700.
///
/// The file is read by [`KeySet::from_file`]: a key file that someone else could have written
/// is refused (one that other users may write to, or that belongs to a user other than this
/// process's or root: its keys would be theirs, and with an HS256 key they could mint any
/// button, say a key file under a shared folder such as /tmp, planted before the host starts),
/// and so is a directory or device. A FIFO is read (a secret manager may feed the key file
/// through one). Errors are sentences naming the path, never key material.
pub(crate) fn load(source: &KeySource, alg: Algorithm, create: bool) -> Result<KeySet, String> {
    match source {
        KeySource::Inline(json) => {
            KeySet::from_json(json).map_err(|e| format!("--keys / TESSERA_KEYS: {e}"))
        }
        KeySource::File(path) => {
            if create && !path.exists() {
                create_key_file(path, alg)?;
            }
            let keys = KeySet::from_file(path).map_err(|e| e.to_string())?;
            warn_if_readable_by_others(path);
            Ok(keys)
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

/// Creates the key file whole ([`file::create_whole`]): a reader never sees a half-written key
/// file, a crash leaves at most a stray temporary file, and of several hosts creating it at
/// once one wins and the others read its file.
fn create_key_file(path: &Path, alg: Algorithm) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create key folder {}: {e}", dir.display()))?;
    }
    let keys = KeySet::generate(alg).map_err(|e| e.to_string())?;
    let mut text = keys.to_private_json();
    text.push('\n');
    let created = file::create_whole(
        path,
        text.as_bytes(),
        Durability::ContentAndFolderIfPossible,
    )
    .map_err(|e| format!("key file: {e}"))?;
    if created {
        tracing::info!(path = %path.display(), alg = alg.as_str(), "created a new key file");
    }
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

    /// Many creators at once on a fresh path (threads here; processes behave alike): every
    /// one loads a complete key file, and all agree on the key. (With create-then-write, a
    /// loser could read the winner's file empty or half-written.)
    #[test]
    fn concurrent_creators_all_succeed_and_agree() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let source = KeySource::File(dir.path().join("k").join("keys.json"));
            let barrier = std::sync::Barrier::new(8);
            let kids: Vec<String> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            let keys = load(&source, Algorithm::Hs256, true).unwrap();
                            keys.active().unwrap().kid().as_str().to_owned()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert!(kids.iter().all(|k| k == &kids[0]), "{kids:?}");
            let left: Vec<_> = std::fs::read_dir(dir.path().join("k"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(left, ["keys.json"], "no temporary file is left behind");
        }
    }

    /// A key file others may write to, or one another user owns, is refused (they could have
    /// chosen its keys); one only readable by others loads (with a warning).
    #[test]
    fn a_key_file_others_control_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let source = KeySource::File(path.clone());
        load(&source, Algorithm::Hs256, true).unwrap();
        for mode in [0o620, 0o602, 0o666] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = load(&source, Algorithm::Hs256, false).unwrap_err();
            assert!(
                err.contains("other users may write") && err.contains("keys.json"),
                "{err}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        load(&source, Algorithm::Hs256, false).unwrap();
        // Owned by another (non-root) user: only root can arrange that here.
        let root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        if root {
            std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
            let err = load(&source, Algorithm::Hs256, false).unwrap_err();
            assert!(err.contains("another user (uid 65534)"), "{err}");
        }
    }
}
