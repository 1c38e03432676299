//! The shared stock ledger: the stock levels of one part, in small JSON files that every
//! worker process reads and changes, so that single-use and stale-state clicks act on one
//! state whichever worker handles them.
//!
//! Each version of the ledger is its own file, `stock-ledger/vN.json`, never changed once
//! written; the current ledger is the highest N (no file at all means the initial stock,
//! version 1). A change is a compare-and-swap on the version, without locks: read version N,
//! let the action check it (e.g. the button's fingerprint) and change a copy, write the copy
//! to a temporary file and sync it, then claim `v(N+1).json` by hard-linking the temporary
//! file to that name, which the kernel does atomically and only if the name is free. If
//! another worker claimed N+1 first, the change starts over from the newer version (so a
//! fingerprint check sees the change and refuses). Readers see only complete files. A killed
//! worker leaves at most a temporary file behind, never a half-written version or a held
//! lock. Old versions are deleted, keeping the last [`KEEP`].

use std::collections::BTreeMap;
use std::fs::{DirBuilder, File};
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tessera_protocol::file::{self, Durability, FileError};
use tessera_server::{PROBLEM_JSON, PROBLEM_TYPE_BASE, Rejection};

/// The ledger's folder inside the data folder.
pub(crate) const LEDGER_DIR: &str = "stock-ledger";
/// How many recent versions are kept (older ones are deleted).
pub(crate) const KEEP: u64 = 16;
/// The longest a change keeps retrying against concurrent changes.
pub(crate) const CHANGE_WAIT: Duration = Duration::from_secs(5);
/// How many times a read retries when the version it found was just deleted.
const READ_ATTEMPTS: usize = 20;
/// The largest version file read (it is a few hundred bytes).
const MAX_FILE: u64 = 64 * 1024;
/// The code of a refusal because the ledger could not be read or written.
pub(crate) const LEDGER_UNAVAILABLE: &str = "ledger_unavailable";

/// The source location of the ledger's part.
pub(crate) const SHELF: &str = "A1-07";
/// The destination location of the ledger's part.
pub(crate) const BIN: &str = "B2-11";

/// The file in the data folder that names it: a random id, made when the folder is first
/// used and kept as long as the folder (and so its ledger and its replay records) is.
pub(crate) const INSTANCE_FILE: &str = "demo-instance";
/// The bytes of randomness in an instance id (written as hex).
const INSTANCE_BYTES: usize = 16;

/// The stock of one part at its locations, and the version of this state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ledger {
    /// The data folder's instance id (not stored in the version files: the folder's own).
    #[serde(skip)]
    pub(crate) instance: String,
    /// Bumped by every change; the button fingerprint is made from it.
    pub(crate) version: u64,
    pub(crate) part_id: u32,
    pub(crate) part_name: String,
    /// Quantity on hand per location.
    pub(crate) stock: BTreeMap<String, u32>,
}

impl Ledger {
    /// The stock before any change (what a missing file means), in the data folder `instance`.
    pub(crate) fn initial(instance: &str) -> Ledger {
        Ledger {
            instance: instance.to_owned(),
            version: 1,
            part_id: 4321,
            part_name: "M4 brass insert".to_owned(),
            stock: BTreeMap::from([(SHELF.to_owned(), 200), (BIN.to_owned(), 40)]),
        }
    }

    /// The fingerprint of this state, bound into stale-checked buttons:
    /// `ledger:INSTANCE:PART:vN`. The instance keeps version N of one ledger from matching
    /// version N of another (a new temporary data folder counts from v1 again).
    pub(crate) fn fingerprint(&self) -> String {
        format!(
            "ledger:{}:{}:v{}",
            self.instance, self.part_id, self.version
        )
    }

    /// The fingerprint of this ledger whatever its version, bound into single-use buttons:
    /// `ledger:INSTANCE`. Their use is recorded beside this ledger; a button from another data
    /// folder (an earlier temporary one, gone with its records) would find no record of its
    /// use, so it is refused as stale rather than run again.
    pub(crate) fn binding(&self) -> String {
        format!("ledger:{}", self.instance)
    }

