//! Approval requests as the operator's console reads them: a filtered, paged list (newest
//! first) and one request in full, evidence included. Filters are bound parameters.

use sqlx::Row;

use super::db::Db;

/// One line of the list.
pub struct ApprovalLine {
    pub uuid: String,
    pub app_id: i64,
    pub user_id: i64,
    pub message: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Which requests to list; `None` matches any.
pub struct ApprovalFilter<'a> {
    pub app_id: Option<i64>,
    pub user_id: Option<i64>,
    pub status: Option<&'a str>,
}

/// Requests matching `filter`, newest first, `limit` of them after skipping `offset`.
pub async fn list(
    db: &Db,
    filter: &ApprovalFilter<'_>,
    offset: i64,
    limit: i64,
) -> Result<Vec<ApprovalLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT uuid, app_id, user_id, message, status, created_at, expires_at FROM approval_requests
         WHERE ($1 IS NULL OR app_id = $1) AND ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR status = $3)
         ORDER BY created_at DESC, uuid LIMIT $4 OFFSET $5",
    )
    .bind(filter.app_id)
    .bind(filter.user_id)
    .bind(filter.status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ApprovalLine {
            uuid: r.get(0),
            app_id: r.get(1),
            user_id: r.get(2),
            message: r.get(3),
            status: r.get(4),
            created_at: r.get(5),
            expires_at: r.get(6),
        })
        .collect())
}

/// One request in full.
pub struct ApprovalRecord {
    pub line: ApprovalLine,
    /// Stored JSON `[[key, value], …]`, in display order.
    pub details: String,
    pub hidden_details: String,
    /// Stored JSON array of `{res, url}`.
    pub logos: String,
    pub processed_at: i64,
    /// 0 without number matching.
    pub number: i64,
    /// The signed device answer (`{"jws", "device_id", "decision"}`), once answered.
    pub evidence: Option<String>,
}

pub async fn one(db: &Db, uuid: &str) -> Result<Option<ApprovalRecord>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT uuid, app_id, user_id, message, status, created_at, expires_at, details, hidden_details, logos, processed_at, number, evidence
         FROM approval_requests WHERE uuid = $1",
    )
    .bind(uuid)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| ApprovalRecord {
        line: ApprovalLine {
            uuid: r.get(0),
            app_id: r.get(1),
            user_id: r.get(2),
            message: r.get(3),
            status: r.get(4),
            created_at: r.get(5),
            expires_at: r.get(6),
        },
        details: r.get(7),
        hidden_details: r.get(8),
        logos: r.get(9),
        processed_at: r.get(10),
        number: r.get(11),
        evidence: r.get(12),
    }))
}
