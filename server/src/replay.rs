//! Single-use actions: a replay guard keyed on the token's `jti`.
//!
//! A signed token can be posted again within its lifetime. A route marked single-use records
//! each token's `jti` the first time it is used, atomically, until the token can no longer
//! verify plus a margin ([`REPLAY_RECORD_MARGIN`](crate::REPLAY_RECORD_MARGIN)); a second
//! use is refused with `replayed` (409). If the store cannot be reached, the action fails closed
//! with `replay_unavailable` (503) and never runs unguarded. Routes not marked stay stateless.
//!
//! Three stores: [`MemoryReplayGuard`] (one process; bounded memory; expired entries dropped),
//! [`FileReplayGuard`] (several processes of one machine: one file per use in a shared folder,
//! created atomically) and, behind the `redis` cargo feature, `RedisReplayGuard` (several
//! processes and machines: one `SET key 1 NX EX seconds-left` per use).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tessera_protocol::file::{self, Durability};
use tessera_protocol::{Clock, SystemClock};

/// A boxed future, as returned by [`ReplayGuard::first_use`].
pub type GuardFuture<'a> = Pin<Box<dyn Future<Output = Result<Use, StoreUnavailable>> + Send + 'a>>;

/// A boxed future, as returned by [`ReplayGuard::release`].
pub type ReleaseFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), StoreUnavailable>> + Send + 'a>>;

/// What the guard says of one use of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// The first use: the action may run.
    First,
    /// The token was used before: refuse with `replayed`.
    Replayed,
}

/// The guard's store could not answer; the action must fail closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreUnavailable {
    /// Why, in words (no token, no secret).
    pub reason: String,
}

impl fmt::Display for StoreUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replay store unavailable: {}", self.reason)
    }
}

impl std::error::Error for StoreUnavailable {}

/// Records the first use of each token id, atomically, until the time it is given (the
/// extractor gives `exp` + leeway + [`REPLAY_RECORD_MARGIN`](crate::REPLAY_RECORD_MARGIN)).
///
/// Implementations must be atomic across every process that shares the store: two concurrent
/// first uses of one `jti` give exactly one [`Use::First`]. An implementation that cannot
/// reach its store answers [`StoreUnavailable`], never a guess: the route then fails closed.
///
/// A guard over another store (a database table with a unique key, say) implements the two
/// methods; here, a toy one over a `Mutex<HashSet>`, plugged into a [`TesseraConfig`](crate::TesseraConfig):
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::Mutex;
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::replay::{
///     store_key, GuardFuture, ReleaseFuture, ReplayGuard, StoreUnavailable, Use,
/// };
/// use tessera_server::TesseraConfig;
///
/// #[derive(Debug, Default)]
/// struct SetGuard(Mutex<HashSet<String>>);
///
/// impl ReplayGuard for SetGuard {
///     fn first_use<'a>(&'a self, scope: &'a str, jti: &'a str, _expires_at: u64) -> GuardFuture<'a> {
///         Box::pin(async move {
///             let mut set = self.0.lock().map_err(|_| StoreUnavailable { reason: "poisoned".into() })?;
///             // Insert-if-absent is the atomic step: exactly one caller sees `true`.
///             Ok(if set.insert(store_key(scope, jti)) { Use::First } else { Use::Replayed })
///         })
///     }
///     fn release<'a>(&'a self, scope: &'a str, jti: &'a str) -> ReleaseFuture<'a> {
///         Box::pin(async move {
///             let mut set = self.0.lock().map_err(|_| StoreUnavailable { reason: "poisoned".into() })?;
///             set.remove(&store_key(scope, jti));
///             Ok(())
///         })
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let guard = SetGuard::default();
/// assert_eq!(guard.first_use("iss|aud", "jti-1", 0).await.unwrap(), Use::First);
/// assert_eq!(guard.first_use("iss|aud", "jti-1", 0).await.unwrap(), Use::Replayed);
/// guard.release("iss|aud", "jti-1").await.unwrap();
/// assert_eq!(guard.first_use("iss|aud", "jti-1", 0).await.unwrap(), Use::First);
/// # });
/// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
///     .with_replay_guard(SetGuard::default())
///     .build()?;
/// # let _ = state;
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub trait ReplayGuard: Send + Sync + fmt::Debug + 'static {
    /// Records `jti` (namespaced by `scope`, e.g. issuer and action) until `expires_at` (Unix
    /// seconds), and says whether this was its first use.
    fn first_use<'a>(&'a self, scope: &'a str, jti: &'a str, expires_at: u64) -> GuardFuture<'a>;

    /// [`ReplayGuard::first_use`], told the current time `now` (Unix seconds) of the clock that
    /// verified the token. The extractor calls this one. A guard whose store judges expiry on
    /// a clock of its own (a Redis server, perhaps on another machine) keeps the record for
    /// `expires_at - now` seconds of that store's time, so that the two clocks need not agree.
    /// The default ignores `now` and calls `first_use`.
    ///
    /// ```
    /// use tessera_server::replay::{MemoryReplayGuard, ReplayGuard, Use};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let guard = MemoryReplayGuard::new(100);
    /// let (now, exp) = (4_000_000_000, 4_000_000_300);
    /// assert_eq!(guard.first_use_at("iss|aud", "jti-1", exp, now).await.unwrap(), Use::First);
    /// assert_eq!(guard.first_use_at("iss|aud", "jti-1", exp, now).await.unwrap(), Use::Replayed);
    /// # });
    /// ```
    fn first_use_at<'a>(
        &'a self,
        scope: &'a str,
        jti: &'a str,
        expires_at: u64,
        now: u64,
    ) -> GuardFuture<'a> {
        let _ = now;
        self.first_use(scope, jti, expires_at)
    }

    /// Forgets the record of `jti` (in `scope`), so the token can be used again. Called when a
    /// single-use route's handler refused the click (answered 4xx) after the use was recorded:
    /// the action did not run, so the token is not used up (spec §10.1). Releasing a record
    /// that does not exist is not an error. If it fails, the token simply stays used up.
    fn release<'a>(&'a self, scope: &'a str, jti: &'a str) -> ReleaseFuture<'a>;
}

