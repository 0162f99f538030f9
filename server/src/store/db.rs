//! Storage: one SQL dialect subset shared by SQLite (the zero-configuration default) and
//! PostgreSQL (several server instances behind a load balancer), through sqlx's `Any` driver.
//! Only the schema differs (auto-increment ids). No state lives only in one instance's memory.
//!
//! Every database call has a deadline (a connection within [`ACQUIRE_TIMEOUT`], a statement
//! within [`STATEMENT_TIMEOUT`]), so an outage is answered fast with 503 instead of hanging,
//! and a SQLite connection is never handed out again inside a transaction a failed commit
//! left open (which would acknowledge writes that are never committed).

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Row};

use super::schema::schema;
use crate::error::ServerError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// `pool` serves reads; `writer` takes every write. With SQLite the writer is one connection,
/// so writers queue in the pool (asynchronously) instead of colliding on the database lock
/// and sleeping in SQLite's busy handler. With PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub writer: AnyPool,
    pub dialect: Dialect,
}

/// How long a request waits for a database connection before it is answered 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// PostgreSQL cancels a statement (or a lock wait) running longer than this.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Columns added since schema 1: (table, column, definition). The `CREATE TABLE` text always
/// describes the newest schema; on an older database each missing column is added (checked
/// one by one, so a database that is partly migrated, or was created by a newer build of the
/// same version, is brought up to date as well).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // Failures are counted per window (a slow guesser no longer keeps a user locked for
    // ever); number-matching choices are fixed when a request is created (issue 10).
    ("users", "failures_reset_at", "BIGINT NOT NULL DEFAULT 0"),
    (
        "approval_requests",
        "number_choices",
        "TEXT NOT NULL DEFAULT ''",
    ),
    // The console's app settings and key rotation (issue 15).
    ("apps", "previous_key_hash", "TEXT"),
    ("apps", "previous_key_until", "BIGINT NOT NULL DEFAULT 0"),
    ("apps", "transactional_totp", "BIGINT NOT NULL DEFAULT 1"),
    ("apps", "number_matching", "BIGINT NOT NULL DEFAULT 0"),
    (
        "apps",
        "approval_default_seconds",
        "BIGINT NOT NULL DEFAULT 0",
    ),
    ("apps", "approval_max_seconds", "BIGINT NOT NULL DEFAULT 0"),
    // Operators suspend an app: its keys get Authy's 60061 (issue 12).
    ("apps", "suspended", "BIGINT NOT NULL DEFAULT 0"),
];
const SCHEMA_VERSION: i64 = 2;

/// PostgreSQL advisory-lock key that serialises migrations ("CSMIGRAT" in ASCII).
const MIGRATION_LOCK: i64 = 0x4353_4d49_4752_4154;

