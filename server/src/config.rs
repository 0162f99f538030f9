//! Configuration from a TOML file, the environment and flags (flags win, then the
//! environment, then the file, then defaults). Zero configuration gives a SQLite file
//! `./countersign.db` served on 127.0.0.1:8080 with the `log` sender.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::error::ServerError;
use crate::push::{Apns, Fcm, Providers};
use crate::seal::MasterKey;
use crate::sender::{LogSender, Sender, TwilioSender, WebhookSender};
use crate::state::{Inner, Settings};
use crate::store::db::{Db, Dialect};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:countersign.db";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    /// 64 hex characters; or `master_key_file`. With SQLite, a key file beside the database
    /// is created on first start when neither is given.
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    /// `log` (default), `webhook` or `twilio`.
    pub sender: Option<String>,
    pub webhook_url: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    pub twilio_from: Option<String>,
    pub twilio_base_url: Option<String>,
    pub public_url: Option<String>,
    /// Firebase service account JSON file (Android push).
    pub fcm_service_account_file: Option<PathBuf>,
    /// Overrides `https://fcm.googleapis.com` (tests, proxies).
    pub fcm_endpoint: Option<String>,
    /// APNs token-auth key (`AuthKey_<key id>.p8`), its key id, the team id and the app's bundle id.
    pub apns_key_file: Option<PathBuf>,
    pub apns_key_id: Option<String>,
    pub apns_team_id: Option<String>,
    pub apns_topic: Option<String>,
    /// Overrides `https://api.push.apple.com` (`https://api.sandbox.push.apple.com` for
    /// development builds).
    pub apns_endpoint: Option<String>,
    pub max_failures: Option<i64>,
    pub lockout_seconds: Option<i64>,
    /// Lifetime of an approval request created without `seconds_to_expire` (default 600).
    pub approval_default_seconds: Option<i64>,
    /// Longest lifetime an approval request may ask for; 0 ("never") gets this (default 86400).
    pub approval_max_seconds: Option<i64>,
    /// Pending approval requests at once, per user (default 10) and per app (default 10000).
    pub max_pending_per_user: Option<i64>,
    pub max_pending_per_app: Option<i64>,
}