/// The default bound on [`MemoryReplayGuard`] entries.
pub const DEFAULT_MEMORY_ENTRIES: usize = 100_000;

/// An in-process replay guard: a map from token id to expiry, bounded in size.
///
/// Entries are dropped once their token has expired. When the map is full of unexpired entries
/// the guard fails closed (it never evicts a live entry, which would re-open a replay window).
/// It protects one process only: for several worker processes use a shared store
/// ([`FileReplayGuard`] on one machine, `RedisReplayGuard` with the `redis` feature).
///
/// ```
/// use tessera_server::replay::{MemoryReplayGuard, ReplayGuard, Use};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let guard = MemoryReplayGuard::new(1000);
/// let exp = u64::MAX / 2;
/// assert_eq!(guard.first_use("a", "jti-1", exp).await.unwrap(), Use::First);
/// assert_eq!(guard.first_use("a", "jti-1", exp).await.unwrap(), Use::Replayed);
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryReplayGuard {
    entries: Mutex<HashMap<String, u64>>,
    max_entries: usize,
    clock: Arc<dyn Clock>,
}

impl MemoryReplayGuard {
    /// A guard holding at most `max_entries` unexpired token ids. When that many are live, a
    /// new use fails closed ([`StoreUnavailable`], so `replay_unavailable`) rather than forget one
    /// (so with 0, every single-use click fails closed).
    ///
    /// ```
    /// use tessera_server::replay::{MemoryReplayGuard, ReplayGuard, Use};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let guard = MemoryReplayGuard::new(1);
    /// let exp = u64::MAX / 2;
    /// assert_eq!(guard.first_use("s", "jti-1", exp).await?, Use::First);
    /// assert!(guard.first_use("s", "jti-2", exp).await.is_err()); // full of live entries
    /// assert_eq!(guard.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn new(max_entries: usize) -> MemoryReplayGuard {
        MemoryReplayGuard::with_clock(max_entries, Arc::new(SystemClock))
    }

    /// The same, reading `now` from `clock`: a token id is forgotten once its token has
    /// expired, so the same id may be recorded again (its token would be refused as expired
    /// before it reached the guard anyway).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::FixedClock;
    /// use tessera_server::replay::{MemoryReplayGuard, ReplayGuard, Use};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let at_1000 = MemoryReplayGuard::with_clock(10, Arc::new(FixedClock(1000)));
    /// assert_eq!(at_1000.first_use("s", "jti", 1500).await.unwrap(), Use::First);
    /// assert_eq!(at_1000.first_use("s", "jti", 1500).await.unwrap(), Use::Replayed);
    /// let at_2000 = MemoryReplayGuard::with_clock(10, Arc::new(FixedClock(2000)));
    /// assert_eq!(at_2000.first_use("s", "jti", 1500).await.unwrap(), Use::First);
    /// assert_eq!(at_2000.first_use("s", "jti", 1500).await.unwrap(), Use::First);
    /// # });
    /// ```
    pub fn with_clock(max_entries: usize, clock: Arc<dyn Clock>) -> MemoryReplayGuard {
        MemoryReplayGuard {
            entries: Mutex::new(HashMap::new()),
            max_entries,
            clock,
        }
    }

    /// The number of entries held (expired ones may linger until the next purge).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn record(&self, key: String, expires_at: u64) -> Result<Use, StoreUnavailable> {
        let now = self.clock.now();
        let mut map = self.entries.lock().map_err(|_| StoreUnavailable {
            reason: "the in-memory guard was poisoned by a panic".to_owned(),
        })?;
        match map.get(&key) {
            Some(&exp) if exp > now => return Ok(Use::Replayed),
            _ => {}
        }
        if map.len() >= self.max_entries {
            map.retain(|_, exp| *exp > now);
            if map.len() >= self.max_entries {
                return Err(StoreUnavailable {
                    reason: format!("the in-memory guard holds {} live entries", map.len()),
                });
            }
        }
        map.insert(key, expires_at);
        Ok(Use::First)
    }
}

