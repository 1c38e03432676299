//! The state every handler of the demo app shares, and who the caller is.

use std::fmt;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::HeaderName;
use tessera_protocol::Principal;
use tessera_server::{CookieIdentity, FixedIdentity, HeaderIdentity, IdentitySource, TesseraState};

use crate::cli::ReplayStore;
use crate::ledger::LedgerStore;
use crate::metrics::WorkerMetrics;
use crate::naive_store::NaiveStore;

/// The response header naming the worker that served a request.
pub(crate) const WORKER_HEADER: HeaderName = HeaderName::from_static("tessera-worker");

/// Names one worker process: `wK/pidP`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WorkerLabel(Arc<str>);

impl WorkerLabel {
    pub(crate) fn new(id: u16, pid: u32) -> WorkerLabel {
        WorkerLabel(format!("w{id}/pid{pid}").into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The state of every handler: the tessera state (reached by the library's extractors through
/// `FromRef`), this worker's label, the naive panel's in-process memory, and the shared stock
/// ledger.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) tessera: TesseraState,
    pub(crate) worker: WorkerLabel,
    pub(crate) naive: Arc<NaiveStore>,
    pub(crate) ledger: Arc<LedgerStore>,
    pub(crate) replay: ReplayStore,
    /// What a single-use button is bound to (its fingerprint): the store that records its use.
    /// The data folder's ledger for the file store, the Redis server for the Redis store (so
    /// every host sharing it takes the button); with the memory store, the data folder and
    /// this worker process's memory (a random id drawn at start), so that a button never
    /// outlives the records of its use — a reload, a restart or another worker (whose memory
    /// never saw it) refuses it as `stale` instead of running it again.
    pub(crate) single_use_binding: String,
    pub(crate) workers: u16,
    /// This worker's counts (none in an app served in process, see `InProcessHost`).
    pub(crate) metrics: Option<WorkerMetrics>,
}

impl FromRef<AppState> for Option<WorkerMetrics> {
    fn from_ref(app: &AppState) -> Option<WorkerMetrics> {
        app.metrics.clone()
    }
}

impl FromRef<AppState> for TesseraState {
    fn from_ref(app: &AppState) -> TesseraState {
        app.tessera.clone()
    }
}

/// The demo's identity source: the `X-Demo-User` header, else the `tessera_demo_user` cookie
/// (set by the page), else `guest`.
pub(crate) fn identity() -> impl IdentitySource {
    HeaderIdentity::new(HeaderName::from_static(USER_HEADER))
        .or(CookieIdentity::new(USER_COOKIE))
        .or(FixedIdentity::new(Principal::new(GUEST)))
}

/// The header naming the demo user.
pub(crate) const USER_HEADER: &str = "x-demo-user";
/// The cookie naming the demo user (set by the page's user switcher).
pub(crate) const USER_COOKIE: &str = "tessera_demo_user";
/// The user of a request that names none.
pub(crate) const GUEST: &str = "guest";
