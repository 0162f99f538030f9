//! The console's deliveries page: OneTouch callbacks with their state (delivered, waiting
//! for a retry, given up), pushes with their outcome, SMS and calls with theirs (`service::message_log`), and
//! usage per day for the last 30 days (verifications, SMS, calls, approval requests) from the
//! daily statistics rows (`service::stats`).

use std::collections::HashMap;

use crate::error::ApiError;
use crate::state::{AppState, now};
use crate::store::deliveries::{self, CallbackLine};
use crate::store::message_log::{self, MessageLine};
use crate::store::push_log::{self, PushLine};

use super::stats::{daily_kind, day_index};

/// Lines per list page.
pub const PAGE_SIZE: i64 = 50;
/// Deepest page offered.
pub const MAX_PAGE: i64 = 200;
/// Days the usage charts cover, today included.
pub const USAGE_DAYS: u32 = 30;
/// The charts: (statistics kind, title).
pub const USAGE_KINDS: [(&str, &str); 4] = [
    ("verification", "Verifications"),
    ("sms", "SMS"),
    ("call", "Voice calls"),
    ("approval_request", "Approval requests"),
];

/// A callback's state as an operator reads it.
pub fn callback_state(line: &CallbackLine, max_attempts: i64) -> &'static str {
    if line.delivered {
        "delivered"
    } else if line.attempts >= max_attempts {
        "failed"
    } else if line.attempts > 0 {
        "retrying"
    } else {
        "queued"
    }
}

pub struct DeliveryPage {
    pub callbacks: Vec<CallbackLine>,
    pub messages: Vec<MessageLine>,
    pub pushes: Vec<PushLine>,
}

/// One page of callbacks and kept messages, for one app or all, one message channel or all.
pub async fn list(
    state: &AppState,
    app_id: Option<i64>,
    channel: Option<&str>,
    page: i64,
) -> Result<DeliveryPage, ApiError> {
    if let Some(channel) = channel
        && !matches!(channel, "sms" | "call")
    {
        return Err(ApiError::invalid_parameter("Unknown delivery channel."));
    }
    let offset = page.clamp(0, MAX_PAGE) * PAGE_SIZE;
    Ok(DeliveryPage {
        callbacks: deliveries::callbacks(&state.db, app_id, offset, PAGE_SIZE).await?,
        messages: message_log::recent(&state.db, app_id, channel, offset, PAGE_SIZE).await?,
        pushes: push_log::recent(&state.db, app_id, offset, PAGE_SIZE).await?,
    })
}

/// One chart: its title and one count per day, oldest first, with the days' labels.
pub struct UsageSeries {
    pub title: &'static str,
    pub days: Vec<(String, i64)>,
}

/// Counts per day of the last [`USAGE_DAYS`] days, for one app or all. This instance's
/// buffered counts are written first; counts a flush in progress (`jobs::stats`, every half
/// second) is writing show on the next look.
pub async fn usage(state: &AppState, app_id: Option<i64>) -> Result<Vec<UsageSeries>, ApiError> {
    super::stats::flush_events(state).await?;
    let today = day_index(now());
    let first = today.saturating_sub(USAGE_DAYS - 1);
    let mut charts = Vec::with_capacity(USAGE_KINDS.len());
    for (kind, title) in USAGE_KINDS {
        let stored: HashMap<String, i64> =
            deliveries::counts_with_prefix(&state.db, app_id, &format!("{kind}#"))
                .await?
                .into_iter()
                .collect();
        let days = (first..=today)
            .map(|day| {
                let name = daily_kind(kind, day);
                let count = stored.get(&name).copied().unwrap_or(0);
                let label = name.split_once('#').map_or("", |(_, d)| d).to_owned();
                (label, count)
            })
            .collect();
        charts.push(UsageSeries { title, days });
    }
    Ok(charts)
}
