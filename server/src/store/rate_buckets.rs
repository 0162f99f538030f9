//! Shared token buckets, one row each, from which server instances lease tokens in chunks.
//!
//! A lease is one atomic `UPDATE … RETURNING`: the row's tokens are refilled for the time
//! since it was last touched (up to the burst), then up to one chunk is taken. Every `SET`
//! expression reads the row as it was before the statement, so the amount taken
//! (`last_grant`) and the tokens left are computed from the same refill; concurrent
//! instances are serialised by the row's lock. Amounts are in thousandths of a token, so
//! a refill rate in tokens per second is the same number in thousandths per millisecond.

use sqlx::Row;

use super::db::Db;

/// One bucket's terms, in thousandths of a token.
#[derive(Clone, Copy, Debug)]
pub struct Terms {
    /// Refill per millisecond (= tokens per second).
    pub per_ms: i64,
    /// Most the bucket holds.
    pub burst: i64,
    /// Most one lease takes.
    pub chunk: i64,
}

/// The bucket's tokens once refilled up to `now_ms`, capped at the burst (SQL, both dialects).
const REFILLED: &str = "(CASE WHEN (CASE WHEN $1 > updated_ms THEN millitokens + ($1 - updated_ms) * $2 ELSE millitokens END) >= $3 THEN $3 ELSE (CASE WHEN $1 > updated_ms THEN millitokens + ($1 - updated_ms) * $2 ELSE millitokens END) END)";

/// Takes up to one chunk from bucket `name` at `now_ms` (a full bucket is created on first
/// use); returns the thousandths of a token granted (0 when the bucket is empty).
pub async fn lease(db: &Db, name: &str, terms: Terms, now_ms: i64) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO rate_buckets (bucket, millitokens, updated_ms, last_grant) VALUES ($1, $2, $3, 0) ON CONFLICT (bucket) DO NOTHING",
    )
    .bind(name)
    .bind(terms.burst)
    .bind(now_ms)
    .execute(&db.writer)
    .await?;
    let grant = format!("(CASE WHEN {REFILLED} >= $4 THEN $4 ELSE {REFILLED} END)");
    let statement = format!(
        "UPDATE rate_buckets SET millitokens = {REFILLED} - {grant}, last_grant = {grant}, updated_ms = CASE WHEN $1 > updated_ms THEN $1 ELSE updated_ms END WHERE bucket = $5 RETURNING last_grant"
    );
    let row = sqlx::query(&statement)
        .bind(now_ms)
        .bind(terms.per_ms)
        .bind(terms.burst)
        .bind(terms.chunk)
        .bind(name)
        .fetch_one(&db.writer)
        .await?;
    row.try_get(0)
}
