//! Starting and stopping a server, and creating apps: shared by the `countersign-server`
//! binary and by programs that embed a server (the demo, `countersign-demo`, and the end-to-end tests).
//! Also where the transport is chosen: HTTPS, or plain HTTP on loopback or behind a proxy.

mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use tokio::sync::watch;

use crate::config::FileConfig;
use crate::error::ServerError;
use crate::http::extract::PeerAddr;
use crate::state::AppState;
use crate::{http, jobs};

pub use self::tls::TlsListener;

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

/// How the server speaks to its clients.
#[derive(Clone)]
pub enum Transport {
    /// Plain HTTP: on loopback, or behind a reverse proxy that terminates TLS.
    Plain,
    /// HTTPS with this configuration (see `tls::server_config`).
    Tls(Arc<rustls::ServerConfig>),
}

/// The transport for a server bound to `bound`: HTTPS when a certificate and key are
/// configured (read now, so a bad file stops the start); else plain HTTP, which is allowed
/// only on a loopback address or when the operator states a reverse proxy terminates TLS.
pub fn transport(config: &FileConfig, bound: SocketAddr) -> Result<Transport, ServerError> {
    if let Some((cert, key)) = config.tls_files()? {
        return Ok(Transport::Tls(tls::server_config(cert, key)?));
    }
    if bound.ip().to_canonical().is_loopback() {
        tracing::info!(
            address = %bound,
            "serving plain HTTP, on a loopback address only; give --tls-cert and --tls-key to serve HTTPS"
        );
        return Ok(Transport::Plain);
    }
    if config.behind_proxy() {
        tracing::warn!(
            address = %bound,
            "serving plain HTTP: a reverse proxy is expected to terminate TLS in front of this server"
        );
        return Ok(Transport::Plain);
    }
    Err(ServerError::Config(format!(
        "refusing to serve plain HTTP on {bound}, which is not a loopback address: give --tls-cert and --tls-key to serve HTTPS, or --behind-proxy (or trusted_proxies) if a reverse proxy terminates TLS in front of this server"
    )))
}

/// Serves the API over plain HTTP on `listener` until [`Running::stop`].
pub fn start(state: AppState, listener: tokio::net::TcpListener) -> Result<Running, ServerError> {
    start_with(state, listener, Transport::Plain)
}

/// Serves the API on `listener` with `transport` until [`Running::stop`].
pub fn start_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    transport: Transport,
) -> Result<Running, ServerError> {
    let address = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let jobs = jobs::Jobs::start(&state);
    let server = match transport {
        Transport::Plain => serve(listener, state, stopped),
        Transport::Tls(config) => serve(TlsListener::new(listener, config)?, state, stopped),
    };
    Ok(Running {
        address,
        stop,
        server,
        jobs,
    })
}

/// Serves the router, with each request's client address recorded, until `stopped`.
fn serve<L>(
    listener: L,
    state: AppState,
    mut stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<std::io::Result<()>>
where
    L: Listener<Addr = SocketAddr>,
    PeerAddr: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let app = http::router(state.clone()).layer(axum::middleware::from_fn_with_state(
        state,
        http::extract::record_client,
    ));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<PeerAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .await
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
