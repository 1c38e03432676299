//! The prefork supervisor: N worker processes serving one address through SO_REUSEPORT.
//!
//! The parent first probes the address with a plain bind (no SO_REUSEPORT), so that it refuses
//! to start on an address another server (another tessera host included) already serves
//! instead of silently sharing its traffic; that bind also turns port 0 into a real port.
//! It then binds the address with SO_REUSEPORT and keeps
//! that socket bound but not listening, which reserves the port without taking connections.
//! It then starts itself N times with `--worker-id K --bind ADDR`; each child binds the same
//! address with SO_REUSEPORT and listens, and the kernel spreads new connections across the
//! listening children by a hash of the connection's 4-tuple.
//!
//! Each child's stdin is a pipe from the parent: the child says `ready` on stdout once it
//! listens, and stops gracefully when its stdin closes (the parent is stopping, or died).
//! The parent restarts a child that exits, with a backoff, and stops them all on SIGTERM or
//! Ctrl-C.

use std::ffi::OsString;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};

use crate::cli::{Cli, KEYS_ENV, KeySource, REPLAY_STORE_ENV};

/// The line a worker prints on stdout once it listens.
pub(crate) const READY_LINE: &str = "ready";

/// How long a worker may take to start listening before the host gives up at startup.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping worker may take to finish its requests before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// First and largest delay before restarting a worker that died.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A worker that ran this long before dying is restarted after the shortest delay again.
const HEALTHY_RUN: Duration = Duration::from_secs(10);

/// Binds `addr` with SO_REUSEPORT; listens when `backlog` is given. Workers (which listen)
/// also set SO_REUSEADDR; the supervisor's reservation (which does not) sets only
/// SO_REUSEPORT, so that [`probe_free`] run by another host conflicts with it too.
pub(crate) fn reuseport_socket(addr: SocketAddr, backlog: Option<i32>) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(backlog.is_some())?;
    socket.set_reuse_port(true)?;
    socket.set_nodelay(true)?;
    socket.bind(&addr.into())?;
    if let Some(backlog) = backlog {
        socket.listen(backlog)?;
        socket.set_nonblocking(true)?;
    }
    Ok(socket)
}

/// Checks that nobody else serves `addr`: binds it with a plain socket, WITHOUT SO_REUSEPORT,
/// which fails with "address in use" while any other socket is bound there (another tessera
/// host's reservation or workers included, which a SO_REUSEPORT bind would silently join).
/// SO_REUSEADDR is set so that connections of a previous run left in TIME_WAIT do not count.
/// Returns the address with its real port (port 0 lets this bind choose it). The probe is
/// closed before returning, so the reservation can take the port.
fn probe_free(addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| std::io::Error::other("the probe socket has no IP address"))
}

/// A worker's listening socket on the exact address the supervisor reserved.
pub(crate) fn worker_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    Ok(reuseport_socket(addr, Some(1024))?.into())
}

/// The supervisor's runtime: one thread (it only waits on workers and signals).
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Makes SIGHUP harmless from now on: the process keeps a handler for it, so the signal no
/// longer terminates it. A SIGHUP that arrives before [`supervise`] runs is kept by the
/// runtime (nothing drives it yet) and reaches the supervisor's own listener, created before
/// its first wait: the host reloads once it is ready, so a reload asked for during startup is
/// not lost.
pub(crate) fn survive_hangup(runtime: &tokio::runtime::Runtime) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let _runtime = runtime.enter();
    // The handler stays installed when this listener is dropped (tokio never uninstalls one).
    signal(SignalKind::hangup()).map(drop)
}

