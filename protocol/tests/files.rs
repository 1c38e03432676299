//! `tessera_protocol::file`: whole-file writes and trusted key-file reads, through the public API.

use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::time::Duration;

use tessera_protocol::file::{
    Durability, FileError, ReadRules, check_replaceable, create_whole, is_temporary, replace_whole,
};
use tessera_protocol::{Algorithm, ErrorCode, KeySet, MAX_KEY_SET_BYTES};

/// The rules key files are read by: at most a key set's size, trusted.
fn key_file_rules() -> ReadRules {
    ReadRules::new(MAX_KEY_SET_BYTES).trusted()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A key file `keys.json` in `dir` holding a fresh HS256 set, with the process's umask.
fn key_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("keys.json");
    let keys = KeySet::generate(Algorithm::Hs256).unwrap();
    std::fs::write(&path, keys.to_private_json()).unwrap();
    path
}

/// A FIFO at `path`, made with the system's `mkfifo` (mode 0600).
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
}

/// Runs `read` on another thread and returns its result, or fails the test if it hangs.
fn without_hanging<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the read returned instead of waiting for a writer")
}

#[test]
fn concurrent_creators_of_one_file_one_wins_and_every_reader_sees_it_whole() {
    for durability in [
        Durability::None,
        Durability::Content,
        Durability::ContentAndFolder,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id");
        let barrier = std::sync::Barrier::new(8);
        let created: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let (path, barrier) = (&path, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let content = vec![b'a' + i; 64 * 1024];
                        let created = create_whole(path, &content, durability).unwrap();
                        let seen = std::fs::read(path).unwrap();
                        assert_eq!(seen.len(), 64 * 1024, "whole");
                        assert!(seen.iter().all(|&b| b == seen[0]), "one writer's content");
                        created
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(created.iter().filter(|&&c| c).count(), 1, "{created:?}");
        assert_eq!(names(dir.path()), ["id"], "no temporary file left");
        assert_eq!(mode(&path), 0o600);
    }
}

#[test]
fn replacing_a_file_writes_it_private_and_whole_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    std::fs::write(&path, "old").unwrap();
    chmod(&path, 0o644);
    replace_whole(&path, b"new\n", Durability::ContentAndFolderIfPossible).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    assert_eq!(mode(&path), 0o600, "the new file is private");
    assert_eq!(names(dir.path()), ["keys.json"]);
}

#[test]
fn only_a_regular_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink("elsewhere", &link).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let cases: [(&Path, &str); 3] = [
        (&fifo, "a FIFO (named pipe)"),
        (&link, "a symbolic link"),
        (Path::new("/dev/null"), "a character device"),
    ];
    for (path, what) in cases {
        let err = replace_whole(path, b"x", Durability::Content).unwrap_err();
        match &err {
            FileError::NotRegular { found, .. } => assert_eq!(*found, what),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(check_replaceable(path).is_err());
    }
    let err = replace_whole(&sub, b"x", Durability::Content).unwrap_err();
    assert!(matches!(err, FileError::IsDirectory { .. }), "{err:?}");
    // Each is left as it was, and nothing else was written.
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("elsewhere"));
    assert_eq!(names(dir.path()), ["link", "pipe", "sub"]);
}

#[test]
fn a_fifo_is_refused_at_once_unless_the_reader_accepts_one() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("keys.json");
    mkfifo(&fifo);
    let path = fifo.clone();
    let err = without_hanging(move || key_file_rules().read(&path)).unwrap_err();
    assert!(
        matches!(
            &err,
            FileError::NotRegular {
                found: "a FIFO (named pipe)",
                ..
            }
        ),
        "{err:?}"
    );
    // A reader that accepts a FIFO waits for its writer and reads what it sends.
    let path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(&path, "{\"keys\":[]}").unwrap());
    let text = key_file_rules().or_fifo().read(&fifo).unwrap();
    writer.join().unwrap();
    assert_eq!(text, "{\"keys\":[]}");
    // A device is refused before it is read (an endless one would otherwise be read to the cap).
    for device in ["/dev/zero", "/dev/null"] {
        let err = key_file_rules().or_fifo().read(device).unwrap_err();
        assert!(
            matches!(
                &err,
                FileError::NotRegular {
                    found: "a character device",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn a_key_file_other_users_may_write_is_refused_and_one_they_may_read_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = key_file(dir.path());
    for bits in [0o620, 0o602, 0o666] {
        chmod(&path, bits);
        let err = key_file_rules().read(&path).unwrap_err();
        assert!(
            matches!(&err, FileError::OthersMayWrite { mode, .. } if *mode == bits),
            "{err:?}"
        );
        // The key-set loader refuses it the same way, as invalid_key naming the file.
        let err = KeySet::from_file(&path).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidKey);
        let text = err.to_string();
        assert!(
            text.contains("other users may write") && text.contains("keys.json"),
            "{text}"
        );
        // Without the trust rule it is read.
        ReadRules::new(1 << 20).read(&path).unwrap();
    }
    chmod(&path, 0o644);
    assert_eq!(KeySet::from_file(&path).unwrap().len(), 1);
}

#[test]
fn a_key_file_another_user_owns_is_refused() {
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    if me != 0 {
        // Only root can give a file to another user (as any other user, the rule for files
        // others may write stands alone).
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = key_file(dir.path());
    chmod(&path, 0o600);
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
    let err = key_file_rules().read(&path).unwrap_err();
    assert!(
        matches!(err, FileError::OwnedByOther { uid: 65534, .. }),
        "{err:?}"
    );
    let err = KeySet::from_file(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(
        err.to_string().contains("another user (uid 65534)"),
        "{err}"
    );
    // Owned by root (this process's user here) it loads.
    std::os::unix::fs::chown(&path, Some(0), None).unwrap();
    KeySet::from_file(&path).unwrap();
}

#[test]
fn temporary_names_are_told_apart_from_the_files_they_become() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v12.json");
    let tmp = tessera_protocol::file::temporary_name(&path);
    assert!(is_temporary(tmp.file_name().unwrap()));
    assert!(!is_temporary(path.file_name().unwrap()));
    // A leftover temporary file does not stand in the way of the write.
    std::fs::write(&tmp, "left over").unwrap();
    assert!(create_whole(&path, b"{}\n", Durability::Content).unwrap());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
}
