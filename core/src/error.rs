//! The crate's error: one variant per module, each with its own detailed enum.

use crate::account::ParameterError;
use crate::device::{JwsError, LinkError, SignerError};
use crate::migration::{CollectorError, MigrationError};
use crate::ocra::OcraError;
use crate::otpauth::UriError;
#[cfg(feature = "scan")]
use crate::scan::ScanError;
use crate::secret::SecretError;
use crate::transactional::TransactionalError;
use crate::transfer::ImportError;
use crate::txotp::TxotpError;
use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Parameters(#[from] ParameterError),
    #[error(transparent)]
    Uri(#[from] UriError),
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error(transparent)]
    Collector(#[from] CollectorError),
    #[error(transparent)]
    Txotp(#[from] TxotpError),
    #[error(transparent)]
    Ocra(#[from] OcraError),
    #[error(transparent)]
    Transactional(#[from] TransactionalError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[cfg(feature = "scan")]
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Signer(#[from] SignerError),
    #[error(transparent)]
    Jws(#[from] JwsError),
    #[cfg(feature = "client")]
    #[error(transparent)]
    Client(#[from] crate::device::ClientError),
}
