//! The file replay guard: the processes of one machine, one file per recorded use.

use std::sync::Arc;

use tessera_protocol::file::{self, Durability};
use tessera_protocol::{Clock, SystemClock};

use super::{GuardFuture, ReleaseFuture, ReplayGuard, StoreUnavailable, Use, store_key};

/// How many shard folders the file guard spreads its records over (the first byte of the name).
const FILE_SHARDS: usize = 256;
/// How many entries of one shard a call to the file guard examines for expiry, at most.
const FILE_PURGE_BATCH: usize = 32;
/// A temporary file older than this (seconds) is a leftover of a crash, removed by the purge.
const FILE_TMP_STALE: u64 = 60;

/// A replay guard in a folder, shared by every process of one machine that uses the same
/// folder (the demo's worker processes): one file per recorded use.
///
/// Each use is recorded as a file named by the hex SHA-256 of [`store_key`] (under a shard
/// folder named by its first two hex digits), holding the record's expiry (Unix seconds). The
/// file is written complete under a temporary name and then hard-linked to its name, which
/// fails if the name exists: an atomic create-if-absent across processes, so two concurrent
/// first uses of one `jti` give exactly one [`Use::First`], and nobody ever sees a half-written
/// record. Expired records are removed opportunistically: each call examines at most
/// 32 entries of the next shard in turn (bounded work per click). A record whose file exists
/// is refused even if it has expired but was not purged yet (its token cannot verify any more
/// anyway). File IO runs off the async executor ([`tokio::task::spawn_blocking`]); any IO
/// error is [`StoreUnavailable`], so the action fails closed.
///
/// It needs a local file system with hard links (not every network file system gives their
/// atomicity). By default records are not synced to disk: a machine crash (not a process
/// crash) may forget the last uses, whose tokens could then run once more while they have not
/// expired. [`FileReplayGuard::synced`] makes each first use durable before it is reported.
///
/// ```
/// use tessera_server::replay::{FileReplayGuard, ReplayGuard, Use};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let guard = FileReplayGuard::new(dir.path().join("replay")).unwrap();
/// let exp = u64::MAX / 2;
/// assert_eq!(guard.first_use("a", "jti-1", exp).await.unwrap(), Use::First);
/// assert_eq!(guard.first_use("a", "jti-1", exp).await.unwrap(), Use::Replayed);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct FileReplayGuard {
    inner: Arc<FileStore>,
    /// Whether a first use is synced to disk before it is reported.
    sync: bool,
}

#[derive(Debug)]
struct FileStore {
    dir: std::path::PathBuf,
    clock: Arc<dyn Clock>,
    /// The next shard the purge examines.
    cursor: std::sync::atomic::AtomicUsize,
    /// Shards whose folder entry this guard has synced (a synced guard syncs each once, even
    /// one another process created: that process may not have synced it yet).
    durable_shards: [std::sync::atomic::AtomicBool; 256],
}

impl FileReplayGuard {
    /// A guard storing its records in `dir`, created (mode 0700) when missing.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Result<FileReplayGuard, StoreUnavailable> {
        FileReplayGuard::with_clock(dir, Arc::new(SystemClock))
    }

    /// The same, reading `now` from `clock`, which decides which records the purge removes as
    /// expired. Unlike [`MemoryReplayGuard`](super::MemoryReplayGuard), an expired record still refuses its token id
    /// until the purge has reached its shard (each call examines the next of the 256 shards in
    /// turn); after that the id may be recorded again (its token would be refused as expired
    /// before it reached the guard anyway).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::FixedClock;
    /// use tessera_server::replay::{FileReplayGuard, ReplayGuard, Use};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let guard = FileReplayGuard::with_clock(dir.path(), Arc::new(FixedClock(2000)))?;
    /// assert_eq!(guard.first_use("s", "jti", 1500).await?, Use::First);
    /// assert_eq!(guard.first_use("s", "jti", 1500).await?, Use::Replayed); // expired, not purged yet
    /// for i in 0..256 {
    ///     guard.first_use("s", &format!("other-{i}"), 1500).await?; // one purge round
    /// }
    /// assert_eq!(guard.first_use("s", "jti", 1500).await?, Use::First);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_clock(
        dir: impl Into<std::path::PathBuf>,
        clock: Arc<dyn Clock>,
    ) -> Result<FileReplayGuard, StoreUnavailable> {
        use std::os::unix::fs::DirBuilderExt as _;
        let dir = dir.into();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_unavailable("cannot create the replay folder", &e))?;
        Ok(FileReplayGuard {
            inner: Arc::new(FileStore {
                dir,
                clock,
                cursor: std::sync::atomic::AtomicUsize::new(0),
                durable_shards: std::array::from_fn(|_| std::sync::atomic::AtomicBool::new(false)),
            }),
            sync: false,
        })
    }

    /// The same guard, but each first use is on disk before it is reported: the record's file
    /// is synced before it is linked to its name, and its shard folder after (when the shard
    /// folder is new, the guard's folder and that folder's parent too). A machine crash then
    /// never forgets a use the action ran for. Costs two disk syncs per single-use click; a
    /// sync that fails is [`StoreUnavailable`] (the action does not run; when the record's
    /// folder could not be synced, the record is removed again, so its token stays usable).
    ///
    /// ```
    /// use tessera_server::replay::{FileReplayGuard, ReplayGuard, Use};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let guard = FileReplayGuard::new(dir.path().join("replay"))?.synced();
    /// assert!(guard.is_synced());
    /// assert_eq!(guard.first_use("a", "jti-1", u64::MAX / 2).await?, Use::First);
    /// assert_eq!(guard.first_use("a", "jti-1", u64::MAX / 2).await?, Use::Replayed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn synced(mut self) -> FileReplayGuard {
        self.sync = true;
        self
    }

    /// Whether first uses are synced to disk ([`FileReplayGuard::synced`]).
    pub fn is_synced(&self) -> bool {
        self.sync
    }

    /// The folder holding the records.
    pub fn dir(&self) -> &std::path::Path {
        &self.inner.dir
    }

    /// Runs `work` on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FileStore) -> Result<T, StoreUnavailable> + Send + 'static,
    ) -> Result<T, StoreUnavailable> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|_| StoreUnavailable {
                reason: "the replay folder task failed".to_owned(),
            })?
    }
}

