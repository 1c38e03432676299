//! Where "now" comes from: the system clock in production, a fixed instant in tests and vectors.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole seconds since the Unix epoch.
///
/// Verification and minting read `now` only through this trait, so tests, test vectors and the
/// CLI's `--now` run at a fixed instant. A clock of your own lets a test move time forward:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use tessera_protocol::{Algorithm, Clock, ErrorCode, Expected, KeySet, Minter, Verifier};
///
/// #[derive(Debug)]
/// struct TestClock(AtomicU64);
/// impl Clock for TestClock {
///     fn now(&self) -> u64 { self.0.load(Ordering::Relaxed) }
/// }
///
/// let clock = Arc::new(TestClock(AtomicU64::new(1_790_000_000)));
/// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
/// let token = Minter::new(keys.clone(), "inventree").with_clock(clock.clone()).token("a").mint()?;
/// let verifier = Verifier::new(keys, "inventree").with_clock(clock.clone());
/// assert!(verifier.verify::<()>(&token, &Expected::audience("a")).is_ok());
/// clock.0.fetch_add(300 + 30, Ordering::Relaxed); // the default TTL, plus the leeway
/// let err = verifier.verify::<()>(&token, &Expected::audience("a")).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::Expired);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> u64;
}

/// The system clock. A clock set before 1970 reads as `0`.
///
/// ```
/// use tessera_protocol::{Clock, SystemClock};
/// assert!(SystemClock.now() > 1_700_000_000);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A clock stopped at one instant.
///
/// ```
/// use tessera_protocol::{Clock, FixedClock};
/// assert_eq!(FixedClock(1_790_000_000).now(), 1_790_000_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0
    }
}
