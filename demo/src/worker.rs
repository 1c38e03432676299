//! One worker process: listens on the supervisor's address and serves the demo app.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::app::{self, AppConfig};
use crate::cli::{Cli, KeySource, ReplayStore};
use crate::keys;
use crate::ledger::LedgerStore;
use crate::metrics::WorkerMetrics;
use crate::serve;
use crate::state::WorkerLabel;
use crate::supervisor::{self, READY_LINE, Signals};

/// Runs worker `id` until its stdin closes or it gets SIGTERM / SIGINT.
pub(crate) fn run(cli: &Cli, id: u16, source: &KeySource, replay: ReplayStore) -> ExitCode {
    let label = WorkerLabel::new(id, std::process::id());
    // The supervisor resolved the data folder once and gave every worker the same one.
    let Some(data_dir) = cli.data_dir.as_deref() else {
        tracing::error!(worker = %label, "a worker needs --data-dir from its supervisor");
        return ExitCode::FAILURE;
    };
    let threads = usize::from(cli.thread_count());
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(worker = %label, "cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The signal handlers first, before anything that takes time (the key file, the
    // listener): a SIGHUP that reaches a starting worker (one sent to the whole process group,
    // or `pkill -HUP tessera-demo` during a reload) must not kill it.
    let signals = {
        let _runtime = runtime.enter();
        match Signals::new() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(worker = %label, "cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    // Workers never create the key file: the supervisor did, before starting them.
    let keys = match keys::load(source, cli.key_alg.algorithm(), false) {
        Ok(keys) => keys,
        Err(e) => {
            tracing::error!(worker = %label, "{e}");
            return ExitCode::FAILURE;
        }
    };
    // The ledger of the data folder the supervisor prepared (its instance id made).
    let ledger = match LedgerStore::open(data_dir) {
        Ok(ledger) => ledger,
        Err(e) => {
            tracing::error!(worker = %label, "{e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match supervisor::worker_listener(cli.bind) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(worker = %label, "cannot listen on {}: {e}", cli.bind);
            return ExitCode::FAILURE;
        }
    };
    let metrics = match WorkerMetrics::install(data_dir, label.as_str()) {
        Ok(metrics) => metrics,
        Err(e) => {
            tracing::error!(worker = %label, "{e}");
            return ExitCode::FAILURE;
        }
    };
    let config = AppConfig {
        label: label.clone(),
        keys: Arc::new(keys),
        ttl: std::time::Duration::from_secs(cli.ttl),
        leeway: std::time::Duration::from_secs(cli.leeway),
        keep_alive: cli.keep_alive,
        replay,
        ledger,
        data_dir: data_dir.to_path_buf(),
        workers: cli.worker_count(),
        metrics: Some(metrics.clone()),
    };
    let header_timeout = cli.header_timeout;
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(worker = %label, "cannot register the listener: {e}");
                return ExitCode::FAILURE;
            }
        };
        tokio::spawn(metrics.keep_written());
        let router = match app::router(config) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(worker = %label, "cannot build the app: {e}");
                return ExitCode::FAILURE;
            }
        };
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{READY_LINE}")
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
        }
        let header_timeout = Duration::from_secs(header_timeout);
        serve::serve(listener, router, header_timeout, stop_requested(signals)).await;
        tracing::debug!(worker = %label, "worker stopped");
        ExitCode::SUCCESS
    })
}

/// Resolves when the supervisor closes our stdin (it is stopping, or it died) or when a
/// SIGTERM / SIGINT arrives.
async fn stop_requested(mut signals: Signals) {
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    tokio::select! {
        () = stdin_closed => {}
        () = signals.recv() => {}
    }
}
