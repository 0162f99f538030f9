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

pub async fn insert(db: &Db, activity: NewActivity<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO user_activities (app_id, user_id, kind, data, user_ip, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(activity.app_id)
        .bind(activity.user_id)
        .bind(activity.kind)
        .bind(activity.data)
        .bind(activity.user_ip)
        .bind(activity.created_at)
        .execute(&db.writer)
        .await
        .map(|_| ())
}
