//! The SQL of `users import` (migration from Authy): users inserted with the ids they had at
//! Authy, looked up in batches, and the id sequence moved above them so that `users/new`
//! never hands out an imported id — also while other server instances keep serving.

use sqlx::{AnyConnection, Row};

use super::db::{Db, Dialect};

/// A stored user as the import compares it with a row of the file.
pub struct StoredUser {
    pub id: i64,
    pub app_id: i64,
    pub email: String,
    pub country_code: i64,
    pub cellphone: String,
    pub custom_user_id: Option<String>,
    pub deleted: bool,
}

/// A user to insert with its Authy id; `seed_sealed` is already sealed to that id.
pub struct ImportedUser<'a> {
    pub id: i64,
    pub app_id: i64,
    pub email: &'a str,
    pub country_code: i64,
    pub cellphone: &'a str,
    pub custom_user_id: Option<&'a str>,
    pub confirmed: bool,
    pub created_at: i64,
    pub seed_sealed: String,
}

/// Ids of the first two apps: enough to tell "exactly one app" from "choose one".
pub async fn first_app_ids(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM apps ORDER BY id LIMIT 2")
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub async fn app_exists(db: &Db, app_id: i64) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT id FROM apps WHERE id = $1")
        .bind(app_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

/// `$first, $first+1, …` for `count` parameters.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The users (of any app, deleted or not) that hold one of `ids`.
pub async fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<StoredUser>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, app_id, email, country_code, cellphone, custom_user_id, deleted FROM users WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    Ok(rows
        .iter()
        .map(|row| StoredUser {
            id: row.get(0),
            app_id: row.get(1),
            email: row.get(2),
            country_code: row.get(3),
            cellphone: row.get(4),
            custom_user_id: row.get(5),
            deleted: row.get::<i64, _>(6) != 0,
        })
        .collect())
}

/// The app's undeleted users whose phone is one of `cellphones` in `country_code`:
/// (id, cellphone).
pub async fn phone_owners(
    conn: &mut AnyConnection,
    app_id: i64,
    country_code: i64,
    cellphones: &[&str],
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    if cellphones.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, cellphone FROM users WHERE app_id = $1 AND country_code = $2 AND deleted = $3 AND cellphone IN ({})",
        placeholders(4, cellphones.len())
    );
    let mut query = sqlx::query(&sql).bind(app_id).bind(country_code).bind(0i64);
    for phone in cellphones {
        query = query.bind(*phone);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Starts a write transaction for one batch, holding the write lock from its first statement,
/// so that the ids read, the rows inserted and the sequence moved are one consistent step.
/// PostgreSQL: the users table is locked against other writers (users/new on any instance
/// waits for the batch). SQLite: a write that changes nothing takes the database's write lock
/// (waiting for the busy timeout) before anything is read; a transaction that read first and
/// wrote later would fail outright if a server process wrote in between.
pub async fn begin_batch(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let lock = match db.dialect {
        Dialect::Postgres => "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE",
        Dialect::Sqlite => "UPDATE users SET id = id WHERE id < 0",
    };
    sqlx::query(lock).execute(&mut *tx).await?;
    Ok(tx)
}

/// Inserts `users` with their own ids (one statement), then moves the id sequence above the
/// highest id in the table.
pub async fn insert_batch(
    conn: &mut AnyConnection,
    dialect: Dialect,
    users: &[ImportedUser<'_>],
) -> Result<(), sqlx::Error> {
    if users.is_empty() {
        return Ok(());
    }
    const COLUMNS: usize = 9;
    let values: Vec<String> = (0..users.len())
        .map(|i| {
            format!(
                "({}, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 0)",
                placeholders(i * COLUMNS + 1, COLUMNS)
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO users (id, app_id, email, cellphone, country_code, custom_user_id, seed_sealed, confirmed, created_at, last_step_app, last_step_sms, failed_attempts, locked_until, authenticator_sealed, authenticator_created_at, authenticator_confirmed, last_step_authenticator, deleted, failures_reset_at) VALUES {}",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for user in users {
        query = query
            .bind(user.id)
            .bind(user.app_id)
            .bind(user.email)
            .bind(user.cellphone)
            .bind(user.country_code)
            .bind(user.custom_user_id)
            .bind(user.seed_sealed.as_str())
            .bind(i64::from(user.confirmed))
            .bind(user.created_at);
    }
    query.execute(&mut *conn).await?;
    continue_ids_above_max(conn, dialect).await
}

/// New ids continue above every stored one. SQLite's AUTOINCREMENT already records the
/// largest id ever inserted (explicit ones included) in `sqlite_sequence`, in the inserting
/// transaction; PostgreSQL's sequence is moved here, never backwards.
async fn continue_ids_above_max(
    conn: &mut AnyConnection,
    dialect: Dialect,
) -> Result<(), sqlx::Error> {
    if dialect == Dialect::Postgres {
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT COALESCE(MAX(id), 1) FROM users), COALESCE(pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass), 1)))",
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Brings PostgreSQL's statistics of the users table up to date. An import grows the table
/// faster than autovacuum re-analyses it (a minute at the soonest); with statistics of a table
/// far smaller, the planner stops using the phone index for a batch's phones and reads every
/// row of the app, and each batch gets slower than the last. SQLite plans from its indexes.
pub async fn refresh_statistics(
    conn: &mut AnyConnection,
    dialect: Dialect,
) -> Result<(), sqlx::Error> {
    if dialect == Dialect::Postgres {
        sqlx::query("ANALYZE users").execute(&mut *conn).await?;
    }
    Ok(())
}
