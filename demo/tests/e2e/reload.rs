//! SIGHUP: the supervisor replaces every worker with one started from the key file as it is
//! now, each once its successor listens. A staged key rotation (add the key, reload; make it
//! active, reload) then never refuses a click, on any worker; a key file that does not load
//! leaves the running workers in place.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::host::{Host, fresh_client, process_exists, signal};
use serde_json::{Value, json};
use tessera_protocol::{Algorithm, DEFAULT_MAX_TOKEN_LEN, Key, KeySet, Kid, UntrustedToken};

use crate::util::{
    Answer, KeyDir, PANELS, PARSE_ONLY, TRANSFER, button, get, post_json, start_host, url_and_token,
};

/// How long a reload may take before the test gives up (a guard against a hang, never a
/// timing assertion).
const RELOAD_GUARD: Duration = Duration::from_secs(60);

/// The key id in a token's header.
fn kid_of(token: &str) -> String {
    UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_LEN)
        .expect("a token")
        .untrusted_kid()
        .expect("a kid")
        .to_owned()
}

/// Writes `set` to the key file the way the CLI does: a whole new file renamed into place.
pub(crate) fn write_keys(keys: &KeyDir, text: &str) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = keys.path().with_extension("tmp");
    // Private whatever the umask: the host refuses a key file others may write to.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
    drop(file);
    std::fs::rename(&tmp, keys.path()).unwrap();
}

