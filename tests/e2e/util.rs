//! Helpers for the end-to-end tests.

use std::collections::BTreeSet;
use std::path::PathBuf;

use tessera_tests::{Host, WorkerLabel, fresh_client};

/// A temporary folder holding the host's key file; removed when dropped.
pub(crate) struct KeyDir {
    dir: tempfile::TempDir,
}

impl KeyDir {
    pub(crate) fn new() -> KeyDir {
        KeyDir {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("keys.json")
    }

    pub(crate) fn arg(&self) -> String {
        self.path().display().to_string()
    }
}

/// Starts a host with `workers` workers, the key file of `keys`, and `extra` arguments.
pub(crate) fn start_host(workers: u16, keys: &KeyDir, extra: &[&str]) -> Host {
    let workers = workers.to_string();
    let key_arg = keys.arg();
    let mut args = vec!["--workers", &workers, "--keys", &key_arg];
    args.extend_from_slice(extra);
    Host::start(&args)
}

/// Asks `/healthz` over fresh connections until `want` distinct workers answered, at most
/// `max_requests` times; returns the workers seen.
pub(crate) async fn workers_seen(host: &Host, want: usize, max_requests: usize) -> BTreeSet<WorkerLabel> {
    let client = fresh_client();
    let mut seen = BTreeSet::new();
    for _ in 0..max_requests {
        let res = client.get(host.url("/healthz")).send().await.expect("healthz answers");
        assert!(res.status().is_success(), "healthz: {}", res.status());
        seen.insert(WorkerLabel::of(&res).expect("every response names its worker"));
        if seen.len() >= want {
            break;
        }
    }
    seen
}