impl ReplayGuard for MemoryReplayGuard {
    fn first_use<'a>(&'a self, scope: &'a str, jti: &'a str, expires_at: u64) -> GuardFuture<'a> {
        let key = store_key(scope, jti);
        Box::pin(async move { self.record(key, expires_at) })
    }

    fn release<'a>(&'a self, scope: &'a str, jti: &'a str) -> ReleaseFuture<'a> {
        let key = store_key(scope, jti);
        Box::pin(async move {
            let mut map = self.entries.lock().map_err(|_| StoreUnavailable {
                reason: "the in-memory guard was poisoned by a panic".to_owned(),
            })?;
            map.remove(&key);
            Ok(())
        })
    }
}

/// The key under which a use is recorded: scope and jti, length-prefixed so no two
/// (scope, jti) pairs collide.
///
/// ```
/// use tessera_server::replay::store_key;
/// assert_eq!(store_key("iss|aud", "abc"), "tessera:jti:7:iss|aud:abc");
/// // The same text split differently gives another key.
/// assert_ne!(store_key("a:b", "c"), store_key("a", "b:c"));
/// ```
pub fn store_key(scope: &str, jti: &str) -> String {
    format!("tessera:jti:{}:{scope}:{jti}", scope.len())
}

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
    /// expired. Unlike [`MemoryReplayGuard`], an expired record still refuses its token id
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

#[cfg(feature = "redis")]
pub use self::redis_store::RedisReplayGuard;

#[cfg(feature = "redis")]
mod redis_store {
    use std::time::Duration;

    use tokio::sync::Mutex as AsyncMutex;

    use tessera_protocol::{Clock as _, SystemClock};

    use super::{GuardFuture, ReleaseFuture, ReplayGuard, StoreUnavailable, Use, store_key};

    /// How long one Redis round trip may take before the action fails closed.
    const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

    /// A replay guard in Redis, shared by every process and machine that uses the same server:
    /// each use is one atomic `SET key 1 NX EX seconds`, the record's remaining lifetime
    /// (`expires_at` minus the verifier's `now`, at least 1): a relative lifetime, so Redis's
    /// clock need not agree with the hosts' ([`ReplayGuard::first_use_at`]; `first_use` takes
    /// the system clock's now).
    ///
    /// The connection is opened lazily and re-opened after an error; any error or a round trip
    /// over two seconds is [`StoreUnavailable`], so the action fails closed.
    pub struct RedisReplayGuard {
        client: redis::Client,
        conn: AsyncMutex<Option<redis::aio::MultiplexedConnection>>,
    }

