//! Command line and environment options of the demo plugin host.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The issuer (`iss`) the demo host writes into and expects in every token.
pub(crate) const ISSUER: &str = "tessera-demo";

/// The environment variable of --keys (a key file path, or the key set's JSON).
pub(crate) const KEYS_ENV: &str = "TESSERA_KEYS";

/// The environment variable of --replay-store (a Redis URL may carry a password: workers get
/// it through their environment, never argv).
pub(crate) const REPLAY_STORE_ENV: &str = "TESSERA_REPLAY_STORE";

/// The replay guard's folder inside the data folder (`--replay-store file`).
pub(crate) const REPLAY_DIR: &str = "replay-guard";

/// The default listening address.
pub(crate) const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The default lifetime of a button's token, in seconds (`--ttl`): the protocol's default.
pub(crate) const DEFAULT_TTL: u64 = tessera_protocol::DEFAULT_TTL.as_secs();

/// The default clock leeway, in seconds (`--leeway`): the protocol's default.
pub(crate) const DEFAULT_LEEWAY: u64 = tessera_protocol::DEFAULT_LEEWAY.as_secs();

/// The largest number of worker processes (and of threads per worker) accepted.
const MAX_WORKERS: i64 = 256;

const AFTER_HELP: &str = "\
Default key file: $XDG_DATA_HOME/tessera/keys.json, else $HOME/.local/share/tessera/keys.json,
else ./tessera-keys.json. It is created on first run (mode 0600, folder mode 0700) with one
fresh key of --key-alg and reused on every later run, so tokens survive a restart.

