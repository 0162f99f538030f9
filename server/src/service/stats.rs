//! Statistics: events counted per app and month, buffered in memory (`jobs::stats` flushes
//! the buffer every half second and explains what a crash can lose), and the app's
//! statistics answer (`app/stats`: one item per month, as Authy gave it).
//!
//! Each flush adds a count three times in the `counters` table: under the plain kind (`sms`:
//! the app's all-time total), under the kind and its month (`sms@2026-11`: one item of the
//! monthly answer) and under the kind and its day (`sms#2026-11-28`: the console's usage
//! charts). Month and day are the UTC ones in which the event was recorded.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::clock::Civil;
use crate::error::ApiError;
use crate::state::{AppState, now};

/// Months listed by `app/stats`, the current one included.
const MONTHS_LISTED: u32 = 12;
/// Authy's month names (`"month": "January"`; authy-client's fixtures).
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// The kind counted for every authenticated API call (`api_calls_count`).
pub const API_CALL: &str = "api_call";

/// Counts an event for the app's statistics.
pub async fn record_event(state: &AppState, app_id: i64, kind: &'static str) {
    record(state, app_id, kind);
}

/// Writes the buffered counts now (the statistics route calls it so that its answer includes
/// this instance's latest counts); failed counts stay buffered.
pub async fn flush_events(state: &AppState) -> Result<(), sqlx::Error> {
    flush(state).await
}

/// (app, kind, day index): see [`day_index`].
type Key = (i64, &'static str, u32);

/// Days since the Unix epoch of a Unix time (UTC); 0 before it.
pub fn day_index(unix: i64) -> u32 {
    u32::try_from(unix.max(0) / 86_400).unwrap_or(u32::MAX)
}

/// The `counters` kind of one day's count: `sms#2026-11-28`.
pub fn daily_kind(kind: &str, day: u32) -> String {
    let at = Civil::from_unix(i64::from(day) * 86_400);
    format!("{kind}#{:04}-{:02}-{:02}", at.year, at.month, at.day)
}

/// Months since year 0 (`year * 12 + month - 1`) of a Unix time, in UTC.
fn month_index(unix: i64) -> u32 {
    let at = Civil::from_unix(unix);
    (at.year.clamp(0, 9999) as u32) * 12 + at.month - 1
}

/// The `counters` kind of one month's count: `sms@2026-11`.
fn monthly_kind(kind: &str, month: u32) -> String {
    format!("{kind}@{:04}-{:02}", month / 12, month % 12 + 1)
}

/// The kind and month index of a monthly `counters` kind; `None` for an all-time total.
fn parse_monthly_kind(stored: &str) -> Option<(&str, u32)> {
    let (kind, month) = stored.split_once('@')?;
    let (year, month) = month.split_once('-')?;
    let (year, month): (u32, u32) = (year.parse().ok()?, month.parse().ok()?);
    (1..=12)
        .contains(&month)
        .then(|| (kind, year * 12 + month - 1))
}

/// Counts one event of `kind` for `app_id`, on the current day.
pub fn record(state: &AppState, app_id: i64, kind: &'static str) {
    let day = day_index(now());
    let mut pending = state
        .events
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *pending.entry((app_id, kind, day)).or_insert(0) += 1;
}

/// Writes the buffered counts; on failure they go back into the buffer.
pub async fn flush(state: &AppState) -> Result<(), sqlx::Error> {
    let pending: Vec<(Key, i64)> = {
        let mut buffer = state
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *buffer).into_iter().collect()
    };
    if pending.is_empty() {
        return Ok(());
    }
    // Totals, monthly and daily rows, merged; a BTreeMap keeps every instance's write order
    // the same, so row locks are taken in one order and flushes cannot deadlock.
    let mut rows: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for ((app_id, kind, day), count) in &pending {
        let month = month_index(i64::from(*day) * 86_400);
        *rows.entry((*app_id, (*kind).to_owned())).or_insert(0) += count;
        *rows
            .entry((*app_id, monthly_kind(kind, month)))
            .or_insert(0) += count;
        *rows.entry((*app_id, daily_kind(kind, *day))).or_insert(0) += count;
    }
    let sorted: Vec<((i64, &str), i64)> = rows
        .iter()
        .map(|((app_id, kind), count)| ((*app_id, kind.as_str()), *count))
        .collect();
    match crate::store::counters::add(&state.db, &sorted).await {
        Ok(()) => Ok(()),
        Err(e) => {
            put_back(state, pending);
            Err(e)
        }
    }
}

