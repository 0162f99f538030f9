//! The shared server state: the store, the delivery channels, the master key and the
//! settings that every service call receives. Built by `config`, shared by `run`.

use std::sync::Arc;

pub use crate::clock::now;
use crate::delivery::{Notifier, Sender};
use crate::seal::MasterKey;
pub use crate::store::apps::App;
use crate::store::db::Db;

pub struct Settings {
    /// Consecutive failed verifications before a user is locked out.
    pub max_failures: i64,
    /// Seconds a locked-out user stays locked.
    pub lockout_seconds: i64,
    /// Public base URL of this server, put into device-facing links.
    pub public_url: String,
    pub approvals: ApprovalLimits,
    /// Reverse proxies whose forwarded client address is believed (empty: none).
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// Seconds a console session may sit unused (`console_idle_minutes`).
    pub console_idle_seconds: i64,
    /// Bearer token that opens `/metrics` to non-loopback clients (none: loopback only).
    pub metrics_token: Option<String>,
    /// Days the operators' logs (verifications, pushes, messages) are kept.
    pub log_retention_days: i64,
}

/// Bounds on OneTouch approval requests: a request that lives for ever, or an app that piles
/// up pending requests without end, is an attack surface (a stale request approved by
/// mistake, a phone flooded with prompts).
#[derive(Clone, Copy, Debug)]
pub struct ApprovalLimits {
    pub default_seconds: i64,
    pub max_seconds: i64,
    pub pending_per_user: i64,
    pub pending_per_app: i64,
}

impl ApprovalLimits {
    pub fn new(default_seconds: i64, max_seconds: i64, per_user: i64, per_app: i64) -> Self {
        let max_seconds = max_seconds.max(1);
        ApprovalLimits {
            default_seconds: default_seconds.clamp(1, max_seconds),
            max_seconds,
            pending_per_user: per_user.max(1),
            pending_per_app: per_app.max(1),
        }
    }

    /// The lifetime a request gets: the default when none is asked, the maximum for 0
    /// (Authy's "never") or anything longer.
    pub fn lifetime(&self, asked: Option<i64>) -> i64 {
        match asked {
            None => self.default_seconds,
            Some(0) => self.max_seconds,
            Some(seconds) => seconds.min(self.max_seconds),
        }
    }
}

/// Buffered statistics counts per (app, event kind, day since the epoch: `service::stats`).
pub type EventCounts = std::sync::Mutex<std::collections::HashMap<(i64, &'static str, u32), i64>>;

/// API keys seen recently (hash → app). Entries live a few seconds, so a removed key stops
/// working everywhere within that time without a database read on every request.
pub type KeyCache = std::sync::Mutex<std::collections::HashMap<String, (App, std::time::Instant)>>;

/// Verification outcomes buffered for the console's log (`service::verification_log`).
pub type PendingVerifications =
    std::sync::Mutex<Vec<crate::store::verification_log::LoggedVerification>>;

pub struct Inner {
    pub db: Db,
    pub health: Arc<crate::store::health::Health>,
    pub accepted: crate::store::verdict_batch::Batcher,
    pub events: EventCounts,
    pub keys: KeyCache,
    pub master: MasterKey,
    pub sender: Arc<dyn Sender>,
    pub notifier: Arc<dyn Notifier>,
    pub http: reqwest::Client,
    pub settings: Settings,
    /// Verification outcomes waiting to be written (`service::verification_log`).
    pub verification_log: PendingVerifications,
    pub metrics: crate::metrics::Metrics,
    pub limits: crate::limits::RateLimits,
}

pub type AppState = Arc<Inner>;