Single-use actions (--replay-store): confirm-transfer runs at most once per button. Each click
records the token's id (jti) in a replay guard until the token can no longer verify (exp plus
the leeway, and a 60 s margin); a second click of the same button is refused with 409
`replayed`. If the store cannot be reached the click fails closed with 503
`replay_unavailable` and does not run; the other actions never touch it.
    file               (default) one folder shared by every worker process of this machine:
                       DIR/replay-guard/ in the data folder (see --data-dir), one small file
                       per click, created atomically (a hard link that fails if the name
                       exists), so a button runs once whichever worker gets the click.
                       Expired records are removed as clicks come in. Not for several
                       machines, nor for a network file system.
    memory             an in-memory guard in EACH worker process. A single-use button is
                       bound to the memory of the worker that rendered it: a click on
                       another worker, or after a reload or a restart (the records are
                       gone), is refused as stale (409), never run again. Use it with
                       --workers 1, or for a quick look.
    redis://HOST:PORT/DB
                       one Redis server shared by every worker (and host): an atomic
                       SET key 1 NX EX <seconds left> per click (the record's remaining
                       lifetime on the host's clock), exact across processes and machines.
                       Only in builds with the `redis` feature
                       (cargo build --release -p tessera-demo --features redis). No TLS.
                       Contacted on the first single-use click, not at startup.
    This build: __REDIS_SUPPORT__

Shared stock ledger (--data-dir): the `shared-stock` panel reads and changes the stock levels
of one part in DIR/stock-ledger/, shared by every worker process: one small JSON file per
version (vN.json, never changed once written; the highest N is the current ledger; no file
means the initial stock). A change is a compare-and-swap on the version, without locks: read
vN, check it, write a temporary file, then create v(N+1).json as a hard link to it, which
succeeds only if no other worker created it first (else the change starts over from the newer
version). Readers only ever see complete versions; the last 16 are kept. Its return-all button
is bound to the ledger version it was rendered from (the token's fingerprint, fpr =
ledger:ID:PART:vN): once the ledger has changed, on any worker, the click is refused with 409
`stale`; reload the panel for fresh buttons. ID names the data folder (DIR/demo-instance, a
random id made with it): its confirm-transfer button (fpr = ledger:ID) and return-all button are
refused as `stale` on a host with another data folder, whose records never saw their use.
Default DIR: the key file's folder; with inline keys, a private temporary folder for this run,
removed when the host stops (unless it is killed with SIGKILL).

Signals (to the supervisor): SIGTERM or Ctrl-C stops every worker gracefully (10 s grace),
then the host. SIGHUP reloads: each worker is replaced by a new one started with the key file
as it is now, once the new one listens, so the address never goes unserved; a new worker that
does not start (a key file that does not load) leaves the running one in place, and the log
says so; a SIGHUP received while the host starts is acted on once it is ready. Workers ignore
SIGHUP. Keys given inline in TESSERA_KEYS are fixed for the host's life.
To rotate keys with no click refused: `tessera keys rotate FILE --inactive`, SIGHUP (every
worker now knows the new key), `tessera keys activate FILE KID`, SIGHUP (buttons carry it).

When the host is ready it prints exactly one line on stdout:
    listening on http://ADDR
where ADDR is the bound address (with the real port when --bind asks for port 0).

HTTP surface (identity: header X-Demo-User, else cookie tessera_demo_user, else `guest`;
a repeated or invalid header or cookie: 400 bad_identity; an action posted by a browser from
a page of another origin: 403 cross_origin):
    GET  /                                   demo page: panels, naive panel, click log
    GET  /api/plugins/stock-tools/panels     panels with buttons and their tokens (JSON)
    POST /api/plugins/stock-tools/actions/{transfer,print-label,process-data}
                                             body {\"token\", \"input\"} -> result, or problem+json
    POST /api/plugins/stock-tools/actions/confirm-transfer
                                             SINGLE USE: moves input.qty in the shared ledger;
                                             a second use of a token -> 409 replayed; replay
                                             store unreachable -> 503 replay_unavailable
    POST /api/plugins/stock-tools/actions/return-all
                                             STALE-CHECKED: returns the quantity counted at
                                             render; ledger changed since -> 409 stale
    GET  /api/plugins/naive-stock/panels     the NAIVE panel (data kept in worker memory)
    POST /api/plugins/naive-stock/actions/transfer   fails on other workers (410)
    POST /bench/parse-only                   benchmark baseline: parses, verifies nothing
    GET  /.well-known/jwks.json, /healthz, /tessera/click.js
    GET  /metrics                            the whole host's counts of verified actions and
                                             refusals by code and action (Prometheus text),
                                             whichever worker answers
    anything else                            404 problem+json, code not_found

Every response carries the header `Tessera-Worker: wK/pidP` naming the worker process that
served it. Logs go to stderr; RUST_LOG sets the filter (default: info).";

/// What `--help` says of this build's Redis support.
#[cfg(feature = "redis")]
pub(crate) const REDIS_SUPPORT: &str = "Redis support built in (redis:// stores accepted).";
/// What `--help` says of this build's Redis support.
#[cfg(not(feature = "redis"))]
pub(crate) const REDIS_SUPPORT: &str =
    "NO Redis support (redis:// stores refused; rebuild with --features redis).";

fn after_help() -> String {
    AFTER_HELP.replace("__REDIS_SUPPORT__", REDIS_SUPPORT)
}

/// The demo plugin host: a prefork server whose worker processes share one listening address,
/// serving the `stock-tools` plugin with tessera action tokens beside a naive in-memory panel.
/// (No `Debug`: `--keys` may hold a key set's JSON.)
#[derive(Parser)]
#[command(name = "tessera-demo", version, after_help = after_help())]
pub(crate) struct Cli {
    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "TESSERA_BIND", value_name = "ADDR", default_value = DEFAULT_BIND)]
    pub(crate) bind: SocketAddr,

    /// Key file (a JWK Set). Created on first run when missing (mode 0600). One that other
    /// users may write to, or that another user owns, is refused (they could have chosen its
    /// keys). A value that starts with `{` is the key set's JSON itself, never written to
    /// disk (prefer the environment variable for that: command lines are visible to other
    /// users). [default: see below]
    #[arg(
        long,
        env = "TESSERA_KEYS",
        value_name = "PATH",
        hide_env_values = true
    )]
    pub(crate) keys: Option<OsString>,

    /// Number of worker processes sharing the listening address (SO_REUSEPORT). Defaults to
    /// the number of CPU cores.
    #[arg(long, env = "TESSERA_WORKERS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=MAX_WORKERS))]
    pub(crate) workers: Option<u16>,

    /// Runtime threads inside each worker process. Defaults to the number of CPU cores divided
    /// by the number of workers (at least 1).
    #[arg(long, env = "TESSERA_THREADS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=MAX_WORKERS))]
    pub(crate) threads: Option<u16>,

    /// Time to live of the tokens minted at render time, in seconds (1 to 86400).
    #[arg(long, env = "TESSERA_TTL", value_name = "SECONDS", default_value_t = DEFAULT_TTL,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) ttl: u64,

    /// Clock leeway granted when checking a token's times, in seconds (0 to 300).
    #[arg(long, env = "TESSERA_LEEWAY", value_name = "SECONDS", default_value_t = DEFAULT_LEEWAY,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub(crate) leeway: u64,

    /// Algorithm of the key generated when the key file is created (ignored afterwards).
    #[arg(long, env = "TESSERA_KEY_ALG", value_enum, default_value_t = KeyAlg::Hs256)]
    pub(crate) key_alg: KeyAlg,

    /// Seconds a client has to send a request's complete head (request line and headers), and
    /// as long again, from the head's arrival, for its complete body; a slower client is
    /// disconnected (a stalled body first gets 400 `malformed`), so it cannot hold a
    /// connection (or a graceful stop) open (1 to 300).
    #[arg(long, env = "TESSERA_HEADER_TIMEOUT", value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub(crate) header_timeout: u64,

    /// Keep HTTP connections open between requests. Off by default: the demo answers with
    /// `Connection: close`, so every request picks a worker anew and clicks cross workers.
    /// The environment variable takes 1/0, true/false, yes/no or on/off.
    #[arg(long, env = "TESSERA_KEEP_ALIVE", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) keep_alive: bool,

    /// Replay guard of single-use actions: `file` (a folder in the data folder, shared by every
    /// worker of this machine), `memory` (one guard per worker process: a single-use button
    /// works only on the worker that rendered it, and not after a reload) or `redis://HOST:PORT/DB` (shared by every worker and machine; needs a build
    /// with `--features redis`). See below.
    #[arg(
        long,
        env = "TESSERA_REPLAY_STORE",
        value_name = "STORE",
        default_value = "file",
        hide_env_values = true
    )]
    pub(crate) replay_store: String,

    /// Folder of the shared stock ledger (its stock-ledger/ folder), shared by every worker. Created
    /// (mode 0700) when missing. [default: the key file's folder; see below]
    #[arg(long, env = "TESSERA_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// Internal: run as worker K of a supervisor, serving the exact address in --bind.
    #[arg(long, hide = true, value_name = "K")]
    pub(crate) worker_id: Option<u16>,
}

