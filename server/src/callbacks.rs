//! Approval request state changes and their delivery to the app's callback URL, signed with
//! `X-Authy-Signature` / `X-Authy-Signature-Nonce` and retried with exponential back-off. The
//! queue lives in the database, so any instance may deliver and none loses a callback.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;

use crate::error::ServerError;
use crate::signature;
use crate::state::{AppState, now};

pub const MAX_ATTEMPTS: i64 = 10;
const LEASE_SECONDS: i64 = 30;

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
                    "details": crate::api::onetouch::object(&row.get::<String, _>(3)),
                    "hidden_details": crate::api::onetouch::object(&row.get::<String, _>(4)),
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

/// Expires every pending request whose time is up.
pub async fn expire_due(state: &AppState) -> Result<(), ServerError> {
    let due = sqlx::query("SELECT uuid FROM approval_requests WHERE status = 'pending' AND expires_at > 0 AND expires_at <= $1 LIMIT 100")
        .bind(now())
        .fetch_all(&state.db.pool)
        .await?;
    for row in due {
        resolve(state, &row.get::<String, _>(0), "expired", None).await?;
    }
    Ok(())
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

fn nonce() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:06}", now.as_secs(), now.subsec_micros())
}

async fn deliver_one(
    state: &AppState,
    id: i64,
    app_id: i64,
    url: &str,
    method: &str,
    body: &str,
    attempts: i64,
) -> Result<(), ServerError> {
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let sealed: String = sqlx::query("SELECT api_key_sealed FROM apps WHERE id = $1")
        .bind(app_id)
        .fetch_one(&state.db.pool)
        .await?
        .get(0);
    let api_key = state
        .master
        .open(&format!("apps.api_key:{app_id}"), &sealed)?;
    let api_key = String::from_utf8_lossy(&api_key).into_owned();
    let nonce = nonce();
    let method = method.to_ascii_uppercase();
    let signature = signature::sign(&api_key, &nonce, &method, url, &body);
    let request = if method == "GET" {
        state.http.get(format!(
            "{url}{}{}",
            if url.contains('?') { "&" } else { "?" },
            signature::canonical_params(&body)
        ))
    } else {
        state.http.post(url).json(&body)
    };
    let outcome = request
        .header("X-Authy-Signature", signature)
        .header("X-Authy-Signature-Nonce", &nonce)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let delivered = matches!(&outcome, Ok(r) if r.status().is_success());
    if delivered {
        sqlx::query("UPDATE callbacks SET delivered = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(1i64)
            .bind(id)
            .execute(&state.db.writer)
            .await?;
        sqlx::query("UPDATE approval_requests SET notified = $1 WHERE uuid = $2")
            .bind(1i64)
            .bind(body.get("uuid").and_then(Value::as_str).unwrap_or(""))
            .execute(&state.db.writer)
            .await?;
    } else {
        // Back-off: 1, 2, 4, … seconds, at most an hour, then give up after MAX_ATTEMPTS.
        let delay = 1i64 << attempts.clamp(0, 12);
        tracing::warn!(
            callback = id,
            attempt = attempts + 1,
            "callback delivery failed"
        );
        sqlx::query(
            "UPDATE callbacks SET attempts = attempts + 1, next_attempt_at = $1 WHERE id = $2",
        )
        .bind(now() + delay.min(3600))
        .bind(id)
        .execute(&state.db.writer)
        .await?;
    }
    Ok(())
}

/// Delivers due callbacks; each is leased first so that two instances never send it twice.
pub async fn deliver_due(state: &AppState) -> Result<(), ServerError> {
    let time = now();
    let due = sqlx::query("SELECT id, app_id, url, method, body, attempts, next_attempt_at FROM callbacks WHERE delivered = $1 AND attempts < $2 AND next_attempt_at <= $3 ORDER BY id LIMIT 20")
        .bind(0i64)
        .bind(MAX_ATTEMPTS)
        .bind(time)
        .fetch_all(&state.db.pool)
        .await?;
    for row in due {
        let id: i64 = row.get(0);
        let leased = sqlx::query(
            "UPDATE callbacks SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3",
        )
        .bind(time + LEASE_SECONDS)
        .bind(id)
        .bind(row.get::<i64, _>(6))
        .execute(&state.db.writer)
        .await?;
        if leased.rows_affected() == 1 {
            deliver_one(
                state,
                id,
                row.get(1),
                &row.get::<String, _>(2),
                &row.get::<String, _>(3),
                &row.get::<String, _>(4),
                row.get(5),
            )
            .await?;
        }
    }
    Ok(())
}

/// The background loop: expiry and callback delivery, twice a second, until shutdown.
pub async fn run(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = expire_due(&state).await {
            tracing::error!(error = %e, "expiring approval requests");
        }
        if let Err(e) = deliver_due(&state).await {
            tracing::error!(error = %e, "delivering callbacks");
        }
        if let Err(e) = crate::api::device_api::prune_nonces(&state).await {
            tracing::error!(error = %e, "pruning device nonces");
        }
        if let Err(e) = crate::api::flush_events(&state).await {
            tracing::error!(error = %e, "writing statistics");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.changed() => {
                let _ = crate::api::flush_events(&state).await;
                return;
            }
        }
    }
}
