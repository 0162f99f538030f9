//! What stops the demo: an error of the app crate, or a step whose outcome was not the
//! expected one (the demo checks what it tells).

use countersign_app::migration::CollectorError;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Core(#[from] countersign_app::Error),
    #[error("{0}")]
    Step(String),
}

/// A step that did not go as told.
pub fn fail(what: impl std::fmt::Display) -> DemoError {
    DemoError::Step(what.to_string())
}

/// Lets `?` lift each app-crate module error into a demo error.
macro_rules! from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for DemoError {
            fn from(e: $t) -> Self {
                DemoError::Core(e.into())
            }
        }
    )*};
}

from_core!(
    CollectorError,
    countersign_app::otpauth::UriError,
    countersign_app::migration::MigrationError,
    countersign_app::txotp::TxotpError,
    countersign_app::transactional::TransactionalError,
    countersign_app::account::ParameterError,
    countersign_app::vault::VaultError,
    countersign_app::transfer::ImportError,
    countersign_app::scan::ScanError,
    countersign_app::device::ClientError,
    countersign_app::device::SignerError
);
