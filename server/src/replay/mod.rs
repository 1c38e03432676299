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

use std::fmt;
use std::future::Future;
use std::pin::Pin;

mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use self::file::FileReplayGuard;
pub use self::memory::{DEFAULT_MEMORY_ENTRIES, MemoryReplayGuard};
#[cfg(feature = "redis")]
pub use self::redis::RedisReplayGuard;

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
