//! Integration tests of the tessera-server library (one binary; helpers in `util`).

mod util;

// The module graphs of the workspace's crates have no cycles.
mod module_graph;

// Verified actions and refusals are counted by action and code through the metrics facade.
mod metrics;

// The extractor: transports, typed payload and input, and every rejection code from a real
// token or request.
mod extractor;
// Bodies over the cap refused without being read whole.
mod body_limit;
// The one status table and the problem+json body.
mod codes;
// Panels to HTML (escaping) and JSON (round trip); the click script route.
mod html;
// The JWKS endpoint never leaks `d` or `k`.
mod jwks;
// State from settings and from the environment.
mod state;
// Identity sources.
mod identity;
// Over a real 127.0.0.1 socket.
mod http;
// Single-use routes (replay guard) and stale-state detection.
mod single_use;
// The file replay guard (several processes of one machine).
mod file_guard;
// The Redis replay guard against a real redis-server (feature `redis`).
#[cfg(feature = "redis")]
mod redis_guard;
// API review: misuses a plugin author makes, each refused now.
mod review_api;
