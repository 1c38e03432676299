//! The file replay guard: one folder shared by several guards (as by several processes).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tessera_protocol::Clock;
use tessera_server::replay::{FileReplayGuard, ReplayGuard, Use};

use crate::util::NOW;

/// A clock the test moves.
#[derive(Debug)]
struct TestClock(AtomicU64);

impl Clock for TestClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Record files (not the temporary ones) under `dir`.
fn records(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|shard| std::fs::read_dir(shard.unwrap().path()).unwrap())
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count()
}

/// Sixteen threads, each with its own guard on the same folder and its own runtime (as
/// separate processes would), race to use one jti, `rounds` times: exactly one first use each
/// time.
fn race_first_uses(path: &std::path::Path, synced: bool, rounds: usize) {
    for round in 0..rounds {
        let jti = format!("jti-{round}");
        let barrier = std::sync::Barrier::new(16);
        let uses: Vec<Use> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    s.spawn(|| {
                        let guard = FileReplayGuard::new(path).unwrap();
                        let guard = if synced { guard.synced() } else { guard };
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .build()
                            .unwrap();
                        barrier.wait();
                        rt.block_on(guard.first_use("scope", &jti, u64::MAX / 2))
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let firsts = uses.iter().filter(|u| **u == Use::First).count();
        assert_eq!(firsts, 1, "round {round}: {uses:?}");
    }
    assert_eq!(records(path), rounds);
}

#[test]
fn concurrent_first_uses_of_one_jti_give_exactly_one_first() {
    let dir = tempfile::tempdir().unwrap();
    race_first_uses(&dir.path().join("replay"), false, 20);
}

#[test]
fn a_synced_guard_gives_exactly_one_first_use_and_leaves_complete_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synced").join("replay"); // its parent is created too
    race_first_uses(&path, true, 8);
    // Every record holds its expiry; no temporary file is left behind.
    for shard in std::fs::read_dir(&path).unwrap() {
        for entry in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !tessera_protocol::file::is_temporary(&entry.file_name()),
                "temporary file left: {name}"
            );
            let text = std::fs::read_to_string(entry.path()).unwrap();
            assert_eq!(text.trim().parse::<u64>().unwrap(), u64::MAX / 2);
        }
    }
    assert!(!FileReplayGuard::new(&path).unwrap().is_synced());
}

#[tokio::test]
async fn records_are_scoped_released_and_purged_once_expired() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(TestClock(AtomicU64::new(NOW)));
    let guard = FileReplayGuard::with_clock(dir.path().join("r"), clock.clone()).unwrap();
    assert_eq!(
        guard.first_use("a", "j", NOW + 10).await.unwrap(),
        Use::First
    );
    assert_eq!(
        guard.first_use("a", "j", NOW + 10).await.unwrap(),
        Use::Replayed
    );
    // Another scope is another record.
    assert_eq!(
        guard.first_use("b", "j", NOW + 10).await.unwrap(),
        Use::First
    );

    // Release: the token can be used again (once).
    guard.release("a", "j").await.unwrap();
    assert_eq!(
        guard.first_use("a", "j", NOW + 10).await.unwrap(),
        Use::First
    );
    assert_eq!(
        guard.first_use("a", "j", NOW + 10).await.unwrap(),
        Use::Replayed
    );
    guard.release("a", "never-used").await.unwrap();

    // A long-lived record survives the purge; expired ones are removed within one turn of
    // the shards.
    assert_eq!(
        guard.first_use("c", "long", NOW + 1000).await.unwrap(),
        Use::First
    );
    assert_eq!(records(guard.dir()), 3);
    clock.0.store(NOW + 20, Ordering::SeqCst);
    for i in 0..256 {
        let jti = format!("filler-{i}");
        assert_eq!(
            guard.first_use("f", &jti, NOW + 5).await.unwrap(),
            Use::First
        );
    }
    // Every filler expired on creation (NOW + 5 < now) and the three of NOW + 10 too; most
    // are gone after one turn (a filler written after its shard's turn remains).
    assert_eq!(
        guard.first_use("c", "long", NOW + 1000).await.unwrap(),
        Use::Replayed
    );
    let left = records(guard.dir());
    assert!(left < 256, "{left} records left");
    clock.0.store(NOW + 2000, Ordering::SeqCst);
    for _ in 0..256 {
        guard.release("x", "y").await.unwrap();
        let _ = guard.first_use("x", "y", NOW + 3000).await.unwrap();
    }
    guard.release("x", "y").await.unwrap();
    assert_eq!(records(guard.dir()), 0, "everything expired was purged");
}

/// A temporary file a crashed writer left in a shard (named as every whole-file write names
/// them, `tessera_protocol::file::temporary_name`) is removed once it is stale; one that may
/// still be being written is kept.
#[tokio::test]
async fn the_purge_removes_stale_temporary_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let guard = FileReplayGuard::new(dir.path().join("r")).unwrap();
    let shard = guard.dir().join("00");
    std::fs::create_dir(&shard).unwrap();
    let record = shard.join(format!("00{}", "ab".repeat(31)));
    let stale = tessera_protocol::file::temporary_name(&record);
    let fresh = tessera_protocol::file::temporary_name(&record);
    for tmp in [&stale, &fresh] {
        std::fs::write(tmp, b"12").unwrap();
    }
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    for i in 0..256 {
        guard
            .first_use("p", &format!("turn-{i}"), u64::MAX / 2)
            .await
            .unwrap();
    }
    assert!(!stale.exists(), "the stale temporary file was purged");
    assert!(fresh.exists(), "a fresh temporary file is kept");
}

#[tokio::test]
async fn an_unwritable_folder_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    assert!(FileReplayGuard::new(file.join("replay")).is_err());

    let guard = FileReplayGuard::new(dir.path().join("replay")).unwrap();
    // The folder vanishes and a file takes its place: every use is StoreUnavailable.
    std::fs::remove_dir_all(guard.dir()).unwrap();
    std::fs::write(guard.dir(), b"x").unwrap();
    let err = guard.first_use("a", "j", u64::MAX / 2).await.unwrap_err();
    assert!(!err.reason.contains("j\""), "{err}");

    // The same with a synced guard, which also fails closed.
    let err = guard
        .synced()
        .first_use("a", "j", u64::MAX / 2)
        .await
        .unwrap_err();
    assert!(err.reason.starts_with("cannot "), "{err}");
}
