use super::slots::KeyProviderError;

/// Which record an integrity failure concerns, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    #[error("record {id} failed authentication (altered, moved or from another vault)")]
    Record { id: String },
    #[error("record {id} is an older version than the vault last wrote (rolled back)")]
    RolledBack { id: String },
    #[error("record {id} is missing")]
    Missing { id: String },
    #[error("record {id} is not part of this vault")]
    Unexpected { id: String },
    #[error("the vault's record list failed authentication")]
    Manifest,
}

impl IntegrityError {
    /// The record concerned, if any.
    pub fn record_id(&self) -> Option<&str> {
        match self {
            IntegrityError::Record { id }
            | IntegrityError::RolledBack { id }
            | IntegrityError::Missing { id }
            | IntegrityError::Unexpected { id } => Some(id),
            IntegrityError::Manifest => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("wrong recovery code")]
    WrongRecoveryCode,
    #[error("no key slot of that kind can unlock this vault")]
    NoSuchSlot,
    #[error("the vault is locked")]
    Locked,
    #[error("no account with id {0}")]
    NotFound(String),
    #[error("the last key slot cannot be removed: the vault would be unrecoverable")]
    LastSlot,
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    #[error("the vault's key check failed: the file is damaged or not a Countersign vault")]
    KeyCheck,
    #[error("this file is not a Countersign vault")]
    NotAVault,
    /// Nothing at the path: create a vault there first (distinct from [`Self::NotAVault`],
    /// a file that exists but is something else).
    #[error("there is no vault at this path")]
    Missing,
    #[error("the vault was written by a newer version (schema {0})")]
    TooNew(i64),
    #[error("the disk is full; nothing was changed")]
    DiskFull,
    #[error("the vault file is read-only; nothing was changed")]
    ReadOnly,
    #[error(transparent)]
    KeyProvider(#[from] KeyProviderError),
    #[error("the key derivation parameters are outside the accepted range")]
    BadKdfParams,
    #[error("invalid account: {0}")]
    InvalidAccount(String),
    #[error("storage error: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => VaultError::DiskFull,
            Some(ErrorCode::ReadOnly) => VaultError::ReadOnly,
            Some(ErrorCode::NotADatabase) => VaultError::NotAVault,
            // SQLite's messages name tables and columns, never contents.
            _ => VaultError::Storage(e.to_string()),
        }
    }
}