impl FileConfig {
    pub fn load(path: &std::path::Path) -> Result<FileConfig, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text)
            .map_err(|e| ServerError::Config(format!("{}: {}", path.display(), e.message())))
    }

    /// Fills every unset field from `COUNTERSIGN_*` environment variables, then `other`.
    pub fn overlay_env(mut self) -> FileConfig {
        let env = |name: &str| {
            std::env::var(format!("COUNTERSIGN_{name}"))
                .ok()
                .filter(|v| !v.is_empty())
        };
        macro_rules! from_env {
            ($($field:ident => $name:literal),*) => {$(
                if let Some(value) = env($name) { self.$field = Some(value.into()); }
            )*};
        }
        from_env!(
            listen => "LISTEN", database_url => "DATABASE_URL", master_key => "MASTER_KEY",
            sender => "SENDER", webhook_url => "WEBHOOK_URL", twilio_account_sid => "TWILIO_ACCOUNT_SID",
            twilio_auth_token => "TWILIO_AUTH_TOKEN", twilio_from => "TWILIO_FROM", twilio_base_url => "TWILIO_BASE_URL",
            public_url => "PUBLIC_URL", fcm_endpoint => "FCM_ENDPOINT", apns_key_id => "APNS_KEY_ID",
            apns_team_id => "APNS_TEAM_ID", apns_topic => "APNS_TOPIC", apns_endpoint => "APNS_ENDPOINT"
        );
        if let Some(path) = env("FCM_SERVICE_ACCOUNT_FILE") {
            self.fcm_service_account_file = Some(PathBuf::from(path));
        }
        if let Some(path) = env("APNS_KEY_FILE") {
            self.apns_key_file = Some(PathBuf::from(path));
        }
        if let Some(path) = env("MASTER_KEY_FILE") {
            self.master_key_file = Some(PathBuf::from(path));
        }
        let number = |name: &str| env(name).and_then(|v| v.parse::<i64>().ok());
        for (field, name) in [
            (&mut self.max_failures, "MAX_FAILURES"),
            (&mut self.lockout_seconds, "LOCKOUT_SECONDS"),
            (
                &mut self.approval_default_seconds,
                "APPROVAL_DEFAULT_SECONDS",
            ),
            (&mut self.approval_max_seconds, "APPROVAL_MAX_SECONDS"),
            (&mut self.max_pending_per_user, "MAX_PENDING_PER_USER"),
            (&mut self.max_pending_per_app, "MAX_PENDING_PER_APP"),
        ] {
            if let Some(n) = number(name) {
                *field = Some(n);
            }
        }
        self
    }

    pub fn database_url(&self) -> &str {
        self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL)
    }

    pub fn listen(&self) -> &str {
        self.listen.as_deref().unwrap_or(DEFAULT_LISTEN)
    }

    fn master_key(&self, dialect: Dialect) -> Result<MasterKey, ServerError> {
        if let Some(hex) = &self.master_key {
            return MasterKey::from_hex(hex);
        }
        let path = match (&self.master_key_file, dialect) {
            (Some(path), _) => path.clone(),
            (None, Dialect::Sqlite) => {
                let file = self
                    .database_url()
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let file = file.split('?').next().unwrap_or(file);
                PathBuf::from(format!("{file}.key"))
            }
            (None, Dialect::Postgres) => {
                return Err(ServerError::Config(
                    "with PostgreSQL every instance needs the same master key: set COUNTERSIGN_MASTER_KEY or master_key_file".into(),
                ));
            }
        };
        MasterKey::load_or_create(&path)
    }

    fn push_providers(&self, http: &reqwest::Client) -> Result<Providers, ServerError> {
        let read = |path: &PathBuf| {
            std::fs::read(path)
                .map_err(|e| ServerError::Config(format!("cannot read {}: {e}", path.display())))
        };
        let push = |e: crate::push::PushError| ServerError::Config(e.to_string());
        let fcm = match &self.fcm_service_account_file {
            Some(path) => {
                let json = zeroize::Zeroizing::new(read(path)?);
                let text = std::str::from_utf8(&json)
                    .map_err(|_| ServerError::Config(format!("{} is not UTF-8", path.display())))?;
                Some(
                    Fcm::from_service_account(text, self.fcm_endpoint.clone(), http.clone())
                        .map_err(push)?,
                )
            }
            None => None,
        };
        let apns = match &self.apns_key_file {
            Some(path) => {
                let key = zeroize::Zeroizing::new(read(path)?);
                let required = |value: &Option<String>, name: &str| {
                    value
                        .clone()
                        .ok_or_else(|| ServerError::Config(format!("APNs push needs {name}")))
                };
                Some(
                    Apns::new(
                        &key,
                        required(&self.apns_key_id, "apns_key_id")?,
                        required(&self.apns_team_id, "apns_team_id")?,
                        required(&self.apns_topic, "apns_topic")?,
                        self.apns_endpoint.clone(),
                        http.clone(),
                    )
                    .map_err(push)?,
                )
            }
            None => None,
        };
        Ok(Providers { fcm, apns })
    }

    /// Connects to the database and builds everything a request needs.
    pub async fn build(&self) -> Result<Inner, ServerError> {
        let db = Db::connect(self.database_url()).await?;
        let master = self.master_key(db.dialect)?;
        let http = reqwest::Client::builder()
            // Below the request deadline (api::REQUEST_DEADLINE), so that a slow provider is
            // reported as such rather than cut off.
            .timeout(std::time::Duration::from_secs(8))
            .build()
            .map_err(|e| ServerError::Config(e.to_string()))?;
        let required = |value: &Option<String>, name: &str| {
            value.clone().ok_or_else(|| {
                ServerError::Config(format!(
                    "the {} sender needs {name}",
                    self.sender.as_deref().unwrap_or("log")
                ))
            })
        };
        let sender: Arc<dyn Sender> = match self.sender.as_deref().unwrap_or("log") {
            "log" => Arc::new(LogSender {
                db: db.clone(),
                master: master.clone(),
            }),
            "webhook" => Arc::new(WebhookSender {
                http: http.clone(),
                url: required(&self.webhook_url, "webhook_url")?,
            }),
            "twilio" => Arc::new(TwilioSender {
                http: http.clone(),
                base_url: self
                    .twilio_base_url
                    .clone()
                    .unwrap_or_else(|| "https://api.twilio.com".into()),
                account_sid: required(&self.twilio_account_sid, "twilio_account_sid")?,
                auth_token: required(&self.twilio_auth_token, "twilio_auth_token")?,
                from: required(&self.twilio_from, "twilio_from")?,
            }),
            other => {
                return Err(ServerError::Config(format!(
                    "unknown sender \"{other}\" (log, webhook or twilio)"
                )));
            }
        };
        let notifier = Arc::new(self.push_providers(&http)?);
        let settings = Settings {
            max_failures: self.max_failures.unwrap_or(5).max(1),
            lockout_seconds: self.lockout_seconds.unwrap_or(300).max(1),
            approvals: crate::state::ApprovalLimits::new(
                self.approval_default_seconds.unwrap_or(600),
                self.approval_max_seconds.unwrap_or(86_400),
                self.max_pending_per_user.unwrap_or(10),
                self.max_pending_per_app.unwrap_or(10_000),
            ),
            public_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.listen())),
        };
        Ok(Inner {
            accepted: crate::store::verdict_batch::Batcher::start(
                db.clone(),
                crate::store::verdict_batch::Policy {
                    max_failures: settings.max_failures,
                    window: settings.lockout_seconds,
                    lockout: settings.lockout_seconds,
                },
            ),
            db,
            health: Default::default(),
            events: Default::default(),
            keys: Default::default(),
            master,
            sender,
            notifier,
            http,
            settings,
        })
    }
}