/// Sends SIGHUP to the supervisor and waits until its log says that reload `generation` ended
/// with `outcome` ("reload finished" or "reload failed").
pub(crate) async fn reload(host: &Host, generation: u64, outcome: &str) {
    assert!(signal(host.pid(), "HUP"), "SIGHUP delivered");
    let deadline = Instant::now() + RELOAD_GUARD;
    let wanted = format!("generation={generation}");
    loop {
        let logs = host.logs();
        if logs
            .lines()
            .any(|l| l.contains(outcome) && l.contains(&wanted))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no '{outcome}' for reload {generation}:\n{logs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks `url` with `token` as alice.
async fn click_as_alice(client: &reqwest::Client, host: &Host, url: &str, token: &str) -> Answer {
    post_json(client, host, url, Some("alice"), &json!({ "token": token })).await
}

/// The transfer button's URL and token, rendered for alice over a fresh connection.
async fn render(host: &Host) -> (String, String) {
    let panels = get(&fresh_client(), host, PANELS, Some("alice")).await;
    assert_eq!(panels.status, 200, "{panels:?}");
    url_and_token(button(&panels.body, TRANSFER))
}

#[tokio::test]
async fn a_staged_key_rotation_with_sighup_never_refuses_a_click() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &[]);
    let (url, old_token) = render(&host).await;
    let old_kid = kid_of(&old_token);
    // A worker ignores SIGHUP (a terminal hangup reaches the whole process group): only the
    // supervisor reloads. Checked at the end: no worker exited.
    let health = get(&fresh_client(), &host, "/healthz", None).await;
    assert!(signal(health.worker.pid, "HUP"));

    // Clicks for the whole rotation: render, then click, each over a fresh connection, so they
    // land on any worker, old or new. Every HTTP answer must be a success.
    let base = host.url("");
    let running = Arc::new(AtomicBool::new(true));
    let clicks = tokio::spawn({
        let running = running.clone();
        async move {
            let client = fresh_client();
            let (mut answers, mut refusals, mut transport_errors) = (0u32, Vec::new(), 0u32);
            while running.load(Ordering::Relaxed) {
                let round = async {
                    let panels: Value = client
                        .get(format!("{base}{PANELS}"))
                        .header("x-demo-user", "alice")
                        .send()
                        .await?
                        .json()
                        .await?;
                    let (path, token) = url_and_token(button(&panels, TRANSFER));
                    let res = client
                        .post(format!("{base}{path}"))
                        .header("x-demo-user", "alice")
                        .json(&json!({"token": token, "input": {"qty": 1}}))
                        .send()
                        .await?;
                    let status = res.status().as_u16();
                    Ok::<_, reqwest::Error>((status, res.text().await?))
                };
                match round.await {
                    Ok((200, _)) => answers += 1,
                    Ok((status, body)) => refusals.push(format!("{status} {body}")),
                    // A connection the kernel had queued on a stopping worker's listener
                    // (SO_REUSEPORT) may be reset; that is not a refusal.
                    Err(_) => transport_errors += 1,
                }
            }
            (answers, refusals, transport_errors)
        }
    });

    // Stage 1: add a key without making it active, and reload: every worker now knows it,
    // and the new workers still mint with the old key.
    let mut set = KeySet::from_file(keys.path()).unwrap();
    let new_kid = Kid::new("next").unwrap();
    set.insert(Key::generate(Algorithm::Hs256, new_kid.clone()).unwrap())
        .unwrap();
    write_keys(&keys, &set.to_private_json());
    reload(&host, 1, "reload finished").await;
    let (_, token) = render(&host).await;
    assert_eq!(kid_of(&token), old_kid, "the new key is not active yet");

    // Stage 2: make it active, and reload: buttons carry the new key; old buttons still work.
    set.set_active(&new_kid).unwrap();
    write_keys(&keys, &set.to_private_json());
    reload(&host, 2, "reload finished").await;
    let client = fresh_client();
    for _ in 0..10 {
        let (url, token) = render(&host).await;
        assert_eq!(kid_of(&token), "next");
        let click = click_as_alice(&client, &host, &url, &token).await;
        assert_eq!(click.status, 200, "{click:?}");
    }
    let click = click_as_alice(&client, &host, &url, &old_token).await;
    assert_eq!(
        click.status, 200,
        "a button rendered before the rotation: {click:?}"
    );

    running.store(false, Ordering::Relaxed);
    let (answers, refusals, transport_errors) = clicks.await.unwrap();
    assert!(
        refusals.is_empty(),
        "clicks refused during the rotation: {refusals:?}"
    );
    assert!(
        answers > 0,
        "the click loop ran ({transport_errors} transport errors)"
    );

    // A key file that does not load: the successors do not start, the running workers stay.
    let workers_before: Vec<String> = host
        .logs()
        .lines()
        .filter(|l| l.contains("worker replaced (reload)"))
        .map(str::to_owned)
        .collect();
    assert_eq!(workers_before.len(), 4, "2 workers replaced twice");
    write_keys(&keys, "{}");
    reload(&host, 3, "reload failed").await;
    let click = click_as_alice(&client, &host, &url, &old_token).await;
    assert_eq!(
        click.status, 200,
        "the previous workers still serve: {click:?}"
    );
    let (status, logs) = host.stop_with_logs();
    assert!(status.success(), "{status}");
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("worker replaced (reload)"))
            .count(),
        4,
        "nothing replaced by the failed reload:\n{logs}"
    );
    assert!(
        !logs.contains(&set.to_private_json()),
        "no key material in the logs"
    );
    assert!(
        !logs.contains("worker exited"),
        "a worker died of SIGHUP:\n{logs}"
    );
}

