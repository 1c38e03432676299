//! Shared harness for tessera's end-to-end tests.
//!
//! [`Host`] starts the real `tessera-server` binary (the demo plugin host) on `127.0.0.1:0`,
//! waits for its ready line `listening on http://ADDR`, and stops it — and with it every
//! worker process — when dropped, even when a test fails. The binary is built on first use
//! (`cargo build -p tessera-server`, same profile as the tests, with `--features redis` when
//! this crate's `redis` feature is on) unless `TESSERA_SERVER_BIN` names one.
//!
//! ```no_run
//! # async fn demo() {
//! use crate::host::{Host, WorkerLabel, fresh_client};
//!
//! let keys = tempfile::tempdir().unwrap();
//! let host = Host::start(&["--workers", "2", "--keys", keys.path().join("k.json").to_str().unwrap()]);
//! let res = fresh_client().get(host.url("/healthz")).send().await.unwrap();
//! let worker = WorkerLabel::of(&res).unwrap();
//! assert!(worker.id >= 1);
//! # }
//! ```
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the host prints on stdout, followed by its address, once every worker listens.
pub(crate) const READY_PREFIX: &str = "listening on http://";

/// The response header naming the worker process that served a request.
pub(crate) const WORKER_HEADER: &str = "tessera-worker";

/// The host's own environment variables; cleared for started hosts so tests see defaults.
pub(crate) const HOST_ENV: [&str; 10] = [
    "TESSERA_BIND",
    "TESSERA_KEYS",
    "TESSERA_WORKERS",
    "TESSERA_THREADS",
    "TESSERA_TTL",
    "TESSERA_LEEWAY",
    "TESSERA_KEY_ALG",
    "TESSERA_KEEP_ALIVE",
    "TESSERA_REPLAY_STORE",
    "TESSERA_DATA_DIR",
];

/// What `tessera-server --help` says when the binary was built with its `redis` feature.
pub(crate) const REDIS_BUILD_MARKER: &str = "This build: Redis support built in";

/// How long a host may take to print its ready line.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopping host may take before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Log lines kept per host (printed when a test fails).
const LOG_LINES: usize = 400;

/// The `tessera-demo` binary under test: the one Cargo built for this test run, with this
/// package's features (`redis` among them).
pub(crate) fn server_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tessera-demo"))
}

/// A running demo host: the supervisor process and, through it, its workers.
///
/// Dropping it stops the host (SIGTERM, then SIGKILL after a grace period); workers stop
/// when the supervisor's pipes to them close, even if the supervisor is killed. When the
/// test is panicking, the host's recent log lines are printed.
#[derive(Debug)]
pub(crate) struct Host {
    child: Option<Child>,
    addr: SocketAddr,
    logs: Arc<Mutex<VecDeque<String>>>,
    /// Says when the host's stderr reached its end (every process holding it exited).
    stderr_closed: Option<mpsc::Receiver<()>>,
}

impl Host {
    /// Starts `tessera-server` with `args`, adding `--bind 127.0.0.1:0` unless `args` has a
    /// `--bind`, and waits until it prints its ready line.
    ///
    /// # Panics
    /// When the host exits or stays silent instead of getting ready.
    pub(crate) fn start(args: &[&str]) -> Host {
        Host::start_with_env(args, &[])
    }

    /// Like [`Host::start`], with these environment variables set for the host (the host's
    /// own `TESSERA_*` variables are otherwise cleared).
    ///
    /// # Panics
    /// When the host exits or stays silent instead of getting ready.
    pub(crate) fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Host {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        Host::start_os(&args, env)
    }