    /// The quantity at `location` (0 when the location is unknown).
    pub(crate) fn at(&self, location: &str) -> u32 {
        self.stock.get(location).copied().unwrap_or(0)
    }

    /// Moves `qty` from `from` to `to`; refuses (without changing anything) when `from` holds
    /// less.
    pub(crate) fn move_stock(&mut self, from: &str, to: &str, qty: u32) -> Result<(), Rejection> {
        let available = self.at(from);
        if qty == 0 || qty > available {
            return Err(Rejection::bad_input(format!(
                "qty must be 1 to {available} (the quantity at {from} now)"
            )));
        }
        let target = self.at(to).checked_add(qty).ok_or_else(|| {
            Rejection::bad_input(format!("{to} cannot hold that many more units"))
        })?;
        self.stock.insert(from.to_owned(), available - qty);
        self.stock.insert(to.to_owned(), target);
        Ok(())
    }
}

/// The ledger's folder in one data folder.
#[derive(Debug)]
pub(crate) struct LedgerStore {
    dir: PathBuf,
    /// The data folder's instance id ([`INSTANCE_FILE`]).
    instance: String,
}

impl LedgerStore {
    /// The ledger in `data_dir`/stock-ledger (created on the first change), of the data
    /// folder whose instance id is `instance`.
    pub(crate) fn new(data_dir: &Path, instance: &str) -> LedgerStore {
        LedgerStore {
            dir: data_dir.join(LEDGER_DIR),
            instance: instance.to_owned(),
        }
    }

    /// The ledger of `data_dir`, whose instance file the supervisor made
    /// ([`DataDir::ensure_instance`]).
    pub(crate) fn open(data_dir: &Path) -> Result<LedgerStore, String> {
        Ok(LedgerStore::new(data_dir, &read_instance(data_dir)?))
    }

    /// [`Ledger::binding`] of this store's ledger.
    pub(crate) fn binding(&self) -> String {
        Ledger::initial(&self.instance).binding()
    }

    fn version_path(&self, version: u64) -> PathBuf {
        self.dir.join(format!("v{version}.json"))
    }

