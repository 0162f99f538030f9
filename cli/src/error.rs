use countersign_app::migration::CollectorError;

/// What the command line reports; the message is printed on one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] countersign_app::Error),
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
    countersign_app::otpauth::UriError,
    countersign_app::migration::MigrationError,
    countersign_app::txotp::TxotpError,
    countersign_app::transactional::TransactionalError,
    countersign_app::secret::SecretError,
    countersign_app::account::ParameterError,
    countersign_app::vault::VaultError,
    countersign_app::transfer::ImportError,
    countersign_app::scan::ScanError,
    countersign_app::device::LinkError,
    countersign_app::device::ClientError,
    countersign_app::device::SignerError
);