impl Db {
    /// Connects (creating a SQLite file if needed) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Db, ServerError> {
        install_default_drivers();
        let dialect = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            return Err(ServerError::Config(format!(
                "unsupported database URL scheme (use sqlite: or postgres:): {}",
                url.split(':').next().unwrap_or("")
            )));
        };
        if dialect == Dialect::Sqlite {
            writable_sqlite_file(url)?;
        }
        let url = match dialect {
            Dialect::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        // One connection first, so that a database that cannot be opened or prepared (full,
        // unreachable) stops the start with its own error rather than a pool time-out.
        let mut first = sqlx::AnyConnection::connect(&url).await?;
        prepare(&mut first, dialect).await?;
        first.close().await?;
        let options = move |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_connect(move |conn, _| Box::pin(async move { prepare(conn, dialect).await }))
        };
        // Only the writer can be left inside a failed write transaction; readers are not
        // checked (the check costs a statement per release).
        let writer_options = move |max: u32| {
            options(max).after_release(move |conn, _| {
                Box::pin(async move { Ok(outside_transaction(conn, dialect).await) })
            })
        };
        let (pool, writer) = match dialect {
            Dialect::Sqlite => {
                // The writer connects first: it creates the file and switches it to WAL.
                let writer = writer_options(1).connect(&url).await?;
                (options(4).connect(&url).await?, writer)
            }
            Dialect::Postgres => {
                let pool = options(32).connect(&url).await?;
                (pool.clone(), pool)
            }
        };
        let db = Db {
            pool,
            writer,
            dialect,
        };
        db.migrate().await?;
        Ok(db)
    }

    /// A write transaction. On SQLite it takes the database's write lock at `BEGIN`, waiting
    /// the busy time-out: a transaction that read first and wrote later would fail outright
    /// ("database is locked", no wait) if another process — the server, a CLI command on the
    /// same file — committed in between. (Within one process the writer pool is one
    /// connection, so this changes nothing there.)
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.writer.begin().await,
        }
    }

    /// The migration's write transaction. On PostgreSQL it also holds a lock that only other
    /// migrations wait for: instances started together on a fresh database would otherwise
    /// run the same `CREATE TABLE IF NOT EXISTS` at once, which PostgreSQL does not make safe
    /// (one fails on its catalogue's unique index).
    async fn begin_migration(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.begin_write().await,
            Dialect::Postgres => {
                let mut tx = self.writer.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    async fn migrate(&self) -> Result<(), ServerError> {
        let mut tx = self.begin_migration().await?;
        let version: Option<i64> = match sqlx::query("SELECT version FROM schema_version")
            .fetch_optional(&mut *tx)
            .await
        {
            Ok(row) => row.map(|r| r.get(0)),
            // A new database: no table yet.
            Err(_) => {
                tx.rollback().await?;
                tx = self.begin_migration().await?;
                None
            }
        };
        if let Some(v) = version.filter(|v| *v > SCHEMA_VERSION) {
            return Err(ServerError::Config(format!(
                "the database was written by a newer server (schema {v})"
            )));
        }
        for statement in schema(self.dialect)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        for (table, column, definition) in ADDED_COLUMNS {
            // A savepoint, so that PostgreSQL's failed probe does not abort the transaction.
            sqlx::query("SAVEPOINT probe_column")
                .execute(&mut *tx)
                .await?;
            let probe = format!("SELECT {column} FROM {table} LIMIT 0");
            if sqlx::query(&probe).execute(&mut *tx).await.is_ok() {
                sqlx::query("RELEASE SAVEPOINT probe_column")
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            sqlx::query("ROLLBACK TO SAVEPOINT probe_column")
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition}"
            ))
            .execute(&mut *tx)
            .await?;
            tracing::info!(table, column, "database schema migrated");
        }
        for (name, statement) in super::schema::LATE_INDEXES {
            let exists = sqlx::query(super::schema::index_exists_query(self.dialect))
                .bind(*name)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
        }
        // Written only when it changes: a start (or an `outbox` listing) on an up-to-date
        // database then only reads, and cannot collide with running instances' writes.
        if version != Some(SCHEMA_VERSION) {
            sqlx::query("DELETE FROM schema_version")
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(SCHEMA_VERSION)
                .execute(&mut *tx)
                .await?;
        }
        callback_leases::migrate(&mut tx, self.dialect).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A real write, as `/healthz` needs it: a full, read-only or stuck database fails it
    /// (within the deadlines) while `SELECT 1` would still answer.
    pub async fn probe_write(&self, now: i64) -> Result<(), sqlx::Error> {
        // One upsert: instances probing the same database at once must not collide (an
        // update-then-insert lets two of them insert, and one would call a healthy database
        // unwritable and answer 503 until its next probe).
        let probe = async {
            sqlx::query(
                "INSERT INTO health (id, checked_at) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            )
            .bind(now)
            .execute(&self.writer)
            .await
            .map(|_| ())
        };
        match tokio::time::timeout(ACQUIRE_TIMEOUT, probe).await {
            Ok(result) => result,
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

/// A SQLite file that cannot be written (a read-only filesystem, no permission) stops the
/// server at start with the reason, rather than a pool that keeps failing to connect.
fn writable_sqlite_file(url: &str) -> Result<(), ServerError> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(|_| ())
        .map_err(|e| {
            ServerError::Config(format!(
                "the database file {path} cannot be opened for writing: {e}"
            ))
        })
}

/// Per-connection settings: WAL and a busy timeout for SQLite; statement and lock deadlines
/// for PostgreSQL.
async fn prepare(conn: &mut sqlx::AnyConnection, dialect: Dialect) -> Result<(), sqlx::Error> {
    let statements: Vec<String> = match dialect {
        // WAL: readers never block the writer. NORMAL sync: a commit survives a crash of the
        // process (the WAL is written before the commit returns); only an OS crash or power
        // loss can lose the last commits (docs/security.md).
        Dialect::Sqlite => {
            sqlx::query(&format!(
                "PRAGMA busy_timeout={}",
                ACQUIRE_TIMEOUT.as_millis()
            ))
            .execute(&mut *conn)
            .await?;
            switch_to_wal(conn).await?;
            vec!["PRAGMA synchronous=NORMAL".into()]
        }
        Dialect::Postgres => vec![
            format!("SET statement_timeout = {}", STATEMENT_TIMEOUT.as_millis()),
            format!("SET lock_timeout = {}", STATEMENT_TIMEOUT.as_millis()),
            format!(
                "SET idle_in_transaction_session_timeout = {}",
                2 * STATEMENT_TIMEOUT.as_millis()
            ),
        ],
    };
    for statement in statements {
        sqlx::query(&statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// `journal_mode=WAL` on a file that another process is opening (instances or the CLI started
/// together on a new database) fails at once with "database is locked": SQLite does not wait
/// on that lock. It is tried again for up to [`ACQUIRE_TIMEOUT`].
async fn switch_to_wal(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    let deadline = tokio::time::Instant::now() + ACQUIRE_TIMEOUT;
    loop {
        match sqlx::query("PRAGMA journal_mode=WAL")
            .execute(&mut *conn)
            .await
        {
            Err(sqlx::Error::Database(e))
                if is_busy(&*e) && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            result => return result.map(|_| ()),
        }
    }
}

/// SQLITE_BUSY or one of its extended codes (the primary code is the low byte).
fn is_busy(error: &dyn sqlx::error::DatabaseError) -> bool {
    error
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// Whether a connection going back to the pool is outside any transaction. A SQLite commit
/// that fails (a full disk, an I/O error) can leave the transaction open; the next writes on
/// that connection would then succeed without ever being committed. Such a connection is
/// rolled back and dropped, and the pool opens a fresh one.
async fn outside_transaction(conn: &mut sqlx::AnyConnection, dialect: Dialect) -> bool {
    if dialect != Dialect::Sqlite {
        // PostgreSQL aborts a failed transaction itself, and sqlx rolls back what it began.
        return true;
    }
    match sqlx::query("ROLLBACK").execute(&mut *conn).await {
        // "cannot rollback - no transaction is active": the normal case.
        Err(_) => true,
        Ok(_) => {
            tracing::error!("a database connection was left inside a transaction; replaced");
            false
        }
    }
}

/// Callback delivery leases (issue 10, findings 7 and 16): databases created before the
/// `lease_token` column get it here. Idempotent: it looks for the column first, so it does not
/// depend on the schema version.
mod callback_leases {
    use sqlx::{Any, Row, Transaction};

    use super::Dialect;

    pub(super) async fn migrate(
        tx: &mut Transaction<'_, Any>,
        dialect: Dialect,
    ) -> Result<(), sqlx::Error> {
        let exists = match dialect {
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM pragma_table_info('callbacks') WHERE name = 'lease_token'"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'callbacks' AND column_name = 'lease_token'"
            }
        };
        let count: i64 = sqlx::query(exists).fetch_one(&mut **tx).await?.get(0);
        if count == 0 {
            sqlx::query("ALTER TABLE callbacks ADD COLUMN lease_token TEXT")
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