/// The algorithm of a newly generated key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyAlg {
    /// HMAC-SHA-256 with a 32-byte secret: fastest; the JWKS endpoint then publishes no key.
    Hs256,
    /// Ed25519: the public key is published at /.well-known/jwks.json.
    Eddsa,
}

impl KeyAlg {
    pub(crate) fn algorithm(self) -> tessera_protocol::Algorithm {
        match self {
            KeyAlg::Hs256 => tessera_protocol::Algorithm::Hs256,
            KeyAlg::Eddsa => tessera_protocol::Algorithm::EdDsa,
        }
    }
}

/// Where the keys come from. `Debug` shows a file's path, never inline key material.
#[derive(Clone)]
pub(crate) enum KeySource {
    /// A key file, created when missing.
    File(PathBuf),
    /// The JSON of a key set, given inline through --keys or TESSERA_KEYS.
    Inline(String),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            KeySource::Inline(_) => f.write_str("Inline(<key set not shown>)"),
        }
    }
}

/// The replay guard store of single-use actions, from --replay-store.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum ReplayStore {
    /// A [`FileReplayGuard`](tessera_server::replay::FileReplayGuard) in the data folder
    /// ([`REPLAY_DIR`]), shared by every worker.
    File,
    /// A [`MemoryReplayGuard`](tessera_server::replay::MemoryReplayGuard) in each worker.
    Memory,
    /// A Redis server shared by every worker, by URL (which may carry a password: never
    /// printed).
    #[cfg(feature = "redis")]
    Redis(String),
}

impl std::fmt::Debug for ReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl ReplayStore {
    /// Parses a --replay-store value. Errors are sentences that never repeat the value (a
    /// Redis URL may carry a password).
    pub(crate) fn parse(value: &str) -> Result<ReplayStore, String> {
        let value = value.trim();
        if value == "file" {
            return Ok(ReplayStore::File);
        }
        if value == "memory" {
            return Ok(ReplayStore::Memory);
        }
        if value.starts_with("rediss://") {
            return Err(
                "--replay-store: TLS Redis URLs (rediss://) are not supported; use \
                        redis://HOST:PORT/DB on a trusted network"
                    .to_owned(),
            );
        }
        if value.starts_with("redis://") {
            return ReplayStore::redis(value);
        }
        Err(
            "--replay-store must be `file`, `memory` or a Redis URL redis://HOST:PORT/DB"
                .to_owned(),
        )
    }

    #[cfg(feature = "redis")]
    fn redis(url: &str) -> Result<ReplayStore, String> {
        // Parse the URL now, so a typo stops the host at startup rather than at the first click.
        tessera_server::replay::RedisReplayGuard::new(url).map_err(|_| {
            "--replay-store: the Redis URL is not valid (expected redis://HOST:PORT/DB)".to_owned()
        })?;
        Ok(ReplayStore::Redis(url.to_owned()))
    }

    #[cfg(not(feature = "redis"))]
    fn redis(_url: &str) -> Result<ReplayStore, String> {
        Err(
            "--replay-store redis://…: this tessera-demo was built without Redis support; \
             rebuild it with `--features redis` (cargo build --release -p tessera-demo \
             --features redis), or use --replay-store file"
                .to_owned(),
        )
    }

