//! Where "now" comes from: the system clock in production, a fixed instant in tests and vectors.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole seconds since the Unix epoch.
///
/// Verification and minting read `now` only through this trait, so tests, test vectors and the
/// CLI's `--now` run at a fixed instant.
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
