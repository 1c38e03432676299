//! The Redis replay guard (feature `redis`): several processes and machines.

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
    fn first_use<'a>(&'a self, scope: &'a str, jti: &'a str, expires_at: u64) -> GuardFuture<'a> {
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
