//! The demo plugin host's app, served in this process on 127.0.0.1 with an ephemeral port.

use std::path::PathBuf;
use std::sync::Arc;

use tessera_demo::{AppConfig, InProcessHost};
use tessera_protocol::KeySet;

/// The plugin the demo host serves.
pub(crate) const PLUGIN: &str = "stock-tools";
/// Its actions.
pub(crate) const TRANSFER: &str = "plugin:stock-tools/action:transfer";
pub(crate) const PRINT_LABEL: &str = "plugin:stock-tools/action:print-label";

/// A running demo host; stopped when dropped.
pub(crate) struct Host {
    /// `http://127.0.0.1:PORT`
    pub(crate) url: String,
    /// The key file the host uses (made with `tessera keygen`).
    pub(crate) keys: PathBuf,
    _host: InProcessHost,
    _dir: tempfile::TempDir,
}

impl Host {
    /// Starts the host with a fresh HS256 key file (made by `tessera keygen`) and a data folder
    /// of its own, on the command line's defaults.
    pub(crate) fn start() -> Host {
        Host::start_with(|config| config)
    }

    /// [`Host::start`], with `options` applied to the app's configuration.
    pub(crate) fn start_with(options: impl FnOnce(AppConfig) -> AppConfig) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let (keys, _) = crate::util::keygen(dir.path(), "keys.json", "hs256");
        let key_set = Arc::new(KeySet::from_file(&keys).unwrap());
        let config = options(AppConfig::new(key_set, &dir.path().join("data")).unwrap());
        let host = InProcessHost::start(config).unwrap();
        Host {
            url: host.url().to_owned(),
            keys,
            _host: host,
            _dir: dir,
        }
    }
}