/// Syncs a folder's entries (the names created or linked in it) to disk.
fn sync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn io_unavailable(what: &str, e: &std::io::Error) -> StoreUnavailable {
    StoreUnavailable {
        reason: format!("{what} ({})", e.kind()),
    }
}

impl FileStore {
    /// The shard folder and file name of a record.
    fn record_path(&self, scope: &str, jti: &str) -> std::path::PathBuf {
        let digest = ring::digest::digest(&ring::digest::SHA256, store_key(scope, jti).as_bytes());
        let mut name = String::with_capacity(64);
        for byte in digest.as_ref() {
            use std::fmt::Write as _;
            let _ = write!(name, "{byte:02x}");
        }
        self.dir.join(&name[..2]).join(name)
    }

    fn record(
        &self,
        path: &std::path::Path,
        expires_at: u64,
        sync: bool,
    ) -> Result<Use, StoreUnavailable> {
        use std::os::unix::fs::DirBuilderExt as _;
        let shard = path.parent().unwrap_or(&self.dir);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(shard)
            .map_err(|e| io_unavailable("cannot create a replay shard folder", &e))?;
        // The shard's folder entry must be durable before a record in it counts, whoever
        // created the folder (another process may have created it and not synced it yet):
        // synced once per shard by each synced guard.
        let durable = shard
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| u8::from_str_radix(n, 16).ok())
            .map(|i| &self.durable_shards[usize::from(i)]);
        let unsynced =
            sync && durable.is_none_or(|d| !d.load(std::sync::atomic::Ordering::Acquire));
        if unsynced {
            // The shard's name in the folder, and the folder's own name in its parent.
            let parent = match self.dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => std::path::Path::new("."),
            };
            sync_dir(&self.dir)
                .and_then(|()| sync_dir(parent))
                .map_err(|e| io_unavailable("cannot sync the replay folder", &e))?;
            if let Some(durable) = durable {
                durable.store(true, std::sync::atomic::Ordering::Release);
            }
        }
        // Written whole under a temporary name (synced when asked), then linked to the
        // record's name, which link(2) creates only if no use was recorded before; when
        // synced, the shard folder too (a record not known to be durable is removed again:
        // the action must not run, and its token stays usable).
        let durability = if sync {
            Durability::ContentAndFolder
        } else {
            Durability::None
        };
        match file::create_whole(path, format!("{expires_at}\n").as_bytes(), durability) {
            Ok(true) => Ok(Use::First),
            Ok(false) => Ok(Use::Replayed),
            Err(e) => Err(io_unavailable(
                "cannot write a replay record",
                &e.kind().into(),
            )),
        }
    }

    /// Removes the expired records (and stale temporary files) among at most
    /// [`FILE_PURGE_BATCH`] entries of the next shard. Best effort: errors are ignored.
    fn purge(&self) {
        let shard = self
            .cursor
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % FILE_SHARDS;
        let Ok(entries) = std::fs::read_dir(self.dir.join(format!("{shard:02x}"))) else {
            return;
        };
        let now = self.clock.now();
        for entry in entries.take(FILE_PURGE_BATCH).flatten() {
            let path = entry.path();
            let is_tmp = file::is_temporary(&entry.file_name());
            let expired = if is_tmp {
                entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > FILE_TMP_STALE)
            } else {
                std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| text.trim().parse::<u64>().ok())
                    .is_some_and(|exp| exp <= now)
            };
            if expired {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

impl ReplayGuard for FileReplayGuard {
    fn first_use<'a>(&'a self, scope: &'a str, jti: &'a str, expires_at: u64) -> GuardFuture<'a> {
        let path = self.inner.record_path(scope, jti);
        let sync = self.sync;
        Box::pin(self.blocking(move |store| {
            let used = store.record(&path, expires_at, sync);
            store.purge();
            used
        }))
    }

    fn release<'a>(&'a self, scope: &'a str, jti: &'a str) -> ReleaseFuture<'a> {
        let path = self.inner.record_path(scope, jti);
        Box::pin(self.blocking(move |_| match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_unavailable("cannot remove a replay record", &e)),
        }))
    }
}