    /// Words for logs and the demo page (never the URL).
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            ReplayStore::File => "file (one folder shared by every worker of this machine)",
            ReplayStore::Memory => "memory (one guard per worker process)",
            #[cfg(feature = "redis")]
            ReplayStore::Redis(_) => "Redis (one store shared by every worker)",
        }
    }
}

impl Cli {
    /// The replay store named by --replay-store / TESSERA_REPLAY_STORE.
    pub(crate) fn replay_store(&self) -> Result<ReplayStore, String> {
        ReplayStore::parse(&self.replay_store)
    }

    /// The number of worker processes.
    pub(crate) fn worker_count(&self) -> u16 {
        self.workers.unwrap_or_else(|| clamp_u16(cpu_count()))
    }

    /// The number of runtime threads per worker process.
    pub(crate) fn thread_count(&self) -> u16 {
        self.threads.unwrap_or_else(|| {
            let per_worker = cpu_count() / usize::from(self.worker_count().max(1));
            clamp_u16(per_worker.max(1))
        })
    }

    /// The key source: --keys / TESSERA_KEYS, else the default key file.
    pub(crate) fn key_source(&self) -> KeySource {
        // A path may be any bytes; inline key JSON is UTF-8.
        match &self.keys {
            Some(value) => match value.to_str() {
                Some(json) if json.trim_start().starts_with('{') => {
                    KeySource::Inline(json.to_owned())
                }
                _ => KeySource::File(PathBuf::from(value)),
            },
            None => KeySource::File(default_key_path()),
        }
    }
}

/// The default key file, as documented in `--help`.
pub(crate) fn default_key_path() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        PathBuf::from(data).join("tessera").join("keys.json")
    } else if let Some(home) = non_empty("HOME") {
        PathBuf::from(home)
            .join(".local")
            .join("share")
            .join("tessera")
            .join("keys.json")
    } else {
        PathBuf::from("tessera-keys.json")
    }
}

fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn clamp_u16(n: usize) -> u16 {
    u16::try_from(n.clamp(1, MAX_WORKERS as usize)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn inline_key_json_is_not_a_path() {
        let cli = Cli::parse_from(["tessera-demo", "--keys", " {\"keys\":[]}"]);
        assert!(matches!(cli.key_source(), KeySource::Inline(_)));
        let cli = Cli::parse_from(["tessera-demo", "--keys", "/tmp/k.json"]);
        assert!(matches!(cli.key_source(), KeySource::File(p) if p == Path::new("/tmp/k.json")));
    }

    #[test]
    fn replay_store_is_file_by_default_and_never_echoes_a_url_in_errors() {
        let cli = Cli::parse_from(["tessera-demo"]);
        assert_eq!(cli.replay_store(), Ok(ReplayStore::File));
        assert_eq!(ReplayStore::parse("memory"), Ok(ReplayStore::Memory));
        for bad in [
            "memroy",
            "http://:hunter2@127.0.0.1:6379/",
            "rediss://:hunter2@127.0.0.1:6379/",
        ] {
            let err = ReplayStore::parse(bad).unwrap_err();
            assert!(err.starts_with("--replay-store"), "{err}");
            assert!(!err.contains("hunter2") && !err.contains("memroy"), "{err}");
        }
        let redis = ReplayStore::parse("redis://:hunter2@127.0.0.1:6379/0");
        #[cfg(feature = "redis")]
        {
            let store = redis.unwrap();
            assert!(matches!(store, ReplayStore::Redis(_)));
            assert!(!format!("{store:?}").contains("hunter2"));
        }
        #[cfg(not(feature = "redis"))]
        {
            let err = redis.unwrap_err();
            assert!(err.contains("--features redis"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn zero_workers_and_long_ttl_are_refused() {
        assert!(Cli::try_parse_from(["tessera-demo", "--workers", "0"]).is_err());
        assert!(Cli::try_parse_from(["tessera-demo", "--ttl", "0"]).is_err());
        assert!(Cli::try_parse_from(["tessera-demo", "--ttl", "86401"]).is_err());
        assert!(Cli::try_parse_from(["tessera-demo", "--leeway", "301"]).is_err());
    }

    #[test]
    fn debug_of_inline_keys_shows_no_key_material() {
        let inline = KeySource::Inline(r#"{"keys":[{"k":"SECRET-BYTES"}]}"#.to_owned());
        assert!(!format!("{inline:?}").contains("SECRET-BYTES"));
        let file = KeySource::File(PathBuf::from("/etc/tessera/keys.json"));
        assert!(format!("{file:?}").contains("keys.json"));
    }
}
