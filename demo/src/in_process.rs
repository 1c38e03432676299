//! The demo app served in this process, on `127.0.0.1:0`, for tests that need a running host
//! but not its worker processes.

use std::net::SocketAddr;

use tokio::sync::oneshot;

use crate::app::{AppConfig, router};

/// The demo app served on a thread of its own (one worker, a current-thread runtime) until
/// dropped.
///
/// ```
/// use std::sync::Arc;
/// use tessera_protocol::{Algorithm, KeySet};
///
/// let data = tempfile::tempdir()?;
/// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
/// let host = tessera_demo::InProcessHost::start(tessera_demo::AppConfig::new(keys, data.path())?)?;
/// assert!(host.url().starts_with("http://127.0.0.1:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct InProcessHost {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessHost {
    /// Builds the app from `config` and serves it on `127.0.0.1` with an ephemeral port.
    ///
    /// # Errors
    /// A sentence when the app cannot be built ([`router`]) or the address cannot be bound.
    pub fn start(config: AppConfig) -> Result<InProcessHost, String> {
        let app = router(config)?;
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("tessera-demo".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .map_err(|e| format!("cannot start the serving thread: {e}"))?;
        Ok(InProcessHost {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, the host's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for InProcessHost {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