    /// The highest version on disk (1, the initial stock, when there is none).
    fn latest_version(&self) -> Result<u64, LedgerError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(1),
            Err(e) => return Err(LedgerError::io("cannot list", &self.dir, &e)),
        };
        let mut latest = 1;
        for entry in entries {
            let entry = entry.map_err(|e| LedgerError::io("cannot list", &self.dir, &e))?;
            let name = entry.file_name();
            let version = name
                .to_str()
                .and_then(|n| n.strip_prefix('v'))
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(version) = version {
                latest = latest.max(version);
            }
        }
        Ok(latest)
    }

    /// The current ledger: the highest version, or the initial stock when there is none.
    pub(crate) fn read(&self) -> Result<Ledger, LedgerError> {
        for _ in 0..READ_ATTEMPTS {
            let version = self.latest_version()?;
            if version == 1 {
                return Ok(Ledger::initial(&self.instance));
            }
            let path = self.version_path(version);
            let file = match File::open(&path) {
                Ok(file) => file,
                // Deleted as old between the listing and the open: list again.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(LedgerError::io("cannot open", &path, &e)),
            };
            let len = file
                .metadata()
                .map_err(|e| LedgerError::io("cannot stat", &path, &e))?
                .len();
            if len > MAX_FILE {
                return Err(LedgerError::corrupt(&path, "the file is too large"));
            }
            let mut ledger: Ledger = serde_json::from_reader(std::io::BufReader::new(file))
                .map_err(|_| LedgerError::corrupt(&path, "the file is not a ledger"))?;
            ledger.instance.clone_from(&self.instance);
            if ledger.version != version {
                return Err(LedgerError::corrupt(&path, "its version is not its name"));
            }
            return Ok(ledger);
        }
        Err(LedgerError::busy(&self.dir))
    }

    /// Changes the ledger: `change` sees the current ledger and either changes it (written as
    /// the next version) or refuses (nothing is written). When another process wrote the next
    /// version first, `change` runs again on the newer ledger. Returns the ledger before and
    /// after the change, and what `change` returned.
    pub(crate) fn update<T>(
        &self,
        mut change: impl FnMut(&mut Ledger) -> Result<T, Rejection>,
    ) -> Result<Change<T>, PluginError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| LedgerError::io("cannot create", &self.dir, &e))?;
        let deadline = Instant::now() + CHANGE_WAIT;
        while Instant::now() < deadline {
            let before = self.read()?;
            let mut after = before.clone();
            let value = change(&mut after)?;
            after.version = before.version.checked_add(1).ok_or_else(|| {
                LedgerError::corrupt(&self.dir, "the version counter is exhausted")
            })?;
            if self.claim(&after)? {
                if after.version > KEEP {
                    let _ = std::fs::remove_file(self.version_path(after.version - KEEP));
                }
                return Ok(Change {
                    before,
                    after,
                    value,
                });
            }
        }
        Err(LedgerError::busy(&self.dir).into())
    }

    /// Writes `ledger` as its version if that version is still free: true if it is now the
    /// current ledger, false if another change claimed the version first.
    fn claim(&self, ledger: &Ledger) -> Result<bool, LedgerError> {
        let mut text = serde_json::to_vec_pretty(ledger)
            .map_err(|_| LedgerError::corrupt(&self.dir, "the ledger does not serialize"))?;
        text.push(b'\n');
        let target = self.version_path(ledger.version);
        // The compare-and-swap: the file is written whole and synced under a temporary name,
        // then linked to its version's name, which link(2) creates only if it does not exist.
        let created = file::create_whole(&target, &text, Durability::Content)
            .map_err(|e| LedgerError::file(&e))?;
        if !created {
            return Ok(false);
        }
        // The name was free. That is a stale claim if the name had been deleted as old while
        // this change was being prepared: versions are deleted only once KEEP newer ones
        // exist, so a stale claim always sees `latest >= version + KEEP`, and then it is void.
        // A fresh claim sees its own version, or a few newer ones if other workers already
        // built on it (comparing with `>` here voided those valid claims, so their change ran
        // twice); it would take KEEP changes landing between the link above and the listing
        // below to mistake one for stale.
        if self.latest_version()? >= ledger.version.saturating_add(KEEP) {
            let _ = std::fs::remove_file(&target);
            return Ok(false);
        }
        Ok(true)
    }
}

/// A change applied to the ledger.
#[derive(Debug)]
pub(crate) struct Change<T> {
    pub(crate) before: Ledger,
    pub(crate) after: Ledger,
    pub(crate) value: T,
}

/// Reads the ledger off the async runtime.
pub(crate) async fn read(store: &Arc<LedgerStore>) -> Result<Ledger, LedgerError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.read())
        .await
        .unwrap_or_else(|_| Err(LedgerError::task()))
}

/// [`LedgerStore::update`] off the async runtime (it may wait for the lock).
pub(crate) async fn update<T, F>(
    store: &Arc<LedgerStore>,
    change: F,
) -> Result<Change<T>, PluginError>
where
    T: Send + 'static,
    F: FnMut(&mut Ledger) -> Result<T, Rejection> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.update(change))
        .await
        .unwrap_or_else(|_| Err(PluginError::Ledger(LedgerError::task())))
}

/// The ledger could not be read or written: 503 `ledger_unavailable`. The log line names the
/// file and the system error; the response says only what happened.
#[derive(Debug)]
pub(crate) struct LedgerError {
    log: String,
    detail: &'static str,
}

impl LedgerError {
    fn io(what: &str, path: &Path, e: &std::io::Error) -> LedgerError {
        LedgerError {
            log: format!("{what} {}: {e}", path.display()),
            detail: "the shared stock ledger could not be read or written",
        }
    }

    fn file(e: &FileError) -> LedgerError {
        LedgerError {
            log: e.to_string(),
            detail: "the shared stock ledger could not be read or written",
        }
    }

    fn corrupt(path: &Path, why: &str) -> LedgerError {
        LedgerError {
            log: format!("{}: {why}", path.display()),
            detail: "the shared stock ledger is damaged; remove the file to start over",
        }
    }

