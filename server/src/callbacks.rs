//! Approval request state changes, each queued for the app's callback URL in the same
//! transaction, so a state change and its callback are committed together or not at all.
//! Delivery (leases, concurrency, retries) is the job in `crate::jobs::callbacks`.

use serde_json::{Value, json};
use sqlx::Row;

use crate::error::ServerError;
use crate::state::{AppState, now};

/// Pending requests expired per query of [`expire_batch`].
const EXPIRY_BATCH: usize = 100;

/// Moves a pending request to `status` ("approved", "denied", "expired") in one atomic step
/// and queues its callback. Returns false when the request was no longer pending.
pub async fn resolve(
    state: &AppState,
    uuid: &str,
    status: &str,
    evidence: Option<&Value>,
) -> Result<bool, ServerError> {
    let time = now();
    let mut tx = state.db.writer.begin().await?;
    let changed = sqlx::query("UPDATE approval_requests SET status = $1, updated_at = $2, processed_at = $2, evidence = $4 WHERE uuid = $3 AND status = 'pending'")
        .bind(status)
        .bind(time)
        .bind(uuid)
        .bind(evidence.map(|e| e.to_string()))
        .execute(&mut *tx)
        .await?;
    if changed.rows_affected() != 1 {
        return Ok(false);
    }
    let row = sqlx::query(
        "SELECT r.app_id, r.user_id, r.message, r.details, r.hidden_details, r.created_at, r.expires_at, a.callback_url, a.callback_method
         FROM approval_requests r JOIN apps a ON a.id = r.app_id WHERE r.uuid = $1",
    )
    .bind(uuid)
    .fetch_one(&mut *tx)
    .await?;
    let callback_url: Option<String> = row.get(7);
    if let Some(url) = callback_url.filter(|u| !u.is_empty()) {
        let body = json!({
            "authy_id": row.get::<i64, _>(1),
            "device_uuid": evidence.and_then(|e| e.get("device_id")).cloned().unwrap_or(Value::Null),
            "callback_action": "approval_request_status",
            "uuid": uuid,
            "status": status,
            "approval_request": {
                "transaction": {
                    "details": crate::store::approvals::details_object(&row.get::<String, _>(3)),
                    "hidden_details": crate::store::approvals::details_object(&row.get::<String, _>(4)),
                    "message": row.get::<String, _>(2),
                    "status": status,
                    "uuid": uuid,
                    "created_at_time": row.get::<i64, _>(5),
                    "device_signing_time": time,
                },
                "expiration_timestamp": row.get::<i64, _>(6),
            },
            "signed_answer": evidence.cloned().unwrap_or(Value::Null),
        });
        sqlx::query("INSERT INTO callbacks (app_id, url, method, body, attempts, next_attempt_at, delivered, created_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $5)")
            .bind(row.get::<i64, _>(0))
            .bind(url)
            .bind(row.get::<String, _>(8))
            .bind(body.to_string())
            .bind(time)
            .bind(0i64)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Expires pending requests whose time is up (one batch; the expiry job repeats it).
pub async fn expire_due(state: &AppState) -> Result<(), ServerError> {
    expire_batch(state).await.map(|_| ())
}

/// Expires up to one batch of due requests; returns how many were due, so that a caller can
/// go on while batches come back full.
pub async fn expire_batch(state: &AppState) -> Result<usize, ServerError> {
    let due = sqlx::query("SELECT uuid FROM approval_requests WHERE status = 'pending' AND expires_at > 0 AND expires_at <= $1 LIMIT $2")
        .bind(now())
        .bind(EXPIRY_BATCH as i64)
        .fetch_all(&state.db.pool)
        .await?;
    for row in &due {
        resolve(state, &row.get::<String, _>(0), "expired", None).await?;
    }
    Ok(due.len())
}

/// True when a batch of [`expire_batch`] was full, so more may be due.
pub fn batch_was_full(expired: usize) -> bool {
    expired >= EXPIRY_BATCH
}

/// The signed device answer kept as evidence; none before a device answered.
pub async fn evidence(state: &AppState, uuid: &str) -> Result<Option<Value>, ServerError> {
    let row = sqlx::query("SELECT evidence FROM approval_requests WHERE uuid = $1")
        .bind(uuid)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row
        .and_then(|r| r.get::<Option<String>, _>(0))
        .and_then(|text| serde_json::from_str(&text).ok()))
}
