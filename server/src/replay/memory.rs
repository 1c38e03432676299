//! The in-process replay guard: one process, bounded memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tessera_protocol::{Clock, SystemClock};

use super::{GuardFuture, ReleaseFuture, ReplayGuard, StoreUnavailable, Use, store_key};

/// The default bound on [`MemoryReplayGuard`] entries.
pub const DEFAULT_MEMORY_ENTRIES: usize = 100_000;

/// An in-process replay guard: a map from token id to expiry, bounded in size.
///
/// Entries are dropped once their token has expired. When the map is full of unexpired entries
/// the guard fails closed (it never evicts a live entry, which would re-open a replay window).
/// It protects one process only: for several worker processes use a shared store
/// ([`FileReplayGuard`](super::FileReplayGuard) on one machine, `RedisReplayGuard` with the `redis` feature).
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