/// Waits until the host's log has a line containing every one of `needles`.
async fn wait_for_log(host: &Host, needles: &[&str]) {
    let deadline = Instant::now() + RELOAD_GUARD;
    loop {
        let logs = host.logs();
        if logs.lines().any(|l| needles.iter().all(|n| l.contains(n))) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no log line with {needles:?}:\n{logs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A reload while one worker cannot be restarted (it died, and the key file no longer loads,
/// so its slot is crash-looping in backoff) still ends: that slot's failed start counts for
/// the reload, and the log says the reload failed instead of never saying anything.
#[tokio::test]
async fn a_reload_while_a_worker_is_crash_looping_ends_and_says_it_failed() {
    let keys = KeyDir::new();
    let host = start_host(2, &keys, &[]);
    let health = get(&fresh_client(), &host, "/healthz", None).await;
    let victim = health.worker;
    write_keys(&keys, "{}");
    assert!(signal(victim.pid, "KILL"), "kill -9 {victim}");
    // Its slot now fails to restart, again and again (the key file does not load).
    let worker = format!("worker={}", victim.id);
    wait_for_log(&host, &["worker failed to restart", &worker]).await;
    reload(&host, 1, "reload failed").await;
    let (status, logs) = host.stop_with_logs();
    assert!(status.success(), "{status}");
    assert!(
        !logs.contains("reload finished"),
        "nothing was replaced:\n{logs}"
    );
}

/// The children of process `parent` (from /proc).
fn children_of(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let Ok(pid) = entry
            .expect("a /proc entry")
            .file_name()
            .to_string_lossy()
            .parse()
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
        let ppid = stat
            .rfind(')')
            .and_then(|end| stat[end + 1..].split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok());
        if ppid == Some(parent) {
            children.push(pid);
        }
    }
    children
}

/// A SIGHUP that reaches a worker while it starts (one sent to the whole process group, or
/// `pkill -HUP tessera-server` during a reload) does not kill it: workers ignore SIGHUP from
/// their first moment, not only once they listen. The key file is made a FIFO so that the new
/// worker of a reload is caught, deterministically, in the middle of reading it.
#[tokio::test]
async fn a_worker_that_gets_sighup_while_it_starts_is_not_killed_by_it() {
    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let old = get(&fresh_client(), &host, "/healthz", None).await.worker;
    let text = std::fs::read_to_string(keys.path()).unwrap();
    let fifo = keys.path().with_extension("fifo");
    let made = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    std::fs::rename(&fifo, keys.path()).unwrap();

    // Opening the FIFO for writing blocks until the new worker opens it to read the keys.
    let (opened_tx, opened_rx) = std::sync::mpsc::channel();
    let path = keys.path();
    std::thread::spawn(move || {
        let writer = std::fs::OpenOptions::new().write(true).open(path);
        let _ = opened_tx.send(writer);
    });
    assert!(signal(host.pid(), "HUP"), "SIGHUP delivered");
    let mut writer = opened_rx
        .recv_timeout(RELOAD_GUARD)
        .expect("the new worker opens the key file")
        .expect("the FIFO opens for writing");
    // The new worker is now blocked reading its key file.
    let starting: Vec<u32> = children_of(host.pid())
        .into_iter()
        .filter(|&pid| pid != old.pid)
        .collect();
    assert_eq!(starting.len(), 1, "one new worker: {starting:?}");
    assert!(signal(starting[0], "HUP"), "SIGHUP to the starting worker");
    std::io::Write::write_all(&mut writer, text.as_bytes()).unwrap();
    drop(writer);

    wait_for_log(&host, &["generation=1", "reload "]).await;
    let (status, logs) = host.stop_with_logs();
    assert!(status.success(), "{status}");
    assert!(
        logs.lines()
            .any(|l| l.contains("reload finished") && l.contains("generation=1")),
        "the new worker survived SIGHUP and replaced the old one:\n{logs}"
    );
    assert!(
        !logs.contains("signal: 1 (SIGHUP)"),
        "a worker died of SIGHUP:\n{logs}"
    );
}

/// A SIGHUP that reaches the supervisor while it starts (a reload asked for as the service
/// comes up, say after an edit of the key file) neither kills it nor is lost: the host starts,
/// then reloads once it is ready. The key file is a FIFO, so the supervisor is caught,
/// deterministically, in the middle of reading it, and each read is fed by the test.
#[tokio::test]
async fn a_supervisor_that_gets_sighup_while_it_loads_its_keys_starts_then_reloads() {
    let keys = KeyDir::new();
    let text = KeySet::generate(Algorithm::Hs256)
        .unwrap()
        .to_private_json();
    let made = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(keys.path())
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    // Waits for the next reader of the FIFO (opening it for writing blocks until one opens
    // it to read); writing the key set and closing the FIFO then ends that reader's read.
    let next_reader = |path: std::path::PathBuf| {
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = opened_tx.send(std::fs::OpenOptions::new().write(true).open(path));
        });
        opened_rx
            .recv_timeout(RELOAD_GUARD)
            .expect("a reader opens the key file")
            .expect("the FIFO opens for writing")
    };
    let feed =
        |mut fifo: std::fs::File| std::io::Write::write_all(&mut fifo, text.as_bytes()).unwrap();

    let key_arg = keys.arg();
    let host = std::thread::spawn(move || {
        crate::host::Host::start(&["--workers", "1", "--keys", &key_arg])
    });
    let supervisor_reading = next_reader(keys.path());
    // The supervisor (the one child of this test reading that FIFO) is now loading its keys.
    let fifo = keys.path().display().to_string();
    let supervisor: Vec<u32> = children_of(std::process::id())
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&fifo))
        })
        .collect();
    assert_eq!(supervisor.len(), 1, "one supervisor: {supervisor:?}");
    assert!(
        signal(supervisor[0], "HUP"),
        "SIGHUP to the starting supervisor"
    );
    feed(supervisor_reading);
    // Its worker reads the key file in turn, once the supervisor has read it to the end (a
    // writer opening the FIFO before that would extend the supervisor's read): the worker's
    // start shows it. Then, the host ready, the reload's new worker reads it.
    let deadline = Instant::now() + RELOAD_GUARD;
    while children_of(supervisor[0]).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the supervisor starts its worker"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    feed(next_reader(keys.path()));
    let host = host
        .join()
        .expect("the host started although SIGHUP reached it while it loaded its keys");
    feed(next_reader(keys.path()));
    wait_for_log(&host, &["generation=1", "reload "]).await;
    let healthz = get(&fresh_client(), &host, "/healthz", None).await;
    assert_eq!(healthz.status, 200);
    let (status, logs) = host.stop_with_logs();
    assert!(status.success(), "{status}\n{logs}");
    assert!(
        logs.lines()
            .any(|l| l.contains("reload finished") && l.contains("generation=1")),
        "the SIGHUP sent during startup was acted on once the host was ready:\n{logs}"
    );
}