    fn busy(dir: &Path) -> LedgerError {
        LedgerError {
            log: format!(
                "{}: concurrent changes kept winning for {CHANGE_WAIT:?}",
                dir.display()
            ),
            detail: "the shared stock ledger is busy; try again",
        }
    }

    fn task() -> LedgerError {
        LedgerError {
            log: "the ledger task failed".to_owned(),
            detail: "the shared stock ledger could not be read or written",
        }
    }
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.log)
    }
}

impl IntoResponse for LedgerError {
    fn into_response(self) -> Response {
        tracing::error!(code = LEDGER_UNAVAILABLE, "{}", self.log);
        let body = json!({
            "type": format!("{PROBLEM_TYPE_BASE}{LEDGER_UNAVAILABLE}"),
            "title": "Shared stock ledger unavailable",
            "status": 503,
            "detail": self.detail,
            "code": LEDGER_UNAVAILABLE,
        });
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// A refusal of a plugin handler: the library's [`Rejection`], or the ledger's own error.
#[derive(Debug)]
pub(crate) enum PluginError {
    Rejection(Rejection),
    Ledger(LedgerError),
}

impl From<Rejection> for PluginError {
    fn from(r: Rejection) -> PluginError {
        PluginError::Rejection(r)
    }
}

impl From<LedgerError> for PluginError {
    fn from(e: LedgerError) -> PluginError {
        PluginError::Ledger(e)
    }
}

impl IntoResponse for PluginError {
    fn into_response(self) -> Response {
        match self {
            PluginError::Rejection(r) => r.into_response(),
            PluginError::Ledger(e) => e.into_response(),
        }
    }
}

/// Where the ledger lives for this run: a folder given or derived from the key file, or a
/// private temporary folder (inline keys) that the supervisor removes when it stops.
#[derive(Debug)]
pub(crate) struct DataDir {
    path: PathBuf,
    temporary: bool,
}

impl DataDir {
    /// `given` (created with mode 0700 when missing), else the key file's folder, else (inline
    /// keys) a new private folder under the system's temporary folder.
    pub(crate) fn resolve(
        given: Option<&Path>,
        key_file: Option<&Path>,
    ) -> Result<DataDir, String> {
        if let Some(dir) = given {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("cannot create data folder {}: {e}", dir.display()))?;
            return Ok(DataDir {
                path: dir.to_owned(),
                temporary: false,
            });
        }
        if let Some(file) = key_file {
            let dir = match file.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
                _ => PathBuf::from("."),
            };
            return Ok(DataDir {
                path: dir,
                temporary: false,
            });
        }
        let base = std::env::temp_dir();
        for _ in 0..100u32 {
            // A random name: another user cannot take the names in advance to stop the host
            // (and a folder this process did not create is never used: `create`, not
            // `create_all`, refuses one that exists).
            let suffix = random_hex::<8>("data folder name")?;
            let dir = base.join(format!("tessera-demo-{}-{suffix}", std::process::id()));
            match DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    return Ok(DataDir {
                        path: dir,
                        temporary: true,
                    });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(format!(
                        "cannot create a data folder in {}: {e}",
                        base.display()
                    ));
                }
            }
        }
        Err(format!(
            "cannot create a data folder in {}: every name is taken",
            base.display()
        ))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Refuses a data folder someone else could have written in — the folder, its
    /// replay records', ledger's and metrics' folders, and every file in them — by the key
    /// file's rule ([`check_trusted`](tessera_protocol::file::check_trusted)): another local user
    /// who could delete a replay record would make a used single-use button run again, and one
    /// who could plant a ledger version would choose the stock.
    pub(crate) fn check_trusted(&self) -> Result<(), String> {
        use tessera_protocol::file::check_trusted;
        let refused = |e: tessera_protocol::file::FileError| {
            format!(
                "the data folder {}: {e}; use a folder (and files) of your own that others \
                 cannot write to",
                self.path.display()
            )
        };
        check_trusted(&self.path).map_err(refused)?;
        for folder in [
            self.path.join(crate::cli::REPLAY_DIR),
            self.path.join(LEDGER_DIR),
            self.path.join(crate::metrics::METRICS_DIR),
        ] {
            let entries = match std::fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", folder.display())),
            };
            check_trusted(&folder).map_err(refused)?;
            for entry in entries {
                let entry = entry.map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
                check_trusted(entry.path()).map_err(refused)?;
            }
        }
        let instance = self.path.join(INSTANCE_FILE);
        if instance.exists() {
            check_trusted(&instance).map_err(refused)?;
        }
        Ok(())
    }

    /// The folder's instance id: read from its [`INSTANCE_FILE`], which is made (a fresh
    /// random id, written whole in one step) when the folder has none. The supervisor calls
    /// this before any worker starts; workers read the file ([`LedgerStore::open`]).
    pub(crate) fn ensure_instance(&self) -> Result<String, String> {
        let path = self.path.join(INSTANCE_FILE);
        if !path.exists() {
            let id = random_hex::<INSTANCE_BYTES>("data folder id")?;
            file::create_whole(
                &path,
                format!("{id}\n").as_bytes(),
                Durability::ContentAndFolderIfPossible,
            )
            .map_err(|e| format!("data folder id: {e}"))?;
        }
        read_instance(&self.path)
    }
}