/// Runs the supervisor until SIGTERM or Ctrl-C. Returns the process exit code.
pub(crate) fn supervise(
    runtime: &tokio::runtime::Runtime,
    cli: &Cli,
    keys: &KeySource,
    data_dir: &Path,
) -> ExitCode {
    let bind = match probe_free(cli.bind) {
        Ok(addr) => addr,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!(
                "tessera-demo: cannot bind {}: the address is already in use (another \
                 server, perhaps another tessera-demo, serves it); stop it or choose another \
                 --bind",
                cli.bind
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("tessera-demo: cannot bind {}: {e}", cli.bind);
            return ExitCode::FAILURE;
        }
    };
    let reserved = match reuseport_socket(bind, None) {
        Ok(socket) => socket,
        Err(e) => {
            eprintln!("tessera-demo: cannot bind {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(Some(addr)) = reserved.local_addr().map(|a| a.as_socket()) else {
        eprintln!(
            "tessera-demo: cannot read the bound address of {}",
            cli.bind
        );
        return ExitCode::FAILURE;
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("tessera-demo: cannot find my own executable to start workers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plan = WorkerPlan {
        exe,
        args: worker_args(cli, keys, addr, data_dir),
        inline_keys: match keys {
            KeySource::Inline(json) => Some(json.clone()),
            KeySource::File(_) => None,
        },
        replay_store: cli.replay_store.clone(),
    };
    let code = runtime.block_on(run(plan, cli.worker_count(), addr));
    // The reservation is held until every worker has stopped.
    drop(reserved);
    code
}

/// How to start worker K.
struct WorkerPlan {
    exe: PathBuf,
    /// Arguments shared by all workers (everything but --worker-id), paths as they are
    /// (they need not be UTF-8).
    args: Vec<OsString>,
    /// An inline key set, handed over in the workers' environment (never in argv, which
    /// every local user can read).
    inline_keys: Option<String>,
    /// The --replay-store value, also handed over in the environment (a Redis URL may carry
    /// a password).
    replay_store: String,
}

impl WorkerPlan {
    fn spawn(&self, id: u16) -> std::io::Result<Child> {
        let mut command = Command::new(&self.exe);
        if let Some(json) = &self.inline_keys {
            command.env(KEYS_ENV, json);
        }
        command.env(REPLAY_STORE_ENV, &self.replay_store);
        command
            .arg("--worker-id")
            .arg(id.to_string())
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
    }
}

fn worker_args(cli: &Cli, keys: &KeySource, addr: SocketAddr, data_dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "--bind".into(),
        addr.to_string().into(),
        "--workers".into(),
        cli.worker_count().to_string().into(),
        "--data-dir".into(),
        data_dir.as_os_str().to_owned(),
        "--threads".into(),
        cli.thread_count().to_string().into(),
        "--ttl".into(),
        cli.ttl.to_string().into(),
        "--leeway".into(),
        cli.leeway.to_string().into(),
        "--header-timeout".into(),
        cli.header_timeout.to_string().into(),
    ];
    // Inline key JSON reaches the workers through their environment, never argv.
    if let KeySource::File(path) = keys {
        args.push("--keys".into());
        args.push(path.as_os_str().to_owned());
    }
    if cli.keep_alive {
        args.push("--keep-alive".into());
    }
    args
}

/// A slot's report on the first start of its worker: it listens (`ok`) or it failed.
struct Started {
    id: u16,
    ok: bool,
}

/// How startup ended.
enum Startup {
    /// Every worker listens.
    Ready,
    /// A worker could not start.
    Failed,
    /// SIGTERM or Ctrl-C arrived first.
    Interrupted,
}

async fn run(plan: WorkerPlan, count: u16, addr: SocketAddr) -> ExitCode {
    let mut signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tessera-demo: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plan = std::sync::Arc::new(plan);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (reload_tx, reload_rx) = watch::channel(0u64);
    let (report_tx, mut report_rx) = mpsc::channel(usize::from(count));
    let (reloaded_tx, mut reloaded_rx) = mpsc::channel(usize::from(count) * 2);
    let mut slots = tokio::task::JoinSet::new();
    for id in 1..=count {
        slots.spawn(slot(
            plan.clone(),
            id,
            Control {
                stop: stop_rx.clone(),
                reload: reload_rx.clone(),
                reloaded: reloaded_tx.clone(),
            },
            report_tx.clone(),
        ));
    }
    drop((report_tx, reloaded_tx, reload_rx));

    // Every worker must listen before the host announces itself.
    let mut ready = 0;
    let startup = loop {
        if ready == count {
            break Startup::Ready;
        }
        tokio::select! {
            report = report_rx.recv() => match report {
                Some(Started { ok: true, .. }) => ready += 1,
                Some(Started { id, ok: false }) => {
                    eprintln!("tessera-demo: worker w{id} failed to start; stopping");
                    break Startup::Failed;
                }
                None => break Startup::Failed,
            },
            () = signals.recv() => break Startup::Interrupted,
        }
    };
    if let Startup::Ready = startup {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        // A closed stdout must not stop the host: the line is for whoever listens.
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
        drop(out);
        tracing::info!(%addr, workers = count, "host ready");
        let mut tally = ReloadTally::default();
        let Signals { term, int, hup } = &mut signals;
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => {
                    let generation = tally.start();
                    tracing::info!(
                        generation,
                        "reloading (SIGHUP): each worker is replaced once its successor, started \
                         with the key file as it is now, listens"
                    );
                    let _ = reload_tx.send(generation);
                }
                Some(report) = reloaded_rx.recv() => tally.record(report, count),
            }
        }
    }
    tracing::info!("stopping workers");
    // Reports that come while the workers stop are not read: a slot must never wait to send one.
    drop(reloaded_rx);
    let _ = stop_tx.send(true);
    while slots.join_next().await.is_some() {}
    tracing::info!("all workers stopped");
    match startup {
        Startup::Failed => ExitCode::FAILURE,
        Startup::Ready | Startup::Interrupted => ExitCode::SUCCESS,
    }
}

