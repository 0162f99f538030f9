//! The error the apps see: few variants, each telling the app what to do. The core's rich
//! errors map onto them here; their messages never carry secrets (the core's never do).

use countersign_app::device::{ClientError, LinkError, SignerError};
use countersign_app::migration::MigrationError;
use countersign_app::otpauth::UriError;
use countersign_app::scan::ScanError;
use countersign_app::transactional::TransactionalError;
use countersign_app::transfer::{ExportError, ImportError};
use countersign_app::txotp::TxotpError;
use countersign_app::vault::{KeyProviderError, VaultError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum CountersignError {
    /// Ask again: the passphrase (or recovery code, or file password) is wrong.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The file is encrypted (or the export format always is): ask the user for its
    /// password and call again with it.
    #[error("a password is needed")]
    PasswordRequired,
    /// Unlock first.
    #[error("the vault is locked")]
    Locked,
    /// Data was tampered with or damaged: tell the user, offer the backup.
    #[error("integrity check failed: {reason}")]
    Integrity { reason: String },
    /// Show `reason` next to what the user entered or scanned.
    #[error("{reason}")]
    InvalidInput { reason: String },
    /// Offline or the server is unreachable: retry later.
    #[error("network: {reason}")]
    Network { reason: String },
    /// The server refused; `code` is the protocol's error code (e.g. `revoked_device`).
    #[error("the server refused: {code} ({reason})")]
    ServerRejected { code: String, reason: String },
    /// The request or code is no longer valid: refresh.
    #[error("expired")]
    Expired,
    /// The platform key store refused (user did not authenticate, key gone).
    #[error("the key store refused: {reason}")]
    KeyStore { reason: String },
    /// Disk full, read-only, or a file that is not a vault.
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// A bug: report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

use CountersignError as E;

fn invalid(error: impl std::fmt::Display) -> CountersignError {
    E::InvalidInput {
        reason: error.to_string(),
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CountersignError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        E::Internal {
            reason: error.reason,
        }
    }
}

impl From<VaultError> for CountersignError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::WrongPassphrase | VaultError::WrongRecoveryCode => E::WrongPassphrase,
            VaultError::Locked => E::Locked,
            VaultError::Integrity(_) | VaultError::KeyCheck => E::Integrity {
                reason: error.to_string(),
            },
            VaultError::KeyProvider(inner) => inner.into(),
            VaultError::NotFound(_)
            | VaultError::LastSlot
            | VaultError::EmptyPassphrase
            | VaultError::NoSuchSlot
            | VaultError::BadKdfParams
            | VaultError::InvalidAccount(_) => invalid(error),
            _ => E::Storage {
                reason: error.to_string(),
            },
        }
    }
}

impl From<KeyProviderError> for CountersignError {
    fn from(error: KeyProviderError) -> Self {
        E::KeyStore {
            reason: error.to_string(),
        }
    }
}

impl From<SignerError> for CountersignError {
    fn from(error: SignerError) -> Self {
        E::KeyStore {
            reason: error.to_string(),
        }
    }
}

impl From<ClientError> for CountersignError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Network(reason) => E::Network { reason },
            ClientError::Rejected { error, .. } if error == "expired" => E::Expired,
            ClientError::Rejected { error, message, .. } => E::ServerRejected {
                code: error,
                reason: message,
            },
            ClientError::Expired => E::Expired,
            ClientError::BadChallengeSignature
            | ClientError::ChallengeMismatch
            | ClientError::Undisplayable(_) => E::Integrity {
                reason: error.to_string(),
            },
            ClientError::NumberRequired(_) => invalid(error),
            ClientError::Signer(inner) => inner.into(),
            ClientError::InvalidResponse(_) => E::ServerRejected {
                code: "invalid_response".into(),
                reason: error.to_string(),
            },
            other => E::Internal {
                reason: other.to_string(),
            },
        }
    }
}

impl From<ImportError> for CountersignError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::WrongPassword => E::WrongPassphrase,
            ImportError::PasswordRequired => E::PasswordRequired,
            other => invalid(other),
        }
    }
}

impl From<ExportError> for CountersignError {
    fn from(error: ExportError) -> Self {
        match error {
            ExportError::PasswordRequired => E::PasswordRequired,
            other => invalid(other),
        }
    }
}

macro_rules! invalid_input {
    ($($t:ty),*) => {$(
        impl From<$t> for CountersignError {
            fn from(error: $t) -> Self {
                invalid(error)
            }
        }
    )*};
}

invalid_input!(
    UriError,
    MigrationError,
    TxotpError,
    TransactionalError,
    ScanError,
    LinkError,
    countersign_app::account::ParameterError
);
