//! Configuration from a TOML file, the environment and flags (flags win, then the
//! environment, then the file, then defaults). Zero configuration gives a SQLite file
//! `./countersign.db` served on 127.0.0.1:8080 with the `log` sender.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::delivery::settings::{Alias, DeliverySettings, Section, SmsSettings};
use crate::error::ServerError;
use crate::proxies::{ForwardedHeader, TrustedProxies};
use crate::seal::MasterKey;
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
    /// `[sms]`: `provider` (default `log`) and one table per provider (`[sms.twilio]`).
    pub sms: Option<SmsSettings>,
    /// `[push]`: one table per configured push provider (`[push.fcm]`, `[push.webhook]`).
    pub push: Option<toml::Table>,
    /// Alias of `[sms] provider`; the keys below down to `apns_endpoint` are aliases of
    /// provider table keys (see [`FileConfig::delivery_settings`]).
    pub sender: Option<String>,
    pub webhook_url: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    pub twilio_from: Option<String>,
    pub twilio_base_url: Option<String>,
    pub public_url: Option<String>,
    pub fcm_service_account_file: Option<PathBuf>,
    pub fcm_endpoint: Option<String>,
    pub apns_key_file: Option<PathBuf>,
    pub apns_key_id: Option<String>,
    pub apns_team_id: Option<String>,
    pub apns_topic: Option<String>,
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
    /// PEM certificate chain and private key: with both, the server speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A reverse proxy terminates TLS: plain HTTP may be served on a non-loopback address.
    /// Alone it trusts a proxy on the same host (loopback); see `trusted_proxies`.
    pub behind_proxy: Option<bool>,
    /// Addresses or CIDR networks of the reverse proxies whose forwarded client address is
    /// believed; setting it implies `behind_proxy`.
    pub trusted_proxies: Option<Vec<String>>,
    /// The header those proxies write: `x-forwarded-for` (default) or `forwarded`.
    pub forwarded_header: Option<String>,
    /// Minutes a console session may sit unused before it ends (default 15).
    pub console_idle_minutes: Option<i64>,
    /// Days the console's logs of verifications, pushes and messages are kept (default 90).
    pub log_retention_days: Option<i64>,
    /// Bearer token that opens `/metrics` to clients other than loopback.
    pub metrics_token: Option<String>,
    /// `text` (default) or `json`: one JSON object per log line.
    pub log_format: Option<String>,
    /// `[rate_limits]`: per app and per client address (service::rate_limit).
    pub rate_limits: Option<crate::limits::RateLimitSettings>,
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
            apns_team_id => "APNS_TEAM_ID", apns_topic => "APNS_TOPIC", apns_endpoint => "APNS_ENDPOINT",
            metrics_token => "METRICS_TOKEN", log_format => "LOG_FORMAT"
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
        self = self.overlay_env_tls(&env);
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
            (&mut self.console_idle_minutes, "CONSOLE_IDLE_MINUTES"),
            (&mut self.log_retention_days, "LOG_RETENTION_DAYS"),
        ] {
            if let Some(n) = number(name) {
                *field = Some(n);
            }
        }
        self
    }

    fn overlay_env_tls(mut self, env: &dyn Fn(&str) -> Option<String>) -> FileConfig {
        if let Some(path) = env("TLS_CERT") {
            self.tls_cert = Some(PathBuf::from(path));
        }
        if let Some(path) = env("TLS_KEY") {
            self.tls_key = Some(PathBuf::from(path));
        }
        if let Some(flag) = env("BEHIND_PROXY") {
            self.behind_proxy = Some(matches!(flag.as_str(), "1" | "true" | "yes"));
        }
        if let Some(list) = env("TRUSTED_PROXIES") {
            self.trusted_proxies = Some(list.split(',').map(|n| n.trim().to_owned()).collect());
        }
        if let Some(header) = env("FORWARDED_HEADER") {
            self.forwarded_header = Some(header);
        }
        self
    }

    /// The TLS certificate and key files, when both are given (one without the other is a
    /// mistake worth stopping for).
    pub fn tls_files(&self) -> Result<Option<(&std::path::Path, &std::path::Path)>, ServerError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) => Ok(None),
            _ => Err(ServerError::Config(
                "HTTPS needs both a certificate and a key: give --tls-cert and --tls-key".into(),
            )),
        }
    }

    /// Whether the operator said a reverse proxy terminates TLS.
    pub fn behind_proxy(&self) -> bool {
        self.behind_proxy.unwrap_or(false) || self.trusted_proxies.is_some()
    }

    /// The trusted reverse proxies: the configured list; loopback when only `behind_proxy`
    /// is set; none otherwise.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ServerError> {
        let header = match &self.forwarded_header {
            Some(name) => ForwardedHeader::parse(name)?,
            None => ForwardedHeader::default(),
        };
        let networks: Vec<String> = match &self.trusted_proxies {
            Some(list) => list.clone(),
            None if self.behind_proxy() => TrustedProxies::LOOPBACK
                .iter()
                .map(|n| n.to_string())
                .collect(),
            None => Vec::new(),
        };
        TrustedProxies::new(&networks, header)
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

    /// The `[sms]` and `[push]` sections with the flat keys of earlier versions applied as
    /// aliases: (flat key, its table, the key in that table).
    pub fn delivery_settings(&self) -> DeliverySettings {
        fn text(value: &Option<String>) -> Option<&str> {
            value.as_deref()
        }
        fn path(value: &Option<PathBuf>) -> Option<&str> {
            value.as_deref().and_then(std::path::Path::to_str)
        }
        let alias = |section, provider, key, value, creates_table| Alias {
            section,
            provider,
            key,
            value,
            creates_table,
        };
        use Section::{Push, Sms};
        let aliases = [
            alias(Sms, "webhook", "url", text(&self.webhook_url), true),
            alias(
                Sms,
                "twilio",
                "account_sid",
                text(&self.twilio_account_sid),
                true,
            ),
            alias(
                Sms,
                "twilio",
                "auth_token",
                text(&self.twilio_auth_token),
                true,
            ),
            alias(Sms, "twilio", "from", text(&self.twilio_from), true),
            alias(Sms, "twilio", "base_url", text(&self.twilio_base_url), true),
            alias(
                Push,
                "fcm",
                "service_account_file",
                path(&self.fcm_service_account_file),
                true,
            ),
            alias(Push, "fcm", "endpoint", text(&self.fcm_endpoint), false),
            alias(Push, "apns", "key_file", path(&self.apns_key_file), true),
            alias(Push, "apns", "key_id", text(&self.apns_key_id), false),
            alias(Push, "apns", "team_id", text(&self.apns_team_id), false),
            alias(Push, "apns", "topic", text(&self.apns_topic), false),
            alias(Push, "apns", "endpoint", text(&self.apns_endpoint), false),
        ];
        DeliverySettings::new(
            self.sms.as_ref(),
            self.push.as_ref(),
            self.sender.as_deref(),
            &aliases,
        )
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
        let context = crate::delivery::Context {
            http: http.clone(),
            db: db.clone(),
            master: master.clone(),
        };
        let metrics = crate::metrics::Metrics::new();
        let (sender, push) =
            crate::delivery::build_counted(&self.delivery_settings(), &context, &metrics)
                .map_err(|e| ServerError::Config(e.to_string()))?;
        let notifier = Arc::new(push);
        let settings = Settings {
            max_failures: self.max_failures.unwrap_or(5).max(1),
            lockout_seconds: self.lockout_seconds.unwrap_or(300).max(1),
            approvals: crate::state::ApprovalLimits::new(
                self.approval_default_seconds.unwrap_or(600),
                self.approval_max_seconds.unwrap_or(86_400),
                self.max_pending_per_user.unwrap_or(10),
                self.max_pending_per_app.unwrap_or(10_000),
            ),
            public_url: self.public_url.clone().unwrap_or_else(|| {
                let scheme = if self.tls_cert.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{}", self.listen())
            }),
            trusted_proxies: self.trusted_proxies()?,
            console_idle_seconds: self.console_idle_minutes.unwrap_or(15).clamp(1, 24 * 60) * 60,
            metrics_token: self.metrics_token.clone(),
            log_retention_days: self.log_retention_days.unwrap_or(90).clamp(1, 36_500),
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
            verification_log: Default::default(),
            master,
            sender,
            notifier,
            http,
            settings,
            metrics,
            limits: crate::limits::RateLimits::new(self.rate_limits.unwrap_or_default()),
        })
    }
}
