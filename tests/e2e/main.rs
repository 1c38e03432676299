//! End-to-end tests of the demo plugin host (`tessera-server`), driven over real HTTP against
//! the real binary started with several worker processes on `127.0.0.1:0`.

// The demo page in headless Chromium through WebDriver (`--features browser`).
#[cfg(feature = "browser")]
mod browser;
// Render on one worker, click on another: tessera works, the naive panel fails.
mod cross_worker;
// A worker killed mid-run is restarted; clicks keep working.
mod crash;
// Keys inline in the environment; tokens minted by the protocol library are accepted.
mod keys;
// Refusals over HTTP: expired, tampered, misdirected, oversized, garbage.
mod rejections;
// The key file outlives the host: tokens survive a restart.
mod restart;
// The panels document, the page, JWKS, health and the click script.
mod surface;
// Prefork supervision: workers share the address, crash recovery, clean shutdown.
mod supervisor;
// Helpers shared by these modules.
mod util;