/// `N` random bytes as lowercase hex, for a random `what`.
pub(crate) fn random_hex<const N: usize>(what: &str) -> Result<String, String> {
    let mut bytes = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| format!("cannot draw a random {what}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The instance id in `data_dir`'s [`INSTANCE_FILE`].
fn read_instance(data_dir: &Path) -> Result<String, String> {
    let path = data_dir.join(INSTANCE_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the data folder id {}: {e}", path.display()))?;
    let id = text.trim_end_matches('\n');
    if id.len() != 2 * INSTANCE_BYTES || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "the data folder id {} is damaged (expected {} hex digits); remove the file to \
             start a new ledger (buttons rendered before are then refused as stale)",
            path.display(),
            2 * INSTANCE_BYTES
        ));
    }
    Ok(id.to_owned())
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(store: &LedgerStore) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&store.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn no_file_is_the_initial_ledger_and_changes_bump_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = LedgerStore::new(dir.path(), "test");
        assert_eq!(store.read().unwrap(), Ledger::initial("test"));
        let change = store
            .update(|l| l.move_stock(SHELF, BIN, 5).map(|()| "moved"))
            .unwrap();
        assert_eq!(change.value, "moved");
        assert_eq!(change.before.version + 1, change.after.version);
        let now = store.read().unwrap();
        assert_eq!(now, change.after);
        assert_eq!(now.at(SHELF), 195);
        assert_eq!(now.at(BIN), 45);
        assert_ne!(change.before.fingerprint(), now.fingerprint());
        assert_eq!(files(&store), ["v2.json"], "no temporary file left");
    }

    #[test]
    fn a_refused_change_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LedgerStore::new(dir.path(), "test");
        let err = store.update(|l| l.move_stock(SHELF, BIN, 201)).unwrap_err();
        assert!(matches!(err, PluginError::Rejection(_)));
        assert!(files(&store).is_empty());
        assert_eq!(store.read().unwrap(), Ledger::initial("test"));
    }

    #[test]
    fn a_change_that_loses_the_race_runs_again_on_the_newer_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let store = LedgerStore::new(dir.path(), "test");
        let other = LedgerStore::new(dir.path(), "test");
        let mut runs = Vec::new();
        let change = store
            .update(|l| {
                runs.push(l.version);
                if runs.len() == 1 {
                    // Another worker changes the ledger while this change is prepared.
                    other.update(|o| o.move_stock(SHELF, BIN, 1)).unwrap();
                }
                Ok(l.fingerprint())
            })
            .unwrap();
        assert_eq!(
            runs,
            [1, 2],
            "the change saw version 1, lost, and re-ran on 2"
        );
        assert_eq!(change.value, "ledger:test:4321:v2");
        assert_eq!(store.read().unwrap().version, 3);
    }

    #[test]
    fn a_claim_on_a_version_deleted_as_old_is_void() {
        let dir = tempfile::tempdir().unwrap();
        let store = LedgerStore::new(dir.path(), "test");
        for _ in 0..20 {
            store.update(|l| l.move_stock(SHELF, BIN, 1)).unwrap();
        }
        let current = store.read().unwrap();
        assert_eq!(current.version, 21);
        assert!(!store.version_path(3).exists(), "v3 was deleted as old");
        // A slow change prepared from version 2 finds the name v3 free again: void.
        let mut slow = Ledger::initial("test");
        slow.version = 3;
        assert!(!store.claim(&slow).unwrap());
        assert!(!store.version_path(3).exists());
        assert_eq!(store.read().unwrap(), current);
        // The next version is claimed once.
        let mut next = current;
        next.version = 22;
        assert!(store.claim(&next).unwrap());
        assert!(!store.claim(&next).unwrap(), "taken");
    }

    #[test]
    fn concurrent_writers_from_many_threads_lose_no_update() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = LedgerStore::new(dir.path(), "test");
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        store.update(|l| l.move_stock(SHELF, BIN, 1)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = LedgerStore::new(dir.path(), "test");
        let ledger = store.read().unwrap();
        assert_eq!(ledger.version, 81);
        assert_eq!(ledger.at(SHELF), 120);
        assert_eq!(ledger.at(BIN), 120);
        assert_eq!(files(&store).len() as u64, KEEP, "old versions are deleted");
    }

    #[test]
    fn a_damaged_version_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let store = LedgerStore::new(dir.path(), "test");
        std::fs::create_dir(&store.dir).unwrap();
        std::fs::write(store.dir.join("v7.json"), "{\"version\":").unwrap();
        assert!(store.read().is_err());
        assert!(store.update(|l| l.move_stock(SHELF, BIN, 1)).is_err());
    }

    #[test]
    fn a_data_folder_gets_one_id_kept_with_it_and_a_new_folder_a_new_one() {
        let base = tempfile::tempdir().unwrap();
        let dir = DataDir::resolve(Some(&base.path().join("data")), None).unwrap();
        let id = dir.ensure_instance().unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(dir.ensure_instance().unwrap(), id, "made once, then read");
        let store = LedgerStore::open(dir.path()).unwrap();
        assert_eq!(
            store.read().unwrap().fingerprint(),
            format!("ledger:{id}:4321:v1")
        );
        assert_eq!(store.binding(), format!("ledger:{id}"));
        // Another folder (a new temporary one): another id, so other fingerprints at v1.
        let other = DataDir::resolve(None, None).unwrap();
        assert_ne!(other.ensure_instance().unwrap(), id);
        // A damaged id stops the start with a clear message, never a silent new ledger.
        std::fs::write(dir.path().join(INSTANCE_FILE), "not an id\n").unwrap();
        let err = dir.ensure_instance().unwrap_err();
        assert!(
            err.contains("damaged") && err.contains(INSTANCE_FILE),
            "{err}"
        );
        assert!(LedgerStore::open(dir.path()).is_err());
    }

    #[test]
    fn a_temporary_data_dir_is_removed_and_a_given_one_kept() {
        let temp = DataDir::resolve(None, None).unwrap();
        let path = temp.path().to_owned();
        assert!(path.is_dir());
        // Its name ends in 64 random bits: no other user can take it in advance.
        let other = DataDir::resolve(None, None).unwrap();
        for dir in [&temp, &other] {
            let name = dir.path().file_name().unwrap().to_str().unwrap().to_owned();
            let suffix = name.rsplit('-').next().unwrap();
            assert!(
                suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}"
            );
        }
        assert_ne!(temp.path(), other.path());
        drop(other);
        drop(temp);
        assert!(!path.exists());

        let base = tempfile::tempdir().unwrap();
        let given = base.path().join("data");
        let dir = DataDir::resolve(Some(&given), None).unwrap();
        drop(dir);
        assert!(given.is_dir());

        let from_keys = DataDir::resolve(None, Some(&base.path().join("keys.json"))).unwrap();
        assert_eq!(from_keys.path(), base.path());
    }
}