fn put_back(state: &AppState, counts: Vec<(Key, i64)>) {
    let mut buffer = state
        .events
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let buffer: &mut HashMap<Key, i64> = &mut buffer;
    for (key, count) in counts {
        *buffer.entry(key).or_insert(0) += count;
    }
}

/// The app's stored counts (all-time totals and monthly rows), this instance's latest
/// included.
pub async fn app_stats_counts(
    state: &AppState,
    app_id: i64,
) -> Result<Vec<(String, i64)>, ApiError> {
    flush_events(state).await?;
    Ok(crate::store::counters::for_app(&state.db, app_id).await?)
}

/// The app's statistics, in Authy's shape: one item per month from the first month with
/// counts (at most [`MONTHS_LISTED`] back) to the current one, oldest first, each with
/// exactly the seven keys the libraries expect.
pub async fn app_stats(state: &AppState, app_id: i64) -> Result<Value, ApiError> {
    let counts = app_stats_counts(state, app_id).await?;
    let users = crate::store::users::count(&state.db, app_id).await?;
    let current = month_index(now());
    let oldest = (current + 1).saturating_sub(MONTHS_LISTED);
    let mut months: BTreeMap<u32, HashMap<&str, i64>> = BTreeMap::new();
    months.insert(current, HashMap::new());
    for (stored, count) in &counts {
        if let Some((kind, month)) = parse_monthly_kind(stored)
            && (oldest..=current).contains(&month)
        {
            *months.entry(month).or_default().entry(kind).or_insert(0) += count;
        }
    }
    let first = months.keys().next().copied().unwrap_or(current);
    let stats: Vec<Value> = (first..=current)
        .map(|month| month_item(month, months.get(&month)))
        .collect();
    Ok(json!({
        "message": "Monthly statistics.",
        "count": stats.len(),
        "total_users": users,
        "app_id": app_id,
        "stats": stats,
        "success": true,
    }))
}

fn month_item(month: u32, counts: Option<&HashMap<&str, i64>>) -> Value {
    let count = |kind: &str| counts.and_then(|c| c.get(kind)).copied().unwrap_or(0);
    json!({
        "month": MONTH_NAMES[(month % 12) as usize],
        "year": month / 12,
        "api_calls_count": count(API_CALL),
        "auths_count": count("verification"),
        "calls_count": count("call"),
        "sms_count": count("sms"),
        "users_count": count("user_created"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_kinds_round_trip() {
        // 2016-02-20 18:09:18 UTC
        let month = month_index(1_455_991_758);
        assert_eq!(month, 2016 * 12 + 1);
        assert_eq!(monthly_kind("sms", month), "sms@2016-02");
        assert_eq!(parse_monthly_kind("sms@2016-02"), Some(("sms", month)));
        assert_eq!(parse_monthly_kind("sms"), None);
        assert_eq!(parse_monthly_kind("sms@2016-13"), None);
        assert_eq!(parse_monthly_kind("sms@x-01"), None);
    }

    #[test]
    fn daily_kinds_name_the_utc_day() {
        // 2016-02-20 18:09:18 UTC
        let day = day_index(1_455_991_758);
        assert_eq!(daily_kind("sms", day), "sms#2016-02-20");
        assert_eq!(month_index(i64::from(day) * 86_400), 2016 * 12 + 1);
        // A daily row is not mistaken for a monthly one.
        assert_eq!(parse_monthly_kind("sms#2016-02-20"), None);
    }

    #[test]
    fn an_item_has_exactly_authys_keys() {
        let item = month_item(2015 * 12, None);
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "api_calls_count",
                "auths_count",
                "calls_count",
                "month",
                "sms_count",
                "users_count",
                "year"
            ]
        );
        assert_eq!(item["month"], "January");
        assert_eq!(item["year"], 2015);
    }
}
