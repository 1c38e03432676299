//! Starts the real `tessera-server` binary on 127.0.0.1 with an ephemeral port.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

/// A guard against a host that never says it is ready (not an assertion on timing).
const READY_GUARD: Duration = Duration::from_secs(120);

/// The plugin the demo host serves.
pub(crate) const PLUGIN: &str = "stock-tools";
/// Its actions.
pub(crate) const TRANSFER: &str = "plugin:stock-tools/action:transfer";
pub(crate) const PRINT_LABEL: &str = "plugin:stock-tools/action:print-label";

/// A running demo host; stopped (SIGTERM, then SIGKILL if needed) when dropped.
pub(crate) struct Host {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub(crate) url: String,
    /// The key file the host uses (made with `tessera keygen`).
    pub(crate) keys: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Host {
    /// Starts the host with a fresh HS256 key file, 1 thread per worker, 1 worker unless `extra`
    /// says `--workers`, and `extra` options.
    pub(crate) fn start(extra: &[&str]) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let (keys, _) = crate::util::keygen(dir.path(), "keys.json", "hs256");
        let log = dir.path().join("host.log");
        let mut command = Command::new(server_binary());
        command
            .args(["--bind", "127.0.0.1:0", "--threads", "1", "--keys"])
            .arg(&keys);
        if !extra.contains(&"--workers") {
            command.args(["--workers", "1"]);
        }
        let mut child = command
            .args(extra)
            .env_remove("TESSERA_KEYS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading to the end so the host never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let Ok(url) = rx.recv_timeout(READY_GUARD) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tessera-server did not print `listening on …`; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Host {
            child,
            url,
            keys,
            log,
            _dir: dir,
        }
    }

    /// The host's log so far (for failure messages).
    #[allow(dead_code, reason = "used when debugging a failing test")]
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // SIGTERM lets the supervisor stop its workers; SIGKILL only if it does not exit.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/<profile>/tessera-server`, built once per test run so that it is never stale.
pub(crate) fn server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        build(
            &["-p", "tessera-server", "--bin", "tessera-server"],
            "tessera-server",
        )
    })
}

/// `target/<profile>/examples/click`, built once per test run.
pub(crate) fn click_example() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        build(
            &["-p", "tessera-client", "--example", "click"],
            "examples/click",
        )
    })
}

/// Runs `cargo build <what>` in the workspace (a no-op when up to date) and returns
/// `target/<profile>/<path>`. A failed build falls back to an existing binary, with a warning.
fn build(what: &[&str], path: &str) -> PathBuf {
    // This test binary is target/<profile>/deps/client-HASH.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let binary = profile_dir.join(format!("{path}{}", std::env::consts::EXE_SUFFIX));
    let profile = profile_dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet"])
        .args(what)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    match profile.as_str() {
        "debug" => {}
        "release" => {
            build.arg("--release");
        }
        other => {
            build.args(["--profile", other]);
        }
    }
    // Cargo's per-package variables of this test would make build scripts (ring's) rerun.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref())
        {
            build.env_remove(name.as_ref());
        }
    }
    let output = build.output().expect("cannot run cargo");
    if !output.status.success() {
        assert!(
            binary.exists(),
            "cannot build {path}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!(
            "warning: building {path} failed; testing the existing binary:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    binary
}