/// SIGTERM while a reload waits for the replaced worker to finish a slow request: the host
/// stops its new worker at once (it must not go on accepting connections until the old one has
/// drained or met its grace), while the old one finishes the request it holds.
#[tokio::test]
async fn sigterm_while_a_replaced_worker_drains_stops_the_new_worker_at_once() {
    use tokio::io::AsyncWriteExt as _;

    let keys = KeyDir::new();
    let host = start_host(1, &keys, &[]);
    let old = get(&fresh_client(), &host, "/healthz", None).await.worker;
    // A click whose body never arrives in full: the old worker holds the request open.
    let mut slow = tokio::net::TcpStream::connect(host.addr()).await.unwrap();
    let head = format!(
        "POST {PARSE_ONLY} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n{{\"token\":",
        host.addr()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.flush().await.unwrap();

    assert!(signal(host.pid(), "HUP"), "SIGHUP delivered");
    // The new worker listens; the old one is being stopped, the slow request holding it.
    wait_for_log(&host, &["worker ready", "worker=1"]).await;
    let deadline = Instant::now() + RELOAD_GUARD;
    let new = loop {
        let logs = host.logs();
        let pids: Vec<u32> = logs
            .lines()
            .filter(|l| l.contains("worker ready"))
            .filter_map(|l| {
                l.split("pid=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        if let Some(&pid) = pids.iter().find(|&&pid| pid != old.pid) {
            break pid;
        }
        assert!(Instant::now() < deadline, "no new worker:\n{logs}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(process_exists(old.pid), "the old worker drains its request");

    assert!(signal(host.pid(), "TERM"), "SIGTERM delivered");
    // Which of the two is gone first: the new worker, with nothing to finish.
    let deadline = Instant::now() + RELOAD_GUARD;
    loop {
        let (new_alive, old_alive) = (process_exists(new), process_exists(old.pid));
        if !new_alive {
            assert!(
                old_alive,
                "the old worker went first; the new one was only stopped after it"
            );
            break;
        }
        assert!(
            old_alive,
            "the new worker kept running (and accepting connections) after SIGTERM until \
             the old one had stopped:\n{}",
            host.logs()
        );
        assert!(Instant::now() < deadline, "the new worker never stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(slow);
    let (status, logs) = host.stop_with_logs();
    assert!(status.success(), "{status}\n{logs}");
}

/// With the memory store, a used single-use button stays refused after the reloads of a
/// staged key rotation: the new workers' memory never saw its use, so the button (bound to the
/// old worker's memory) is `stale`; before the binding it ran again.
#[tokio::test]
async fn with_the_memory_store_a_used_single_use_button_is_not_reopened_by_reloads() {
    let keys = KeyDir::new();
    let host = crate::util::start_host(1, &keys, &["--replay-store", "memory"]);
    let client = fresh_client();
    let panels = crate::util::get(&client, &host, crate::util::PANELS, Some("alice")).await;
    let (url, token) = crate::util::url_and_token(crate::util::button(
        &panels.body,
        crate::util::CONFIRM_TRANSFER,
    ));
    let body = json!({"token": token, "input": {"qty": 1}});
    let first = post_json(&client, &host, &url, Some("alice"), &body).await;
    assert_eq!(first.status, 200, "{first:?}");
    for generation in 1..=2 {
        reload(&host, generation, "reload finished").await;
        let again = post_json(&client, &host, &url, Some("alice"), &body).await;
        assert_eq!((again.status, again.code()), (409, "stale"), "{again:?}");
    }
    let ledger = keys.ledger().unwrap();
    assert_eq!(
        ledger["stock"][crate::util::SHELF],
        crate::util::INITIAL_SHELF - 1,
        "{ledger}"
    );
}

/// A reload stops the old worker only after it has answered the requests already on its
/// connections: connections it accepted before the reload, whose requests arrive after the
/// new worker took over, are answered, not closed unanswered (they were before: 8 of 8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_answers_the_requests_on_connections_the_old_worker_accepted() {
    use std::io::{Read as _, Write as _};
    let keys = KeyDir::new();
    let host = crate::util::start_host(1, &keys, &["--header-timeout", "5"]);
    let old = get(&fresh_client(), &host, "/healthz", None).await.worker;
    // Connections the old worker accepts (its accept loop takes them at once); no request yet.
    let mut waiting: Vec<std::net::TcpStream> = (0..8)
        .map(|_| std::net::TcpStream::connect(host.addr()).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The reload: a new worker listens, then the old one is told to stop (and, before the
    // change, closed these connections at once).
    assert!(signal(host.pid(), "HUP"), "SIGHUP delivered");
    let deadline = Instant::now() + RELOAD_GUARD;
    while get(&fresh_client(), &host, "/healthz", None).await.worker == old {
        assert!(Instant::now() < deadline, "no new worker");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Only now the requests arrive on the old worker's connections.
    for stream in &mut waiting {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
    }
    for (n, stream) in waiting.iter_mut().enumerate() {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = String::new();
        let read = stream.read_to_string(&mut answer);
        assert!(
            read.is_ok() && answer.starts_with("HTTP/1.1 200"),
            "connection {n}: {read:?} {answer:?}"
        );
        let worker = format!("tessera-worker: w{}/pid{}", old.id, old.pid);
        assert!(
            answer
                .to_ascii_lowercase()
                .contains(&worker.to_ascii_lowercase()),
            "{answer}"
        );
    }
}