    impl std::fmt::Debug for RedisReplayGuard {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            // The URL may carry a password: never print it.
            f.debug_struct("RedisReplayGuard").finish_non_exhaustive()
        }
    }

    impl RedisReplayGuard {
        /// A guard for the server at `url` (`redis://host:port/db`). Only parses the URL; the
        /// connection is made on first use.
        ///
        /// ```
        /// use tessera_server::replay::RedisReplayGuard;
        /// let guard = RedisReplayGuard::new("redis://:hunter2@127.0.0.1:6379/0")?; // no I/O yet
        /// assert!(!format!("{guard:?}").contains("hunter2")); // Debug never shows the URL
        /// assert!(RedisReplayGuard::new("not a url").is_err());
        /// # Ok::<(), tessera_server::replay::StoreUnavailable>(())
        /// ```
        pub fn new(url: &str) -> Result<RedisReplayGuard, StoreUnavailable> {
            let client = redis::Client::open(url).map_err(|_| StoreUnavailable {
                reason: "the Redis URL is not valid".to_owned(),
            })?;
            Ok(RedisReplayGuard {
                client,
                conn: AsyncMutex::new(None),
            })
        }

        async fn set_nx(&self, key: &str, seconds: u64) -> Result<Use, StoreUnavailable> {
            match self.try_set_nx(key, seconds).await {
                // A connection that died (a Redis restart) fails once; reconnect and try once
                // more. If the first SET did land and only its reply was lost, the retry answers
                // "replayed": a refusal, never an unguarded second run.
                Err(Attempt::ConnectionLost) => match self.try_set_nx(key, seconds).await {
                    Ok(use_) => Ok(use_),
                    Err(e) => Err(e.into()),
                },
                other => other.map_err(Into::into),
            }
        }

        /// `DEL key`, on the cached connection (opened if needed; dropped after an error).
        async fn del(&self, key: &str) -> Result<(), StoreUnavailable> {
            let mut conn = self.connection().await?;
            let reply: Result<i64, redis::RedisError> = tokio::time::timeout(
                REDIS_TIMEOUT,
                redis::cmd("DEL").arg(key).query_async(&mut conn),
            )
            .await
            .map_err(|_| StoreUnavailable::from(Attempt::Failed("command timed out")))?;
            if reply.is_err() {
                *self.conn.lock().await = None;
                return Err(Attempt::Failed("command failed").into());
            }
            Ok(())
        }

        /// A clone of the cached connection, opened first if there is none.
        async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, Attempt> {
            let mut slot = self.conn.lock().await;
            if slot.is_none() {
                let conn = tokio::time::timeout(
                    REDIS_TIMEOUT,
                    self.client.get_multiplexed_async_connection(),
                )
                .await
                .map_err(|_| Attempt::Failed("connection timed out"))?
                .map_err(|_| Attempt::Failed("connection failed"))?;
                *slot = Some(conn);
            }
            slot.as_ref()
                .cloned()
                .ok_or(Attempt::Failed("connection missing"))
        }

        async fn try_set_nx(&self, key: &str, seconds: u64) -> Result<Use, Attempt> {
            let mut conn = self.connection().await?;
            let reply: Result<Option<String>, redis::RedisError> = tokio::time::timeout(
                REDIS_TIMEOUT,
                redis::cmd("SET")
                    .arg(key)
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(seconds)
                    .query_async(&mut conn),
            )
            .await
            .map_err(|_| Attempt::Failed("command timed out"))?;
            match reply {
                Ok(Some(_)) => Ok(Use::First),
                Ok(None) => Ok(Use::Replayed),
                Err(e) => {
                    // Drop the connection so the next attempt reconnects.
                    *self.conn.lock().await = None;
                    if e.is_connection_dropped() || e.is_io_error() {
                        Err(Attempt::ConnectionLost)
                    } else {
                        Err(Attempt::Failed("command failed"))
                    }
                }
            }
        }
    }

    /// Why one attempt failed.
    enum Attempt {
        /// The cached connection was dead: worth one reconnect.
        ConnectionLost,
        Failed(&'static str),
    }

    impl From<Attempt> for StoreUnavailable {
        fn from(a: Attempt) -> StoreUnavailable {
            let what = match a {
                Attempt::ConnectionLost => "connection lost",
                Attempt::Failed(what) => what,
            };
            StoreUnavailable {
                reason: format!("Redis {what}"),
            }
        }
    }

    impl ReplayGuard for RedisReplayGuard {
        fn first_use<'a>(
            &'a self,
            scope: &'a str,
            jti: &'a str,
            expires_at: u64,
        ) -> GuardFuture<'a> {
            self.first_use_at(scope, jti, expires_at, SystemClock.now())
        }

        fn first_use_at<'a>(
            &'a self,
            scope: &'a str,
            jti: &'a str,
            expires_at: u64,
            now: u64,
        ) -> GuardFuture<'a> {
            let key = store_key(scope, jti);
            // At least one second: Redis refuses `EX 0`, and a record must exist to refuse.
            let seconds = expires_at.saturating_sub(now).max(1);
            Box::pin(async move { self.set_nx(&key, seconds).await })
        }

        fn release<'a>(&'a self, scope: &'a str, jti: &'a str) -> ReleaseFuture<'a> {
            let key = store_key(scope, jti);
            Box::pin(async move { self.del(&key).await })
        }
    }
}
