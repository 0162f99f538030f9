use countersign_core::migration::CollectorError;

/// What the command line reports; the message is printed on one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] countersign_core::Error),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write output: {0}")]
    Output(#[from] serde_json::Error),
}

impl From<CollectorError> for CliError {
    fn from(e: CollectorError) -> Self {
        CliError::Core(e.into())
    }
}

/// Lets `?` lift any core module error straight into a CLI error.
macro_rules! from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                CliError::Core(e.into())
            }
        }
    )*};
}

from_core!(
    countersign_core::otpauth::UriError,
    countersign_core::migration::MigrationError,
    countersign_core::txotp::TxotpError,
    countersign_core::transactional::TransactionalError,
    countersign_core::secret::SecretError,
    countersign_core::account::ParameterError,
    countersign_core::vault::VaultError,
    countersign_core::transfer::ImportError,
    countersign_core::scan::ScanError,
    countersign_core::device::LinkError,
    countersign_core::device::ClientError,
    countersign_core::device::SignerError
);
