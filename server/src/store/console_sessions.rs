//! The `console_sessions` table: operators' console sessions, keyed by the SHA-256 of the
//! cookie's session id (a stolen database gives no usable cookie). A session is first
//! `pending` (the password was right, the second factor is awaited), then `active`.

use sqlx::Row;

use super::db::Db;

pub const PENDING: &str = "pending";
pub const ACTIVE: &str = "active";

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub operator_id: i64,
    pub stage: &'static str,
    pub csrf_token: &'a str,
    pub approval_uuid: Option<&'a str>,
    pub client: &'a str,
    pub now: i64,
}

/// A live session, as a request finds it.
#[derive(Clone, Debug)]
pub struct Session {
    pub operator_id: i64,
    pub stage: String,
    pub csrf_token: String,
    pub approval_uuid: Option<String>,
    pub client: String,
}

pub async fn insert(db: &Db, new: NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO console_sessions (id_hash, operator_id, stage, csrf_token, approval_uuid, client, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
        .bind(new.id_hash)
        .bind(new.operator_id)
        .bind(new.stage)
        .bind(new.csrf_token)
        .bind(new.approval_uuid)
        .bind(new.client)
        .bind(new.now)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The session `id_hash` at `stage` if it was seen at or after `idle_since` and created at or
/// after `born_since`, marking it seen `now` in the same statement. A session past either
/// limit is never found again (its `last_seen` no longer moves) and is deleted by
/// [`delete_expired`].
pub async fn touch(
    db: &Db,
    id_hash: &str,
    stage: &str,
    now: i64,
    idle_since: i64,
    born_since: i64,
) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query("UPDATE console_sessions SET last_seen = $2 WHERE id_hash = $1 AND stage = $5 AND last_seen >= $3 AND created_at >= $4 RETURNING operator_id, stage, csrf_token, approval_uuid, client")
        .bind(id_hash)
        .bind(now)
        .bind(idle_since)
        .bind(born_since)
        .bind(stage)
        .fetch_optional(&db.writer)
        .await?;
    Ok(row.map(|row| Session {
        operator_id: row.get(0),
        stage: row.get(1),
        csrf_token: row.get(2),
        approval_uuid: row.get(3),
        client: row.get(4),
    }))
}

/// Deletes the session; false when it was gone already (so of two requests racing to end
/// it, one only sees true).
pub async fn delete(db: &Db, id_hash: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes session `id_hash` if it is idle since before `idle_since` or was created before
/// `born_since` (one row, by its key).
pub async fn delete_if_expired(
    db: &Db,
    id_hash: &str,
    idle_since: i64,
    born_since: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM console_sessions WHERE id_hash = $1 AND (last_seen < $2 OR created_at < $3)",
    )
    .bind(id_hash)
    .bind(idle_since)
    .bind(born_since)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Deletes every session idle since before `idle_since` or created before `born_since`.
pub async fn delete_expired(db: &Db, idle_since: i64, born_since: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE last_seen < $1 OR created_at < $2")
        .bind(idle_since)
        .bind(born_since)
        .execute(&db.writer)
        .await?;
    Ok(())
}
