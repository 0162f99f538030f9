//! The `user_activities` table: what an app reported about its users through
//! `register_activity` (Authy's risk signals), kept as reported and never interpreted.

use super::db::Db;

pub struct NewActivity<'a> {
    pub app_id: i64,
    pub user_id: i64,
    pub kind: &'a str,
    /// The `data` object as JSON text.
    pub data: &'a str,
    pub user_ip: Option<&'a str>,
    pub created_at: i64,
}

/// Activities kept per user: the newest ones; older ones are dropped as new ones arrive, so
/// an app reporting in a loop cannot grow the table without bound.
pub const KEPT_PER_USER: i64 = 100;

/// Inserts the activity and drops the user's activities beyond [`KEPT_PER_USER`], in one
/// transaction.
pub async fn insert(db: &Db, activity: NewActivity<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO user_activities (app_id, user_id, kind, data, user_ip, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(activity.app_id)
        .bind(activity.user_id)
        .bind(activity.kind)
        .bind(activity.data)
        .bind(activity.user_ip)
        .bind(activity.created_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM user_activities WHERE user_id = $1 AND id NOT IN (SELECT id FROM user_activities WHERE user_id = $1 ORDER BY id DESC LIMIT $2)")
        .bind(activity.user_id)
        .bind(KEPT_PER_USER)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// How many activities the user has stored.
pub async fn count(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM user_activities WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&db.writer)
        .await
}
