//! The rate limits' settings and this instance's token buckets, as plain data held in the
//! shared state; the rules that spend them, and why they are shaped so, are in `service::rate_limit`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;

/// `[rate_limits]`: requests per second and burst, per app and per client address; 0
/// turns a limit off.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    pub per_app_per_second: i64,
    pub per_app_burst: i64,
    pub per_address_per_second: i64,
    pub per_address_burst: i64,
}

impl Default for RateLimitSettings {
    /// Well above the legitimate load the benchmark sends (≥ 14,000 verifications a second
    /// from one app and one address), so only a flood is refused.
    fn default() -> Self {
        RateLimitSettings {
            per_app_per_second: 50_000,
            per_app_burst: 100_000,
            per_address_per_second: 50_000,
            per_address_burst: 100_000,
        }
    }
}

/// An address's bucket in this instance, in thousandths of a token.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    pub millitokens: i64,
    pub at: Instant,
}

/// This instance's share of an app's shared bucket: tokens leased and not yet spent.
#[derive(Debug, Default)]
pub struct AppShare {
    pub local: Mutex<Leased>,
    /// Held by the lease in flight, so that this instance asks the database once at a time.
    pub leasing: tokio::sync::Mutex<()>,
}

/// See [`AppShare`]; thousandths of a token.
#[derive(Debug, Default)]
pub struct Leased {
    pub millitokens: i64,
    /// After a refused lease: the database is not asked again before this.
    pub next_lease: Option<Instant>,
    /// A lease ahead of need is in flight.
    pub topping_up: bool,
}

/// The limits and this instance's buckets.
#[derive(Default)]
pub struct RateLimits {
    pub settings: RateLimitSettings,
    pub apps: Mutex<HashMap<i64, Arc<AppShare>>>,
    pub addresses: Mutex<HashMap<IpAddr, Bucket>>,
    /// When the full address table was last pruned (at most once a second: a scan each).
    pub addresses_pruned: Mutex<Option<Instant>>,
}

impl RateLimits {
    /// Rates and bursts are bounded (a billion a second) so the arithmetic cannot overflow.
    pub fn new(settings: RateLimitSettings) -> RateLimits {
        const MAX: i64 = 1_000_000_000;
        let settings = RateLimitSettings {
            per_app_per_second: settings.per_app_per_second.min(MAX),
            per_app_burst: settings.per_app_burst.clamp(1, MAX),
            per_address_per_second: settings.per_address_per_second.min(MAX),
            per_address_burst: settings.per_address_burst.clamp(1, MAX),
        };
        RateLimits {
            settings,
            ..RateLimits::default()
        }
    }
}
