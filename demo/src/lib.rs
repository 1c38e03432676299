//! `tessera-demo`: the demo plugin host for tessera action tokens.
//!
//! A prefork server: a supervisor process reserves the listening address and runs N worker
//! processes on it (SO_REUSEPORT). Each worker serves the `stock-tools` sample plugin, whose
//! buttons carry tessera action tokens, so a click succeeds on whichever worker receives it;
//! beside it a *naive* panel keeps its data in the rendering worker's memory and fails when
//! the click lands elsewhere. Run `tessera-demo --help` for the options.
//!
//! The binary is [`run`] (`src/main.rs` calls it). The library also builds the app one worker
//! serves ([`router`] from an [`AppConfig`]), for tests that need a running host in process:
//!
//! ```
//! use std::sync::Arc;
//! use tessera_protocol::{Algorithm, KeySet};
//!
//! let data = tempfile::tempdir()?;
//! let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
//! let app = tessera_demo::router(tessera_demo::AppConfig::new(keys, data.path())?)?;
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod app;
mod cli;
mod in_process;
mod keys;
mod ledger;
mod metrics;
mod naive;
mod naive_store;
mod page;
mod plugins;
mod serve;
mod state;
mod stock;
mod supervisor;
mod worker;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

pub use crate::app::{AppConfig, router};
use crate::cli::{Cli, KeySource, ReplayStore};
pub use crate::in_process::InProcessHost;
use crate::ledger::DataDir;

/// Runs the demo host as its command line says (`tessera-demo --help`): the supervisor, or
/// (with the internal `--worker-id`) one worker process. Returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let source = cli.key_source();
    // A bad --replay-store stops the host at startup (never at the first click).
    let replay = match cli.replay_store() {
        Ok(store) => store,
        Err(e) => {
            eprintln!("tessera-demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.worker_id {
        Some(id) => worker::run(&cli, id, &source, replay),
        None => {
            // The runtime and the SIGHUP handler first, before anything that takes time (the
            // key file may sit on a slow disk, or be a pipe): a reload asked for while the
            // host starts must not kill it. (SIGTERM and Ctrl-C keep their default until the
            // supervisor runs: before it starts a worker, stopping at once loses nothing.)
            let runtime = match supervisor::runtime() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("tessera-demo: cannot start the supervisor runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Err(e) = supervisor::survive_hangup(&runtime) {
                eprintln!("tessera-demo: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
            // The supervisor creates the key file once, before any worker reads it.
            if let Err(e) = keys::load(&source, cli.key_alg.algorithm(), true) {
                eprintln!("tessera-demo: {e}");
                return ExitCode::FAILURE;
            }
            // One data folder for every worker (removed at exit if it is a temporary one).
            let key_file = match &source {
                KeySource::File(path) => Some(path.as_path()),
                KeySource::Inline(_) => None,
            };
            let data_dir = match DataDir::resolve(cli.data_dir.as_deref(), key_file) {
                Ok(dir) => dir,
                Err(e) => {
                    eprintln!("tessera-demo: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Err(e) = data_dir.check_trusted() {
                eprintln!("tessera-demo: {e}");
                return ExitCode::FAILURE;
            }
            // The folder's id, bound into its state-bound buttons (made on first use).
            let instance = match data_dir.ensure_instance() {
                Ok(id) => id,
                Err(e) => {
                    eprintln!("tessera-demo: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // The counts at /metrics are this run's: the workers' files of an earlier run go.
            if let Err(e) = metrics::clear(data_dir.path()) {
                eprintln!("tessera-demo: {e}");
                return ExitCode::FAILURE;
            }
            tracing::info!(
                replay_store = replay.describe(),
                data_dir = %data_dir.path().display(),
                data_dir_id = %instance,
                "single-use and stale-state checks configured"
            );
            if matches!(replay, ReplayStore::Memory) && cli.worker_count() > 1 {
                tracing::warn!(
                    workers = cli.worker_count(),
                    "--replay-store memory with several workers: each worker keeps its own \
                     record, so a single-use button works only on the worker that rendered it \
                     (elsewhere it is refused as stale); use --replay-store file (the default) \
                     or redis"
                );
            }
            supervisor::supervise(&runtime, &cli, &source, data_dir.path())
        }
    }
}

/// Logs to stderr; RUST_LOG sets the filter (default `info`).
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .compact()
        .init();
}
