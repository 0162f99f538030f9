//! HTTPS: the rustls configuration read from PEM files, and a listener that hands axum
//! connections whose TLS handshake is complete. Handshakes run in their own tasks with a
//! deadline, so a client that connects and says nothing holds up no one else.
//!
//! The crypto provider is aws-lc-rs: the server already builds it (sealing, signatures) and
//! reqwest's rustls uses it, so HTTPS adds no second crypto library to the build.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::error::ServerError;

/// Longest a client may take to complete its TLS handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; further connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 1024;
/// Handshaken connections waiting for the HTTP server to take them.
const READY_QUEUE: usize = 128;
/// Largest certificate or key file read (a chain is a few kilobytes).
const MAX_PEM_FILE: u64 = 1024 * 1024;

/// The server's TLS configuration: TLS 1.3 and 1.2, ALPN `h2` then `http/1.1`, the
/// certificate chain of `cert` (PEM, leaf first) and the private key of `key` (PEM).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let chain = certificates(cert)?;
    let private_key = private_key(key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ServerError::Config(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            ServerError::Config(format!(
                "the TLS key {} cannot serve the certificate {}: {e}",
                key.display(),
                cert.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>, ServerError> {
    let cannot = |e: std::io::Error| {
        ServerError::Config(format!(
            "cannot read the TLS {what} {}: {e}",
            path.display()
        ))
    };
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size > MAX_PEM_FILE {
        return Err(ServerError::Config(format!(
            "the TLS {what} {} is larger than {MAX_PEM_FILE} bytes",
            path.display()
        )));
    }
    std::fs::read(path).map_err(cannot)
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let pem = read_pem(path, "certificate")?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ServerError::Config(format!(
                "the TLS certificate {} is not valid PEM: {e}",
                path.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(ServerError::Config(format!(
            "the TLS certificate {} holds no PEM certificate (BEGIN CERTIFICATE)",
            path.display()
        )));
    }
    Ok(chain)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, ServerError> {
    let pem = zeroize::Zeroizing::new(read_pem(path, "key")?);
    // The parser's own error names no key material; it is not shown anyway.
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        ServerError::Config(format!(
            "the TLS key {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
            path.display()
        ))
    })
}

/// A listener whose connections have completed their TLS handshake.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: tokio::task::AbortHandle,
}

impl TlsListener {
    /// Starts accepting on `tcp`; handshakes begin at once, in the background.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (sender, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), sender));
        Ok(TlsListener {
            local,
            ready,
            acceptor: acceptor.abort_handle(),
        })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(tls)) => {
                    drop(permit);
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Graceful shutdown drops the listener: stop taking connections at once.
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for crate::http::extract::PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        crate::http::extract::PeerAddr(*stream.remote_addr())
    }
}
