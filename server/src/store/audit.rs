//! The `audit_log` and `audit_head` tables: the append-only, hash-chained audit trail
//! (docs/audit.md). One append is one transaction that first moves the chain head
//! (`UPDATE … RETURNING`), which takes the head row's lock on PostgreSQL and the database's
//! write lock on SQLite: appends from any number of server instances are strictly ordered,
//! each sees its predecessor's hash, and none can leave a gap or a fork.

use sqlx::{Any, Row, Transaction};

use super::db::Db;
use crate::audit_chain::{ChainSigner, Fields, genesis_hash};

/// An entry before the chain gives it a sequence number and a predecessor.
pub struct Draft {
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// Canonical JSON text (`audit_chain::canonical_json`).
    pub details: String,
}

/// One stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
    pub signature: String,
}

impl Entry {
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            seq: self.seq,
            time: self.time,
            actor: &self.actor,
            action: &self.action,
            subject: &self.subject,
            details: &self.details,
            prev_hash: &self.prev_hash,
        }
    }
}

const COLUMNS: &str = "seq, time, actor, action, subject, details, prev_hash, hash, signature";

fn entry(row: &sqlx::any::AnyRow) -> Entry {
    Entry {
        seq: row.get(0),
        time: row.get(1),
        actor: row.get(2),
        action: row.get(3),
        subject: row.get(4),
        details: row.get(5),
        prev_hash: row.get(6),
        hash: row.get(7),
        signature: row.get(8),
    }
}

/// Appends `draft` in its own transaction; returns its sequence number.
pub async fn append(db: &Db, draft: &Draft, signer: &ChainSigner) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let seq = append_in(&mut tx, draft, signer).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Appends `draft` inside the caller's transaction, so that a change and its audit entry are
/// committed together or not at all. The head row stays locked until that transaction ends.
pub async fn append_in(
    tx: &mut Transaction<'_, Any>,
    draft: &Draft,
    signer: &ChainSigner,
) -> Result<i64, sqlx::Error> {
    let (seq, prev_hash) = advance_head(tx).await?;
    let fields = Fields {
        seq,
        time: draft.time,
        actor: &draft.actor,
        action: &draft.action,
        subject: &draft.subject,
        details: &draft.details,
        prev_hash: &prev_hash,
    };
    let seal = signer
        .seal(&fields)
        .ok_or_else(|| sqlx::Error::Protocol("the server key could not sign".into()))?;
    sqlx::query(&format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(seq)
    .bind(draft.time)
    .bind(&draft.actor)
    .bind(&draft.action)
    .bind(&draft.subject)
    .bind(&draft.details)
    .bind(&prev_hash)
    .bind(&seal.hash)
    .bind(&seal.signature)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&seal.hash)
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// Takes the next sequence number and the current head's hash, locking the head row.
async fn advance_head(tx: &mut Transaction<'_, Any>) -> Result<(i64, String), sqlx::Error> {
    const ADVANCE: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
    if let Some(row) = sqlx::query(ADVANCE).fetch_optional(&mut **tx).await? {
        return Ok((row.get(0), row.get(1)));
    }
    // The first append ever: create the head (another instance may do so at the same time;
    // its row wins and this one then advances it).
    sqlx::query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING",
    )
    .bind(genesis_hash())
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(ADVANCE).fetch_one(&mut **tx).await?;
    Ok((row.get(0), row.get(1)))
}

/// The stored chain head: the last sequence number given out and its entry's hash.
pub async fn head(db: &Db) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Up to `limit` entries with `seq >= from` (and `<= to`), oldest first, in stored order.
pub async fn oldest_first(
    db: &Db,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3"
    ))
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(entry).collect())
}

/// What a page of the console's audit view asks for.
pub struct PageQuery<'a> {
    pub actor: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// Only entries older than this sequence number (the previous page's last).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Up to `limit` entries, newest first, filtered by exact actor and/or subject.
pub async fn newest_first(db: &Db, query: &PageQuery<'_>) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_log
         WHERE seq < $1 AND ($2 = '' OR actor = $2) AND ($3 = '' OR subject = $3)
         ORDER BY seq DESC LIMIT $4"
    ))
    .bind(query.before.unwrap_or(i64::MAX))
    .bind(query.actor.unwrap_or(""))
    .bind(query.subject.unwrap_or(""))
    .bind(query.limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(entry).collect())
}
