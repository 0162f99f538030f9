//! An approval request's final state and its queued callback, written in one transaction so
//! that a state change and its callback are committed together or not at all; and the reads
//! that lead there (requests due to expire, the evidence kept).

use serde_json::Value;
use sqlx::Row;

use crate::audit_chain::ChainSigner;
use crate::store::approvals::details_object;
use crate::store::audit::{self, Draft};
use crate::store::db::Db;

/// A request just moved out of `pending`, with what its callback needs.
pub struct Settled {
    pub app_id: i64,
    pub user_id: i64,
    pub message: String,
    /// `details` and `hidden_details` as JSON objects, in their stored order.
    pub details: Value,
    pub hidden_details: Value,
    pub created_at: i64,
    pub expires_at: i64,
    pub callback_url: Option<String>,
    pub callback_method: String,
}

/// The outcome to record.
pub struct Outcome<'a> {
    pub uuid: &'a str,
    /// `approved`, `denied` or `expired`.
    pub status: &'a str,
    /// The signed device answer, as JSON text.
    pub evidence: Option<String>,
    pub time: i64,
}

/// How a decision is written to the audit trail: the entry `draft` makes, sealed by `signer`.
pub struct AuditWith<'a, F: FnOnce(&Settled) -> Draft> {
    pub signer: &'a ChainSigner,
    pub draft: F,
}

/// Moves a pending request to `outcome.status`, appends its audit entry and, when its app has
/// a callback URL, queues the body `callback_body` makes, in one transaction: no decision is
/// committed without its audit entry. False when it was no longer pending.
pub async fn settle<F: FnOnce(&Settled) -> Draft>(
    db: &Db,
    outcome: Outcome<'_>,
    callback_body: impl FnOnce(&Settled) -> String,
    audit_with: AuditWith<'_, F>,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let changed = sqlx::query("UPDATE approval_requests SET status = $1, updated_at = $2, processed_at = $2, evidence = $4 WHERE uuid = $3 AND status = 'pending'")
        .bind(outcome.status)
        .bind(outcome.time)
        .bind(outcome.uuid)
        .bind(outcome.evidence)
        .execute(&mut *tx)
        .await?;
    if changed.rows_affected() != 1 {
        return Ok(false);
    }
    let row = sqlx::query(
        "SELECT r.app_id, r.user_id, r.message, r.details, r.hidden_details, r.created_at, r.expires_at, a.callback_url, a.callback_method
         FROM approval_requests r JOIN apps a ON a.id = r.app_id WHERE r.uuid = $1",
    )
    .bind(outcome.uuid)
    .fetch_one(&mut *tx)
    .await?;
    let settled = Settled {
        app_id: row.get(0),
        user_id: row.get(1),
        message: row.get(2),
        details: details_object(&row.get::<String, _>(3)),
        hidden_details: details_object(&row.get::<String, _>(4)),
        created_at: row.get(5),
        expires_at: row.get(6),
        callback_url: row.get(7),
        callback_method: row.get(8),
    };
    if let Some(url) = settled.callback_url.as_deref().filter(|u| !u.is_empty()) {
        sqlx::query("INSERT INTO callbacks (app_id, url, method, body, attempts, next_attempt_at, delivered, created_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $5)")
            .bind(settled.app_id)
            .bind(url)
            .bind(&settled.callback_method)
            .bind(callback_body(&settled))
            .bind(outcome.time)
            .bind(0i64)
            .execute(&mut *tx)
            .await?;
    }
    audit::append_in(&mut tx, &(audit_with.draft)(&settled), audit_with.signer).await?;
    tx.commit().await?;
    Ok(true)
}

/// Up to `limit` pending requests whose time was up at `time`.
pub async fn due_to_expire(db: &Db, time: i64, limit: usize) -> Result<Vec<String>, sqlx::Error> {
    let due = sqlx::query("SELECT uuid FROM approval_requests WHERE status = 'pending' AND expires_at > 0 AND expires_at <= $1 LIMIT $2")
        .bind(time)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&db.pool)
        .await?;
    Ok(due.iter().map(|row| row.get(0)).collect())
}

/// The evidence (signed device answer, JSON text) kept for a request, if any.
pub async fn evidence(db: &Db, uuid: &str) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT evidence FROM approval_requests WHERE uuid = $1")
        .bind(uuid)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.and_then(|r| r.get::<Option<String>, _>(0)))
}
