//! The `verification_log` table: one row per decided code verification (outcome, channel,
//! time — never the code), so an operator can see a user's recent verifications in the
//! console. Written in batches (`service::verification_log`); read newest first, bounded.

use sqlx::Row;

use super::db::Db;

/// One logged verification.
pub struct VerificationRow {
    pub outcome: String,
    pub channel: String,
    pub created_at: i64,
}

/// One outcome to write.
pub struct LoggedVerification {
    pub app_id: i64,
    pub user_id: i64,
    pub outcome: &'static str,
    pub channel: &'static str,
    pub created_at: i64,
}

/// Rows per INSERT statement (6 parameters each, far below either database's limit).
const ROWS_PER_STATEMENT: usize = 200;

/// Appends the outcomes, in order, in one transaction.
pub async fn insert_all(db: &Db, lines: &[LoggedVerification]) -> Result<(), sqlx::Error> {
    let mut tx = db.writer.begin().await?;
    for chunk in lines.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let at = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    at + 1,
                    at + 2,
                    at + 3,
                    at + 4,
                    at + 5
                )
            })
            .collect();
        let statement = format!(
            "INSERT INTO verification_log (app_id, user_id, outcome, channel, created_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&statement);
        for line in chunk {
            query = query
                .bind(line.app_id)
                .bind(line.user_id)
                .bind(line.outcome)
                .bind(line.channel)
                .bind(line.created_at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// The user's latest `limit` verifications, newest first.
pub async fn recent(
    db: &Db,
    user_id: i64,
    limit: i64,
) -> Result<Vec<VerificationRow>, sqlx::Error> {
    let rows = sqlx::query("SELECT outcome, channel, created_at FROM verification_log WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(user_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| VerificationRow {
            outcome: r.get(0),
            channel: r.get(1),
            created_at: r.get(2),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_of_several_statements_keep_every_line_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("log.db").display());
        let db = Db::connect(&url).await.unwrap();
        // 450 lines: three statements (200, 200, 50), two users interleaved.
        let lines: Vec<LoggedVerification> = (0..450)
            .map(|i| LoggedVerification {
                app_id: 1,
                user_id: 1 + i % 2,
                outcome: if i % 3 == 0 { "valid" } else { "invalid" },
                channel: "",
                created_at: i,
            })
            .collect();
        insert_all(&db, &lines).await.unwrap();
        let first = recent(&db, 1, 1000).await.unwrap();
        assert_eq!(first.len(), 225);
        // Newest first: user 1 has the even times, 448 down to 0.
        assert_eq!(first[0].created_at, 448);
        assert_eq!(first[224].created_at, 0);
        assert_eq!(
            first[0].outcome,
            if 448 % 3 == 0 { "valid" } else { "invalid" }
        );
        assert_eq!(recent(&db, 2, 10).await.unwrap()[0].created_at, 449);
    }
}
