//! Rate limits: a token bucket per app (API key) and per client address.
//!
//! An app's bucket is shared by every instance on the database without a write per
//! request: each instance leases tokens from the app's row (`store::rate_buckets`) a chunk
//! at a time — 50 ms worth of the rate — and spends them locally. So across `n` instances
//! an app gets at most its burst plus its rate over the time, plus `n` chunks not yet spent
//! (the bound of the overshoot). A refused lease is not asked again before one token could
//! have been refilled, so a flood costs the database a few writes a second, not one each.
//!
//! An address's bucket lives in this instance only (addresses are many and short-lived; a
//! shared row each would be a write per new address): behind `n` instances an address gets
//! up to `n` times its limit.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::error::{ApiError, Refusal};
use crate::limits::Bucket;
use crate::state::AppState;
use crate::store::rate_buckets::{self, Terms};

/// Thousandths of a token one request costs.
const COST: i64 = 1000;
/// Address buckets kept before idle (full) ones are dropped.
const MAX_ADDRESSES: usize = 100_000;

/// The answer to a limited request: 429 / `60003` (Authy's "DoS protection": too many
/// requests per time unit), with the seconds to wait in `retry_after` and `Retry-After`.
pub fn too_many_requests(retry_after: i64) -> ApiError {
    ApiError::new(
        Refusal::TooManyRequests,
        "60003",
        "Too many requests. Try again later.",
    )
    .with("retry_after", serde_json::json!(retry_after.max(1)))
}

/// Seconds until `missing` thousandths refill at `per_second` tokens a second (at least 1).
fn wait_seconds(missing: i64, per_second: i64) -> i64 {
    let ms = missing.max(0) / per_second.max(1) + 1;
    ((ms + 999) / 1000).max(1)
}

/// Spends one request from `address`'s bucket in this instance.
pub fn check_address(state: &AppState, address: IpAddr) -> Result<(), ApiError> {
    let limits = &state.limits;
    let (rate, burst) = (
        limits.settings.per_address_per_second,
        limits.settings.per_address_burst,
    );
    if rate <= 0 {
        return Ok(());
    }
    let burst = burst.max(1) * COST;
    let now = Instant::now();
    let mut addresses = limits
        .addresses
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if addresses.len() >= MAX_ADDRESSES && !addresses.contains_key(&address) {
        if prune_due(&limits.addresses_pruned, now) {
            addresses.retain(|_, b| refilled(b, now, rate, burst) < burst);
        }
        if addresses.len() >= MAX_ADDRESSES {
            // Memory stays bounded: a new address beyond the table is not tracked (its
            // requests still count against its app's limit).
            return Ok(());
        }
    }
    let bucket = addresses.entry(address).or_insert(Bucket {
        millitokens: burst,
        at: now,
        next_lease: None,
    });
    bucket.millitokens = refilled(bucket, now, rate, burst);
    bucket.at = now;
    if bucket.millitokens < COST {
        drop(addresses);
        state.metrics.rate_limited("address");
        return Err(too_many_requests(wait_seconds(COST, rate)));
    }
    bucket.millitokens -= COST;
    Ok(())
}

/// True (and noted) when the address table was not pruned within the last second.
fn prune_due(pruned: &std::sync::Mutex<Option<Instant>>, now: Instant) -> bool {
    let mut pruned = pruned
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if pruned
        .is_some_and(|at| now.saturating_duration_since(at) < std::time::Duration::from_secs(1))
    {
        return false;
    }
    *pruned = Some(now);
    true
}

/// A local bucket's tokens after refilling since it was last touched.
fn refilled(bucket: &Bucket, now: Instant, per_second: i64, burst: i64) -> i64 {
    let ms = now.saturating_duration_since(bucket.at).as_millis();
    let gained = i64::try_from(ms)
        .unwrap_or(i64::MAX)
        .saturating_mul(per_second);
    bucket.millitokens.saturating_add(gained).min(burst)
}

/// Spends one request from app `app_id`'s share, leasing a chunk from the shared bucket
/// when this instance's share is spent.
pub async fn check_app(state: &AppState, app_id: i64) -> Result<(), ApiError> {
    let settings = state.limits.settings;
    let rate = settings.per_app_per_second;
    if rate <= 0 {
        return Ok(());
    }
    let share = {
        let mut apps = state
            .limits
            .apps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        apps.entry(app_id)
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(Bucket {
                    millitokens: 0,
                    at: Instant::now(),
                    next_lease: None,
                }))
            })
            .clone()
    };
    // One lease at a time per app in this instance; the others wait for its tokens.
    let mut bucket = share.lock().await;
    if bucket.millitokens < COST {
        lease(state, app_id, &mut bucket).await;
    }
    if bucket.millitokens < COST {
        state.metrics.rate_limited("app");
        return Err(too_many_requests(wait_seconds(COST, rate)));
    }
    bucket.millitokens -= COST;
    Ok(())
}

/// Tops the local share up from the app's shared bucket (unless refused too recently).
async fn lease(state: &AppState, app_id: i64, bucket: &mut Bucket) {
    let settings = state.limits.settings;
    let now = Instant::now();
    if bucket.next_lease.is_some_and(|at| now < at) {
        return;
    }
    let rate = settings.per_app_per_second;
    let burst = settings.per_app_burst.max(1) * COST;
    let terms = Terms {
        per_ms: rate,
        burst,
        // 50 ms of the rate, at least one request, at most the burst.
        chunk: (rate * COST / 20).clamp(COST, burst),
    };
    let now_ms = unix_millis();
    let granted =
        match rate_buckets::lease(&state.db, &format!("app:{app_id}"), terms, now_ms).await {
            Ok(granted) => granted,
            Err(e) => {
                // Fail open by one chunk: a busy or failing database must not turn the limiter
                // into the outage (the request's own reads and writes still meet the database).
                tracing::warn!(app = app_id, error = %e, "leasing rate-limit tokens failed");
                terms.chunk
            }
        };
    bucket.millitokens += granted;
    bucket.at = now;
    bucket.next_lease = if bucket.millitokens < COST {
        // Empty: ask again once a token could have come back.
        Some(now + std::time::Duration::from_millis((COST / rate.max(1)).max(1) as u64))
    } else {
        None
    };
}

/// Milliseconds since the Unix epoch (the shared buckets' clock, the same on every instance).
fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
