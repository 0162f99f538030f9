//! What the registries hold: a provider is a name and a constructor from its own config
//! table. The constructor gets what every provider may need ([`Context`]) and parses its
//! table with its own `serde` struct ([`parse_table`]), so the config knows no provider.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::notifier::Pusher;
use super::sender::Sender;
use crate::seal::MasterKey;
use crate::store::db::Db;

/// Shared by every provider a server builds.
#[derive(Clone)]
pub struct Context {
    /// One HTTP client (connection pools, TLS roots) with an overall 8 s timeout.
    pub http: reqwest::Client,
    pub db: Db,
    pub master: MasterKey,
}

/// A provider's config table (`[sms.twilio]`, `[push.webhook]`, …).
pub type Table = toml::Table;

/// Builds an SMS provider from its table.
pub type BuildSender = fn(&Table, &Context) -> Result<Arc<dyn Sender>, DeliveryError>;
/// Builds a push provider from its table.
pub type BuildPusher = fn(&Table, &Context) -> Result<Box<dyn Pusher>, DeliveryError>;

/// An SMS and voice provider in [`super::SMS_PROVIDERS`].
pub struct SmsProvider {
    pub name: &'static str,
    pub build: BuildSender,
}

/// A push provider in [`super::PUSH_PROVIDERS`].
pub struct PushProvider {
    pub name: &'static str,
    pub build: BuildPusher,
}

/// Why the providers could not be set up (at start, so the server does not serve).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    #[error("unknown {section} provider \"{name}\" (known: {known})")]
    UnknownProvider {
        section: &'static str,
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    #[error("[{section}.{provider}]: {reason}")]
    Config {
        section: &'static str,
        provider: String,
        reason: String,
    },
}

impl DeliveryError {
    pub fn config(section: &'static str, provider: &str, reason: impl Into<String>) -> Self {
        DeliveryError::Config {
            section,
            provider: provider.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Parses a provider's table into its own config struct; errors name the table.
pub fn parse_table<T: DeserializeOwned>(
    section: &'static str,
    provider: &str,
    table: &Table,
) -> Result<T, DeliveryError> {
    toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| DeliveryError::config(section, provider, e.message()))
}

/// Reads a key or credentials file; the bytes are wiped when dropped.
pub fn read_secret_file(
    section: &'static str,
    provider: &str,
    path: &Path,
) -> Result<Zeroizing<Vec<u8>>, DeliveryError> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| {
        DeliveryError::config(
            section,
            provider,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}