/// A slot's report on one reload: the generation, and whether its worker was replaced (or,
/// for a slot whose worker was down, restarted) with the configuration as it is now; `ok` is false
/// when the new worker did not start (a slot whose worker was down reports its first failed restart).
struct Reloaded {
    generation: u64,
    ok: bool,
}

/// What the supervisor tells every slot: stop, reload; and where a slot reports reloads.
struct Control {
    stop: watch::Receiver<bool>,
    reload: watch::Receiver<u64>,
    reloaded: mpsc::Sender<Reloaded>,
}

impl Control {
    /// Reports `generation` once.
    async fn report_reload(&self, generation: u64, ok: bool, reported: &mut u64) {
        if generation > *reported {
            *reported = generation;
            let _ = self.reloaded.send(Reloaded { generation, ok }).await;
        }
    }
}

/// The supervisor's count of slot reports per reload generation; logs each reload's end.
#[derive(Default)]
struct ReloadTally {
    generation: u64,
    replaced: u16,
    kept: u16,
}

impl ReloadTally {
    /// A new reload: its generation.
    fn start(&mut self) -> u64 {
        self.generation += 1;
        self.replaced = 0;
        self.kept = 0;
        self.generation
    }

    /// Counts a slot's report on the current generation (earlier ones are superseded) and
    /// logs the end of the reload once every slot reported.
    fn record(&mut self, report: Reloaded, count: u16) {
        if report.generation != self.generation {
            return;
        }
        if report.ok {
            self.replaced += 1;
        } else {
            self.kept += 1;
        }
        if self.replaced + self.kept < count {
            return;
        }
        if self.kept == 0 {
            tracing::info!(
                generation = self.generation,
                replaced = self.replaced,
                "reload finished: every worker runs the new configuration"
            );
        } else {
            tracing::error!(
                generation = self.generation,
                replaced = self.replaced,
                kept = self.kept,
                "reload failed: some new workers did not start (see above); the workers \
                 they were to replace keep running with the previous configuration (a slot \
                 whose worker was down keeps restarting it)"
            );
        }
    }
}