    /// Like [`Host::start_with_env`], with arguments that need not be UTF-8 (paths).
    ///
    /// # Panics
    /// When the host exits or stays silent instead of getting ready.
    pub(crate) fn start_os(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Host {
        let mut command = Command::new(server_binary());
        if !args.iter().any(|a| *a == "--bind") {
            command.args(["--bind", "127.0.0.1:0"]);
        }
        for var in HOST_ENV {
            command.env_remove(var);
        }
        command.envs(env.iter().copied());
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server_binary().display()));
        let logs = Arc::new(Mutex::new(VecDeque::new()));
        let mut stderr_closed = None;
        if let Some(stderr) = child.stderr.take() {
            let logs = logs.clone();
            let (closed_tx, closed_rx) = mpsc::channel();
            stderr_closed = Some(closed_rx);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut logs = logs.lock().unwrap_or_else(|p| p.into_inner());
                    if logs.len() == LOG_LINES {
                        logs.pop_front();
                    }
                    logs.push_back(line);
                }
                let _ = closed_tx.send(());
            });
        }
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut host = Host {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            logs,
            stderr_closed,
        };
        match wait_ready(stdout) {
            Ok(addr) => host.addr = addr,
            Err(e) => {
                let logs = host.logs();
                drop(host);
                panic!("tessera-server did not get ready: {e}\n--- host log ---\n{logs}");
            }
        }
        host
    }

    /// The address the host listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` followed by `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The supervisor's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The host's most recent log lines (stderr), one per line.
    pub(crate) fn logs(&self) -> String {
        let logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops the host with SIGTERM and returns how the supervisor exited (killed with
    /// SIGKILL if it does not stop in time).
    pub(crate) fn stop(self) -> ExitStatus {
        self.stop_with("TERM")
    }

    /// Stops the host with the signal `name` (`"TERM"`, `"INT"` as Ctrl-C sends, ...) and
    /// returns how the supervisor exited (killed with SIGKILL if it does not stop in time).
    pub(crate) fn stop_with(mut self, name: &str) -> ExitStatus {
        self.shutdown(name)
            .expect("the host process was already collected")
    }

    /// Stops the host with SIGTERM and returns how the supervisor exited and its complete log:
    /// every line up to the end of its stderr, which closes once the supervisor and every worker
    /// have exited (the most recent lines, if it logged more than the harness keeps).
    ///
    /// # Panics
    /// When the host was already collected, or a process still holds its stderr open
    /// 15 s (`STOP_TIMEOUT`) after the supervisor exited (a worker left running).
    pub(crate) fn stop_with_logs(mut self) -> (ExitStatus, String) {
        let status = self
            .shutdown("TERM")
            .expect("the host process was already collected");
        if let Some(closed) = self.stderr_closed.take() {
            closed.recv_timeout(STOP_TIMEOUT).unwrap_or_else(|_| {
                panic!("the host's stderr stayed open after it stopped (a worker left running?)")
            });
        }
        (status, self.logs())
    }

    fn shutdown(&mut self, name: &str) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        signal(child.id(), name);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => break,
            }
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let status = self.shutdown("TERM");
        if std::thread::panicking() {
            eprintln!(
                "--- tessera-server log (supervisor exit: {status:?}) ---\n{}",
                self.logs()
            );
        }
    }
}

/// Reads the host's stdout until the ready line (in a thread, so the wait is bounded), then
/// keeps draining it.
fn wait_ready(stdout: ChildStdout) -> Result<SocketAddr, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        let _ = tx.send(first);
        for _ in lines {}
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(Some(Ok(line))) => parse_ready_line(&line),
        Ok(Some(Err(e))) => Err(format!("cannot read its stdout: {e}")),
        Ok(None) => Err("it closed stdout (exited?) before printing the ready line".to_owned()),
        Err(_) => Err(format!("no ready line within {START_TIMEOUT:?}")),
    }
}

/// Parses `listening on http://ADDR`.
///
/// ```
/// let addr = crate::host::parse_ready_line("listening on http://127.0.0.1:8080").unwrap();
/// assert_eq!(addr.port(), 8080);
/// assert!(crate::host::parse_ready_line("listening on 127.0.0.1:8080").is_err());
/// ```
pub(crate) fn parse_ready_line(line: &str) -> Result<SocketAddr, String> {
    line.strip_prefix(READY_PREFIX)
        .and_then(|addr| addr.trim_end().parse().ok())
        .ok_or_else(|| format!("unexpected first line on stdout: {line:?}"))
}

/// Sends a signal (`"TERM"`, `"KILL"`, ...) to a process with the `kill` command.
///
/// Returns whether `kill` succeeded (false when the process is already gone).
pub(crate) fn signal(pid: u32, name: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Sends a signal to every process of the process group `pgid` (see
/// `std::os::unix::process::CommandExt::process_group`), e.g. a browser and its children.
///
/// Returns whether `kill` succeeded (false when the group is already gone).
#[cfg(feature = "browser")]
pub(crate) fn signal_group(pgid: u32, name: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{name}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether a process with this id exists (it may be a zombie).
pub(crate) fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// An HTTP client that never reuses a connection: every request opens a fresh one, so the
/// kernel picks a worker anew for each.
///
/// # Panics
/// When the client cannot be built (it has no TLS backend to fail).
pub(crate) fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a plain HTTP client builds")
}

/// A worker as named by the `Tessera-Worker` header: `wK/pidP`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct WorkerLabel {
    /// The worker slot, 1 to N.
    pub(crate) id: u16,
    /// The worker's process id.
    pub(crate) pid: u32,
}

impl WorkerLabel {
    /// Parses `wK/pidP`.
    ///
    /// ```
    /// let w = crate::host::WorkerLabel::parse("w3/pid4242").unwrap();
    /// assert_eq!((w.id, w.pid), (3, 4242));
    /// assert!(crate::host::WorkerLabel::parse("w3").is_none());
    /// ```
    pub(crate) fn parse(text: &str) -> Option<WorkerLabel> {
        let (id, pid) = text.strip_prefix('w')?.split_once("/pid")?;
        Some(WorkerLabel {
            id: id.parse().ok()?,
            pid: pid.parse().ok()?,
        })
    }

    /// The worker that served `res`, from its `Tessera-Worker` header.
    pub(crate) fn of(res: &reqwest::Response) -> Option<WorkerLabel> {
        WorkerLabel::parse(res.headers().get(WORKER_HEADER)?.to_str().ok()?)
    }
}

impl std::fmt::Display for WorkerLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "w{}/pid{}", self.id, self.pid)
    }
}
