//! Starting and stopping a server, and creating apps: shared by the `countersign-server`
//! binary and by programs that embed a server (the `countersign demo`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;

use crate::error::ServerError;
use crate::state::{self, AppState, Inner};
use crate::{api, jobs};

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
        axum::serve(listener, api::router(state))
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
/// are stored).
pub async fn create_app(
    inner: &Inner,
    name: &str,
    token_length: u32,
    callback_url: Option<String>,
    callback_method: &str,
) -> Result<(i64, String), ServerError> {
    if !(6..=10).contains(&token_length) {
        return Err(ServerError::Config("token length must be 6 to 10".into()));
    }
    if name.trim().is_empty() {
        return Err(ServerError::Config("the app name must not be empty".into()));
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let api_key: String = (0..32)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect();
    let mut tx = inner.db.writer.begin().await?;
    let row = sqlx::query("INSERT INTO apps (name, api_key_hash, api_key_sealed, token_length, callback_url, callback_method, created_at) VALUES ($1, $2, '', $3, $4, $5, $6) RETURNING id")
        .bind(name.trim())
        .bind(state::hash_api_key(&api_key))
        .bind(i64::from(token_length))
        .bind(callback_url)
        .bind(callback_method)
        .bind(state::now())
        .fetch_one(&mut *tx)
        .await?;
    let id: i64 = row.get(0);
    // Kept sealed (not only hashed): callbacks are signed with the key itself.
    sqlx::query("UPDATE apps SET api_key_sealed = $1 WHERE id = $2")
        .bind(
            inner
                .master
                .seal(&format!("apps.api_key:{id}"), api_key.as_bytes()),
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, api_key))
}

/// Builds the shared state from a configuration.
pub async fn state(config: &crate::config::FileConfig) -> Result<AppState, ServerError> {
    Ok(Arc::new(config.build().await?))
}