/// Keeps worker `id` running until told to stop; replaces it on each reload.
async fn slot(
    plan: std::sync::Arc<WorkerPlan>,
    id: u16,
    control: Control,
    report: mpsc::Sender<Started>,
) {
    // Workers replaced by a reload, each being stopped gracefully in a task of its own, so
    // that the slot goes on watching its current worker and the host's stop meanwhile. The
    // slot ends once they have stopped too.
    let mut retiring = tokio::task::JoinSet::new();
    keep_running(&plan, id, control, &report, &mut retiring).await;
    while retiring.join_next().await.is_some() {}
}

/// The body of [`slot`]: returns when the host stops (or the first start failed).
async fn keep_running(
    plan: &WorkerPlan,
    id: u16,
    mut control: Control,
    report: &mpsc::Sender<Started>,
    retiring: &mut tokio::task::JoinSet<()>,
) {
    let mut backoff = BACKOFF_MIN;
    let mut first = true;
    // The last reload generation this slot reported.
    let mut reported = 0u64;
    loop {
        let started_at = Instant::now();
        let on_ready = first.then_some(report);
        match run_once(plan, id, &mut control, on_ready, &mut reported, retiring).await {
            Outcome::Stopped => return,
            Outcome::FailedToStart(why) if first => {
                tracing::error!(worker = id, "worker failed to start: {why}");
                let _ = report.send(Started { id, ok: false }).await;
                return;
            }
            Outcome::FailedToStart(why) => {
                tracing::error!(worker = id, "worker failed to restart: {why}");
            }
            Outcome::Exited(status) => {
                first = false;
                tracing::warn!(worker = id, %status, "worker exited; restarting");
            }
            Outcome::Lost(why) => {
                first = false;
                tracing::error!(worker = id, "lost track of the worker ({why}); restarting");
            }
        }
        if started_at.elapsed() >= HEALTHY_RUN {
            backoff = BACKOFF_MIN;
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stopping(&mut control.stop) => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
        if *control.stop.borrow() {
            return;
        }
    }
}

/// How one run of a worker process ended.
enum Outcome {
    /// It exited by itself after it was ready.
    Exited(std::process::ExitStatus),
    /// It could not be started or did not become ready.
    FailedToStart(String),
    /// It was ready, then waiting for it failed: it is killed (its handle is dropped) and
    /// the slot starts another.
    Lost(String),
    /// The supervisor is stopping and the worker has stopped.
    Stopped,
}

/// Why a worker did not come up.
enum NotStarted {
    /// The host is stopping (the half-started worker was stopped).
    Stopped,
    /// It could not be spawned, or exited or stayed silent before listening.
    Failed(String),
}

/// A worker process that listens, and the pipe whose closing tells it to stop.
struct Running {
    child: Child,
    stdin: Option<tokio::process::ChildStdin>,
}

/// Spawns worker `id` and waits until it listens.
async fn start(
    plan: &WorkerPlan,
    id: u16,
    stop: &mut watch::Receiver<bool>,
) -> Result<Running, NotStarted> {
    let mut child = plan
        .spawn(id)
        .map_err(|e| NotStarted::Failed(format!("cannot spawn: {e}")))?;
    let stdin = child.stdin.take();
    let Some(stdout) = child.stdout.take() else {
        return Err(NotStarted::Failed("no stdout pipe".to_owned()));
    };
    let mut lines = BufReader::new(stdout).lines();
    let became_ready = tokio::select! {
        line = tokio::time::timeout(STARTUP_TIMEOUT, lines.next_line()) => {
            matches!(line, Ok(Ok(Some(ref l))) if l == READY_LINE)
        }
        () = stopping(stop) => {
            stop_child(Running { child, stdin }).await;
            return Err(NotStarted::Stopped);
        }
    };
    if !became_ready {
        let _ = child.start_kill();
        return Err(NotStarted::Failed(match child.wait().await {
            Ok(status) => format!("it exited ({status}) before listening"),
            Err(e) => format!("it did not become ready: {e}"),
        }));
    }
    tracing::info!(worker = id, pid = child.id(), "worker ready");
    // Drain anything else the worker prints, so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Running { child, stdin })
}

/// Starts worker `id`, waits until it listens (telling `on_ready`), then until it exits or
/// the host stops. On a reload it starts a successor with the configuration as it is now and,
/// once the successor listens, stops the running worker gracefully; a successor that does not
/// start leaves the running worker in place.
async fn run_once(
    plan: &WorkerPlan,
    id: u16,
    control: &mut Control,
    on_ready: Option<&mpsc::Sender<Started>>,
    reported: &mut u64,
    retiring: &mut tokio::task::JoinSet<()>,
) -> Outcome {
    // A reload that came while this slot had no worker is served by this start.
    let generation = *control.reload.borrow_and_update();
    let mut current = match start(plan, id, &mut control.stop).await {
        Ok(running) => running,
        Err(NotStarted::Stopped) => return Outcome::Stopped,
        Err(NotStarted::Failed(why)) => {
            // A slot whose worker is down (crash-looping, say) answers a pending reload with
            // this failed start, so that the reload ends ("reload failed") instead of waiting
            // for a start that may never succeed.
            control.report_reload(generation, false, reported).await;
            return Outcome::FailedToStart(why);
        }
    };
    control.report_reload(generation, true, reported).await;
    if let Some(report) = on_ready {
        let _ = report.send(Started { id, ok: true }).await;
    }
    let mut reloads_open = true;
    loop {
        tokio::select! {
            status = current.child.wait() => return match status {
                Ok(status) => Outcome::Exited(status),
                Err(e) => Outcome::Lost(format!("cannot wait for it: {e}")),
            },
            () = stopping(&mut control.stop) => {
                stop_child(current).await;
                return Outcome::Stopped;
            }
            changed = control.reload.changed(), if reloads_open => {
                if changed.is_err() {
                    // The supervisor is going away; its stop follows.
                    reloads_open = false;
                    continue;
                }
                let generation = *control.reload.borrow_and_update();
                match start(plan, id, &mut control.stop).await {
                    Ok(successor) => {
                        let previous = std::mem::replace(&mut current, successor);
                        let old_pid = previous.child.id();
                        let pid = current.child.id();
                        // The reload is reported once the previous worker has stopped (its
                        // listener closed): only the new configuration then takes connections.
                        let report = (generation > *reported).then(|| control.reloaded.clone());
                        *reported = (*reported).max(generation);
                        // Forget the replaced workers that have stopped since the last reload.
                        while retiring.try_join_next().is_some() {}
                        retiring.spawn(async move {
                            stop_child(previous).await;
                            tracing::info!(worker = id, old_pid, pid, "worker replaced (reload)");
                            if let Some(reloaded) = report {
                                let _ = reloaded.send(Reloaded { generation, ok: true }).await;
                            }
                        });
                    }
                    Err(NotStarted::Stopped) => {
                        stop_child(current).await;
                        return Outcome::Stopped;
                    }
                    Err(NotStarted::Failed(why)) => {
                        tracing::error!(
                            worker = id,
                            "reload: the new worker did not start ({why}); the running one stays"
                        );
                        control.report_reload(generation, false, reported).await;
                    }
                }
            }
        }
    }
}

/// Closes the worker's stdin (its signal to stop gracefully), then kills it after the grace.
async fn stop_child(Running { mut child, stdin }: Running) {
    drop(stdin);
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        tracing::warn!(pid = child.id(), "worker did not stop in time; killing it");
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}

/// SIGTERM and SIGINT (Ctrl-C), merged; and SIGHUP, which a process that holds these
/// handlers no longer dies of (a worker ignores it, the supervisor reloads).
pub(crate) struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for the next SIGTERM or SIGINT.
    pub(crate) async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// Resolves once the supervisor is stopping.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens when the supervisor stops.
    let _ = stop.wait_for(|stopping| *stopping).await;
}
