//! End-to-end tests of the demo plugin host (`tessera-demo`), driven over real HTTP against
//! the real binary started with several worker processes on `127.0.0.1:0`.

// The demo page in headless Chromium through WebDriver (`--features browser`).
#[cfg(feature = "browser")]
mod browser;
// Render on one worker, click on another: tessera works, the naive panel fails.
mod cross_worker;
// A worker killed mid-run is restarted; clicks keep working.
mod crash;
// /metrics: the whole host's counts, whichever worker is scraped.
mod metrics;
// Keys inline in the environment; tokens minted by the protocol library are accepted.
mod keys;
// Single-use actions with 4 workers sharing one redis-server (`--features redis`).
#[cfg(feature = "redis")]
mod redis_replay;
// The fault-injection soak: kills, a staged key rotation and a Redis outage under clicks
// (`--features redis`; TESSERA_SOAK_SECS, default 60).
#[cfg(feature = "redis")]
mod soak;
// Refusals over HTTP: expired, tampered, misdirected, oversized, garbage.
mod rejections;
// SIGHUP replaces every worker: a staged key rotation refuses no click.
mod reload;
// The key file outlives the host: tokens survive a restart.
mod restart;
// Single-use actions with the in-memory replay store; a bad --replay-store stops the host.
mod single_use;
// Stale-state detection: buttons bound to the shared ledger's version.
mod stale;
// The panels document, the page, JWKS, health and the click script.
mod surface;
// Prefork supervision: workers share the address, crash recovery, clean shutdown.
mod supervisor;
// Helpers shared by these modules.
mod util;
// The harness: starts and stops the binary, reads its logs, names its workers.
mod host;
