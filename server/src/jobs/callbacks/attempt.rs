//! One delivery attempt of a leased callback, start to finish: send it, then record the
//! outcome under the lease (delivered, or failed with back-off), or hand the lease back when
//! the instance is shutting down before the endpoint answered.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::{MAX_ATTEMPTS, OUTCOME_DEADLINE, send};
use crate::state::{AppState, now};
use crate::store::callback_queue::{self as lease, Leased};

/// Seconds before the next attempt after `failed` failures: 1, 2, 4 … at most an hour.
fn back_off(failed: i64) -> i64 {
    (1i64 << failed.clamp(0, 12)).min(3600)
}

/// Runs the attempt; `give_up` turning true makes an attempt still waiting for the endpoint
/// hand its lease back instead.
pub async fn run(state: AppState, callback: Leased, mut give_up: watch::Receiver<bool>) {
    let body: Value = serde_json::from_str(&callback.body).unwrap_or(Value::Null);
    let outcome = tokio::select! {
        outcome = send::send(&state, &callback, &body) => outcome,
        () = async { drop(give_up.wait_for(|give_up| *give_up).await) } => {
            hand_back(&state, &callback).await;
            return;
        }
    };
    match outcome {
        Ok(()) => {
            state.metrics.callback("delivered", false);
            let uuid = body.get("uuid").and_then(Value::as_str).unwrap_or("");
            record(&callback, "delivered", || {
                lease::mark_delivered(&state.db, &callback, uuid)
            })
            .await;
        }
        Err(e) => {
            let failed = callback.attempts + 1;
            state.metrics.callback("failed", failed < MAX_ATTEMPTS);
            tracing::warn!(callback = callback.id, attempt = failed, error = %e, "callback delivery failed");
            if failed >= MAX_ATTEMPTS {
                tracing::error!(
                    callback = callback.id,
                    "callback abandoned after {MAX_ATTEMPTS} attempts"
                );
            }
            let retry_at = now() + back_off(callback.attempts);
            record(&callback, "failed", || {
                lease::mark_failed(&state.db, &callback, retry_at)
            })
            .await;
        }
    }
}

/// Records an outcome, retrying a failing database within [`OUTCOME_DEADLINE`]. If it cannot,
/// the lease runs out and the callback is sent again (at least once, never lost).
async fn record<F, Fut>(callback: &Leased, what: &str, mut write: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, sqlx::Error>>,
{
    let deadline = tokio::time::Instant::now() + OUTCOME_DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, write()).await {
            Ok(Ok(true)) => return,
            Ok(Ok(false)) => {
                tracing::warn!(
                    callback = callback.id,
                    outcome = what,
                    "callback lease lost before its outcome was recorded"
                );
                return;
            }
            Ok(Err(e)) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(callback = callback.id, outcome = what, error = %e, "recording a callback outcome failed; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(Err(e)) => {
                tracing::error!(callback = callback.id, outcome = what, error = %e, "callback outcome not recorded; it will be sent again when its lease ends");
                return;
            }
            Err(_) => {
                tracing::error!(
                    callback = callback.id,
                    outcome = what,
                    "recording a callback outcome timed out; it will be sent again when its lease ends"
                );
                return;
            }
        }
    }
}

async fn hand_back(state: &AppState, callback: &Leased) {
    match lease::hand_back(&state.db, callback).await {
        Ok(true) => tracing::info!(callback = callback.id, "callback handed back at shutdown"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(callback = callback.id, error = %e, "handing a callback back failed; it is due again when its lease ends")
        }
    }
}
