//! The prefork supervisor: N worker processes on one address, restarts, clean shutdown.

use std::time::Duration;

use crate::host::{WorkerLabel, fresh_client, process_exists, signal};

use crate::util::{KeyDir, run_to_exit, start_host, workers_seen};

/// How long a killed worker may take to be replaced (a guard against a hang, not a speed
/// requirement: the supervisor waits 100 ms, then the new process starts).
const RESTART_DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn workers_are_separate_processes_sharing_one_address() {
    let keys = KeyDir::new();
    let host = start_host(4, &keys, &[]);
    let seen = workers_seen(&host, 4, 400).await;
    assert_eq!(
        seen.len(),
        4,
        "the kernel spread 400 fresh connections over {seen:?}"
    );
    let pids: std::collections::BTreeSet<u32> = seen.iter().map(|w| w.pid).collect();
    assert_eq!(pids.len(), 4, "four distinct processes: {seen:?}");
    assert!(
        !pids.contains(&host.pid()),
        "the supervisor itself serves nothing"
    );
    let ids: Vec<u16> = seen.iter().map(|w| w.id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
}

#[tokio::test]
async fn sigterm_stops_the_supervisor_and_every_worker() {
    stops_cleanly_on("TERM").await;
}

#[tokio::test]
async fn ctrl_c_stops_the_supervisor_and_every_worker() {
    stops_cleanly_on("INT").await;
}

async fn stops_cleanly_on(signal_name: &str) {
    let keys = KeyDir::new();
    let host = start_host(3, &keys, &[]);
    let seen = workers_seen(&host, 3, 300).await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    let status = host.stop_with(signal_name);
    assert!(
        status.success(),
        "the supervisor exits cleanly on SIG{signal_name}: {status}"
    );
    for worker in &seen {
        // Workers are reaped by the supervisor before it exits, so none is left, not even
        // as a zombie.
        assert!(
            !process_exists(worker.pid),
            "{worker} still runs after the host stopped"
        );
    }
}

#[tokio::test]
async fn a_killed_worker_is_restarted_under_the_same_slot() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &[]);
    let seen = workers_seen(&host, 2, 200).await;
    let victim = seen.iter().next().expect("a worker").clone();
    assert!(signal(victim.pid, "KILL"));
    // Ask until the slot answers again with a new process (bounded by a deadline, not by a
    // number of tries, which a loaded machine would make shorter than the restart).
    let client = fresh_client();
    let mut replacement = None;
    let deadline = std::time::Instant::now() + RESTART_DEADLINE;
    while std::time::Instant::now() < deadline {
        if let Ok(res) = client.get(host.url("/healthz")).send().await {
            let w = WorkerLabel::of(&res).expect("worker header");
            if w.id == victim.id && w.pid != victim.pid {
                replacement = Some(w);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let replacement = replacement.unwrap_or_else(|| {
        panic!("the supervisor did not restart the killed worker within {RESTART_DEADLINE:?}")
    });
    assert!(process_exists(replacement.pid));
    assert!(!process_exists(victim.pid), "the killed worker was reaped");
}

#[test]
fn an_unreadable_key_file_stops_startup_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    std::fs::write(
        &path,
        "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2hvcnQ\"}]}",
    )
    .unwrap();
    let out = std::process::Command::new(crate::host::server_binary())
        .args(["--bind", "127.0.0.1:0", "--workers", "1", "--keys"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "no ready line: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("keys.json"),
        "the error names the file: {stderr}"
    );
    assert!(
        !stderr.contains("c2hvcnQ"),
        "the error never echoes key material: {stderr}"
    );
}

/// A second host on the address of a running one refuses to start (SO_REUSEPORT would let it
/// join silently and take half the clicks, which its keys cannot verify).
#[tokio::test]
async fn a_second_host_on_a_busy_address_refuses_to_start() {
    let keys = KeyDir::new();
    let first = start_host(2, &keys, &[]);
    let addr = first.addr().to_string();
    let other_keys = KeyDir::new();
    let other_arg = other_keys.arg();
    let (code, stderr) = run_to_exit(&["--bind", &addr, "--workers", "2", "--keys", &other_arg]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&addr) && stderr.contains("already in use"),
        "a clear error naming the address: {stderr}"
    );
    // The first host still serves every connection, with its own workers only.
    let seen = workers_seen(&first, 2, 200).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    let status = first.stop();
    assert!(status.success(), "{status}");
}

/// Stopping a host that served connections (now in TIME_WAIT) and starting another on the same
/// fixed port works: the probe only refuses a port that something is bound to.
#[tokio::test]
async fn a_host_restarts_on_the_same_fixed_port() {
    let keys = KeyDir::new();
    let first = start_host(2, &keys, &[]);
    let addr = first.addr().to_string();
    let _ = workers_seen(&first, 2, 50).await;
    assert!(first.stop().success());
    let second = start_host(2, &keys, &["--bind", &addr]);
    assert_eq!(second.addr().to_string(), addr);
    let seen = workers_seen(&second, 2, 200).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
}

/// Paths reach the workers byte for byte, even when they are not UTF-8 (Linux allows any
/// bytes but `/` and NUL): the key file and the shared ledger live in such a folder.
#[tokio::test]
async fn non_utf8_paths_reach_the_workers_intact() {
    use std::os::unix::ffi::OsStrExt as _;
    let root = tempfile::tempdir().unwrap();
    let dir = root
        .path()
        .join(std::ffi::OsStr::from_bytes(b"data-\xff\xfe"));
    let keys = dir.join("keys.json");
    let host = crate::host::Host::start_os(
        &[
            "--workers".as_ref(),
            "2".as_ref(),
            "--keys".as_ref(),
            keys.as_os_str(),
            "--data-dir".as_ref(),
            dir.as_os_str(),
        ],
        &[],
    );
    let client = fresh_client();
    let panels = crate::util::get(&client, &host, crate::util::PANELS, Some("alice")).await;
    let (url, token) = crate::util::url_and_token(crate::util::button(
        &panels.body,
        crate::util::CONFIRM_TRANSFER,
    ));
    let click = crate::util::post_json(
        &client,
        &host,
        &url,
        Some("alice"),
        &serde_json::json!({"token": token, "input": {"qty": 1}}),
    )
    .await;
    assert_eq!(click.status, 200, "{click:?}");
    assert!(
        dir.join(crate::util::LEDGER_DIR).join("v2.json").is_file(),
        "the worker wrote the ledger in the folder it was given"
    );
    let entries: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "no second, lossily renamed folder: {entries:?}"
    );
}

