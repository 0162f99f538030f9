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

/// The address a per-address limit counts: an IPv4 address itself, an IPv6 address's /64
/// (one subscriber or VM gets a whole /64 and could otherwise take a fresh address for
/// every request).
pub fn limited_address(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(network))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64_and_ipv4_by_themselves() {
        let key = |s: &str| limited_address(s.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
    }
}
