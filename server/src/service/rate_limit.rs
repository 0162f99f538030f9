//! Rate limits: a token bucket per app (API key) and per client address.
//!
//! An app's bucket is shared by every instance on the database without a write per
//! request: each instance leases tokens from the app's row (`store::rate_buckets`) a chunk
//! at a time — 50 ms worth of the rate — and spends them locally, leasing the next chunk
//! in the background once half of one is left. So across `n` instances an app gets at most
//! its burst plus its rate over the time, plus what the instances hold unspent: less than
//! one and a half chunks each (the bound of the overshoot). A refused lease is not asked again before one token could
//! have been refilled, so a flood costs the database a few writes a second, not one each.
//!
//! An address's bucket lives in this instance only (addresses are many and short-lived; a
//! shared row each would be a write per new address): behind `n` instances an address gets
//! up to `n` times its limit.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::error::{ApiError, Refusal};
use crate::limits::{AppShare, Bucket};
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
    let address = crate::limits::limited_address(address);
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
/// Counted in nanoseconds: touched more often than once a millisecond (any busy address), a
/// time truncated to milliseconds would credit nothing and the bucket would never refill.
fn refilled(bucket: &Bucket, now: Instant, per_second: i64, burst: i64) -> i64 {
    let ns = now.saturating_duration_since(bucket.at).as_nanos();
    // tokens/s × 1000 (thousandths) / 10⁹ (ns): per_second / 10⁶ thousandths a nanosecond.
    let gained = ns.saturating_mul(u128::try_from(per_second).unwrap_or(0)) / 1_000_000;
    bucket
        .millitokens
        .saturating_add(i64::try_from(gained).unwrap_or(i64::MAX))
        .min(burst)
}

/// Spends one request from app `app_id`'s share. The share is topped up ahead of need (a
/// lease in the background once it falls below half a chunk), so requests wait for the
/// database only when the share is empty: a lease waits behind the single writer, and every
/// request of the app would wait with it.
pub async fn check_app(state: &AppState, app_id: i64) -> Result<(), ApiError> {
    let rate = state.limits.settings.per_app_per_second;
    if rate <= 0 {
        return Ok(());
    }
    let share = share_of(state, app_id);
    let terms = terms(state);
    if let Some(top_up) = take(&share, terms.chunk / 2) {
        if top_up {
            let (state, share) = (state.clone(), share.clone());
            tokio::spawn(async move {
                let _leasing = share.leasing.lock().await;
                // A lease for an empty share may have come first: then none is needed.
                if still_below(&share, terms.chunk / 2) {
                    lease(&state, app_id, &share, terms).await;
                }
            });
        }
        return Ok(());
    }
    // Empty: wait for the lease in flight (it may bring tokens), else lease now.
    let _leasing = share.leasing.lock().await;
    if take(&share, 0).is_none() {
        lease(state, app_id, &share, terms).await;
        if take(&share, 0).is_none() {
            state.metrics.rate_limited("app");
            return Err(too_many_requests(wait_seconds(COST, rate)));
        }
    }
    Ok(())
}

fn share_of(state: &AppState, app_id: i64) -> Arc<AppShare> {
    let mut apps = state
        .limits
        .apps
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    apps.entry(app_id).or_default().clone()
}

/// 50 ms of the rate a lease, at least one request, at most the burst.
fn terms(state: &AppState) -> Terms {
    let settings = state.limits.settings;
    let rate = settings.per_app_per_second;
    let burst = settings.per_app_burst.max(1) * COST;
    Terms {
        per_ms: rate,
        burst,
        chunk: (rate * COST / 20).clamp(COST, burst),
    }
}

/// Spends one request from the share if it holds one. Then `Some(true)` when the share fell
/// below `low` and no top-up is in flight (the caller starts one; it is marked started).
fn take(share: &AppShare, low: i64) -> Option<bool> {
    let mut local = share
        .local
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if local.millitokens < COST {
        return None;
    }
    local.millitokens -= COST;
    let top_up = local.millitokens < low
        && !local.topping_up
        && local.next_lease.is_none_or(|at| Instant::now() >= at);
    local.topping_up |= top_up;
    Some(top_up)
}

/// Whether the share still holds less than `low`; if not, the top-up is over.
fn still_below(share: &AppShare, low: i64) -> bool {
    let mut local = share
        .local
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    local.topping_up = local.millitokens < low;
    local.topping_up
}

/// Tops the share up from the app's shared bucket (unless refused too recently); the caller
/// holds `share.leasing`.
async fn lease(state: &AppState, app_id: i64, share: &AppShare, terms: Terms) {
    let now = Instant::now();
    let too_soon = {
        let local = share
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        local.next_lease.is_some_and(|at| now < at)
    };
    let granted = if too_soon {
        0
    } else {
        match rate_buckets::lease(&state.db, &format!("app:{app_id}"), terms, unix_millis()).await {
            Ok(granted) => granted,
            Err(e) => {
                // Fail open by one chunk: a busy or failing database must not turn the
                // limiter into the outage (the request's own reads and writes still meet the
                // database).
                tracing::warn!(app = app_id, error = %e, "leasing rate-limit tokens failed");
                terms.chunk
            }
        }
    };
    let mut local = share
        .local
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    local.millitokens += granted;
    local.topping_up = false;
    if !too_soon {
        local.next_lease = (granted < COST).then(|| {
            // Refused: ask again once a token could have come back.
            now + std::time::Duration::from_millis((COST / terms.per_ms.max(1)).max(1) as u64)
        });
    }
}

/// Milliseconds since the Unix epoch (the shared buckets' clock, the same on every instance).
fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_touched_more_often_than_every_millisecond_still_refills() {
        let start = Instant::now();
        let mut bucket = Bucket {
            millitokens: 0,
            at: start,
        };
        // 50,000 a second, touched every 100 µs for 100 ms: 5,000 tokens come back.
        for i in 1..=1_000 {
            let now = start + Duration::from_micros(100 * i);
            bucket.millitokens = refilled(&bucket, now, 50_000, i64::MAX);
            bucket.at = now;
        }
        assert_eq!(bucket.millitokens, 5_000 * COST);
    }

    #[test]
    fn a_refill_stops_at_the_burst_and_survives_huge_values() {
        let start = Instant::now();
        let bucket = Bucket {
            millitokens: 10,
            at: start,
        };
        let later = start + Duration::from_secs(1_000_000);
        assert_eq!(refilled(&bucket, later, 1_000_000_000, 7 * COST), 7 * COST);
        assert_eq!(refilled(&bucket, start, 1_000_000_000, 7 * COST), 10);
    }
}