/// Opens a connection to `host` and sends the start of a request head, never its end.
fn stalled_client(host: &crate::host::Host) -> std::net::TcpStream {
    use std::io::Write as _;
    let mut stream = std::net::TcpStream::connect(host.addr()).expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .expect("write");
    stream
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    use std::io::Read as _;
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &["--header-timeout", "1"]);
    // Started before the connection exists: the host's header timer starts when it has the
    // connection, so the close cannot come sooner than 1 s after this, however long this
    // thread is descheduled between connecting and reading.
    let started = std::time::Instant::now();
    let mut stalled = stalled_client(&host);
    stalled
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut answer = Vec::new();
    // The host closes the connection (with or without a 408 first): the read ends, not by
    // our own 15 s timeout.
    let ended = stalled.read_to_end(&mut answer);
    let waited = started.elapsed();
    assert!(ended.is_ok(), "the host kept the connection: {ended:?}");
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(8),
        "closed after {waited:?} with --header-timeout 1"
    );
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // Other clients are served as before.
    assert_eq!(workers_seen(&host, 1, 5).await.len(), 1);
}

/// A client that sends a complete request head and then its body a byte at a time, slower than
/// any real client (here: nothing more after the first bytes), holds its connection and the
/// worker's request forever: `--header-timeout` bounds only the head, and nothing bounds the
/// body (the action extractor and the parse-only route read it without a deadline). A few
/// thousand such connections use up a worker's file descriptors (its accept loop then pauses
/// a second per failure) and keep every one of their requests in memory. The host must cut
/// such a connection off (with or without a 408), as it does a stalled head.
#[tokio::test]
async fn a_client_that_never_finishes_its_request_body_is_disconnected() {
    use std::io::{Read as _, Write as _};
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &["--header-timeout", "1"]);
    for path in [
        "/api/plugins/stock-tools/actions/transfer",
        "/bench/parse-only",
    ] {
        let mut stalled = std::net::TcpStream::connect(host.addr()).expect("connect");
        write!(
            stalled,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n\
             content-length: 100\r\n\r\n{{\"token\":"
        )
        .expect("write");
        stalled
            .set_read_timeout(Some(Duration::from_secs(12)))
            .unwrap();
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        let ended = stalled.read_to_end(&mut answer);
        assert!(
            ended.is_ok(),
            "{path}: the host still held a request whose body stalled after {:?} \
             (--header-timeout 1): {ended:?}",
            started.elapsed()
        );
    }
    // Other clients are served as before.
    assert_eq!(workers_seen(&host, 1, 5).await.len(), 1);
}

/// A graceful stop waits for open connections; a client that never finishes its request head
/// is cut off by the header timeout (2 s here), so the supervisor never needs its 10 s grace
/// and its kill. Checked by what the supervisor did, not by how long the stop took.
#[tokio::test]
async fn a_stalled_client_does_not_hold_up_a_stop() {
    let keys = KeyDir::new();
    let key_arg = keys.arg();
    let host = crate::host::Host::start_with_env(
        &[
            "--workers",
            "1",
            "--keys",
            &key_arg,
            "--header-timeout",
            "2",
        ],
        // The supervisor's warning about a worker it had to kill is logged at `warn`.
        &[("RUST_LOG", "info")],
    );
    let _stalled = stalled_client(&host);
    // The one worker accepts connections in order: once a later one is answered, it holds
    // the stalled one.
    assert_eq!(workers_seen(&host, 1, 1).await.len(), 1);
    let (status, logs) = host.stop_with_logs();
    assert!(status.success(), "{status}\n{logs}");
    assert!(
        logs.contains("all workers stopped"),
        "the supervisor's log to its end:\n{logs}"
    );
    assert!(
        !logs.contains("did not stop in time"),
        "the stalled client held the stop until the worker was killed:\n{logs}"
    );
}

/// The data folder holds the replay records and the ledger: another local user who could
/// write in it (or who made one of its folders or files) could delete a record (a used
/// single-use button runs again) or plant a ledger version. The host refuses such a folder at
/// startup, as it refuses such a key file; it used them as found.
#[test]
fn a_data_folder_other_users_could_write_in_is_refused_at_startup() {
    use std::os::unix::fs::PermissionsExt as _;
    let keys = crate::util::KeyDir::new();
    for (what, prepare) in [
        ("the folder itself", "."),
        ("its replay records' folder", "replay-guard"),
        ("its ledger's folder", "stock-ledger"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let target = data.path().join(prepare);
        std::fs::create_dir_all(&target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o777)).unwrap();
        let data_arg = data.path().to_str().unwrap().to_owned();
        let (code, stderr) = crate::util::run_to_exit(&[
            "--bind",
            "127.0.0.1:0",
            "--keys",
            &keys.arg(),
            "--data-dir",
            &data_arg,
        ]);
        assert_eq!(code, Some(1), "{what}: {stderr}");
        assert!(stderr.contains("other users may write"), "{what}: {stderr}");
    }
    // A ledger version another user owns.
    let data = tempfile::tempdir().unwrap();
    let ledger = data.path().join("stock-ledger");
    std::fs::create_dir(&ledger).unwrap();
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o700)).unwrap();
    let planted = ledger.join("v9.json");
    std::fs::write(&planted, "{}").unwrap();
    if std::os::unix::fs::chown(&planted, Some(65534), None).is_ok() {
        let data_arg = data.path().to_str().unwrap().to_owned();
        let (code, stderr) = crate::util::run_to_exit(&[
            "--bind",
            "127.0.0.1:0",
            "--keys",
            &keys.arg(),
            "--data-dir",
            &data_arg,
        ]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains("belongs to another user (uid 65534)"),
            "{stderr}"
        );
    }
}
