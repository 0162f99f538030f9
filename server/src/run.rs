//! Starting and stopping a server, and creating apps: shared by the `countersign-server`
//! binary and by programs that embed a server (the demo, `countersign-demo`, and the end-to-end tests).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ServerError;
use crate::state::AppState;
use crate::{http, jobs};

/// At shutdown, how long requests in flight may take to finish before they are cut off.
pub const REQUEST_DRAIN: Duration = Duration::from_secs(10);

/// Upper bound of [`Running::stop`]: the requests drain while the background jobs wind down,
/// then the last statistics are written (see `docs/server-api.md`, Shutdown).
pub const SHUTDOWN_BOUND: Duration =
    longer(REQUEST_DRAIN, jobs::BACKGROUND_BOUND).saturating_add(jobs::stats::FINAL_FLUSH_DEADLINE);

const fn longer(a: Duration, b: Duration) -> Duration {
    if a.as_nanos() >= b.as_nanos() { a } else { b }
}

/// A server answering on a listener, with its background jobs.
pub struct Running {
    pub address: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    jobs: jobs::Jobs,
}

/// Serves the API on `listener` until [`Running::stop`].
pub fn start(state: AppState, listener: tokio::net::TcpListener) -> Result<Running, ServerError> {
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let jobs = jobs::Jobs::start(&state);
    let mut shutdown = stopped;
    let server = tokio::spawn(async move {
        axum::serve(listener, http::router(state))
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(Running {
        address,
        stop,
        server,
        jobs,
    })
}

impl Running {
    /// Stops accepting requests and taking background work; lets requests in flight finish
    /// (within [`REQUEST_DRAIN`]) while callback deliveries get their grace and hand back what
    /// is unfinished; then writes the last statistics. Returns within [`SHUTDOWN_BOUND`].
    pub async fn stop(self) -> Result<(), ServerError> {
        let _ = self.stop.send(true);
        self.jobs.begin_shutdown();
        let mut server = self.server;
        let served = match tokio::time::timeout(REQUEST_DRAIN, &mut server).await {
            Ok(served) => served,
            Err(_) => {
                tracing::warn!("requests still running at the shutdown deadline were cut off");
                server.abort();
                Ok(Ok(()))
            }
        };
        self.jobs.finish().await;
        match served {
            Ok(result) => Ok(result?),
            Err(e) => Err(ServerError::Config(format!("the server task failed: {e}"))),
        }
    }
}

/// Creates an app; returns its id and API key (shown once: only its hash and a sealed copy
/// are stored). Here for the programs that embed a server.
pub use crate::service::apps::create as create_app;

/// Builds the shared state from a configuration.
pub async fn state(config: &crate::config::FileConfig) -> Result<AppState, ServerError> {
    Ok(Arc::new(config.build().await?))
}
