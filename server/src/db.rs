//! Storage: one SQL dialect subset shared by SQLite (the zero-configuration default) and
//! PostgreSQL (several server instances behind a load balancer), through sqlx's `Any` driver.
//! Only the schema differs (auto-increment ids). No state lives only in one instance's memory.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

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

const SCHEMA_VERSION: i64 = 1;

fn schema(dialect: Dialect) -> String {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
         CREATE TABLE IF NOT EXISTS apps (
            id {id},
            name TEXT NOT NULL,
            api_key_hash TEXT NOT NULL UNIQUE,
            api_key_sealed TEXT NOT NULL,
            token_length BIGINT NOT NULL,
            callback_url TEXT,
            callback_method TEXT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS users (
            id {id},
            app_id BIGINT NOT NULL,
            email TEXT NOT NULL,
            cellphone TEXT NOT NULL,
            country_code BIGINT NOT NULL,
            custom_user_id TEXT,
            seed_sealed TEXT NOT NULL,
            confirmed BIGINT NOT NULL,
            last_step_app BIGINT NOT NULL,
            last_step_sms BIGINT NOT NULL,
            failed_attempts BIGINT NOT NULL,
            locked_until BIGINT NOT NULL,
            authenticator_sealed TEXT,
            authenticator_created_at BIGINT NOT NULL,
            authenticator_confirmed BIGINT NOT NULL,
            last_step_authenticator BIGINT NOT NULL,
            deleted BIGINT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS users_phone ON users (app_id, country_code, cellphone);
         CREATE TABLE IF NOT EXISTS devices (
            id {id},
            user_id BIGINT NOT NULL,
            os_type TEXT NOT NULL,
            name TEXT NOT NULL,
            public_key TEXT NOT NULL,
            push_token TEXT,
            revoked BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen BIGINT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS devices_user ON devices (user_id);
         CREATE TABLE IF NOT EXISTS registrations (
            code_hash TEXT PRIMARY KEY,
            app_id BIGINT NOT NULL,
            user_id BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            used BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS device_nonces (
            device_id BIGINT NOT NULL,
            nonce TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (device_id, nonce)
         );
         CREATE TABLE IF NOT EXISTS server_keys (
            id BIGINT PRIMARY KEY,
            secret_sealed TEXT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS outbox (
            id {id},
            app_id BIGINT NOT NULL,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS counters (
            app_id BIGINT NOT NULL,
            kind TEXT NOT NULL,
            count BIGINT NOT NULL,
            PRIMARY KEY (app_id, kind)
         );
         CREATE TABLE IF NOT EXISTS approval_requests (
            uuid TEXT PRIMARY KEY,
            app_id BIGINT NOT NULL,
            user_id BIGINT NOT NULL,
            message TEXT NOT NULL,
            details TEXT NOT NULL,
            hidden_details TEXT NOT NULL,
            logos TEXT NOT NULL,
            status TEXT NOT NULL,
            seconds_to_expire BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            processed_at BIGINT NOT NULL,
            notified BIGINT NOT NULL,
            nonce TEXT NOT NULL,
            evidence TEXT,
            number BIGINT NOT NULL DEFAULT 0
         );
         CREATE TABLE IF NOT EXISTS callbacks (
            id {id},
            app_id BIGINT NOT NULL,
            url TEXT NOT NULL,
            method TEXT NOT NULL,
            body TEXT NOT NULL,
            attempts BIGINT NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            delivered BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            lease_token TEXT
         );
         CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks (delivered, next_attempt_at);
         CREATE INDEX IF NOT EXISTS callbacks_app_due ON callbacks (app_id, delivered, next_attempt_at);
         CREATE TABLE IF NOT EXISTS phone_verifications (
            id {id},
            app_id BIGINT NOT NULL,
            country_code BIGINT NOT NULL,
            phone TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            uuid TEXT NOT NULL,
            attempts BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            verified BIGINT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS phone_verifications_phone ON phone_verifications (app_id, country_code, phone);"
    )
}

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
        let url = match dialect {
            // WAL: readers never block the writer; NORMAL sync is durable across crashes of
            // the process (only an OS crash can lose the last commits).
            Dialect::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options = move |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if dialect == Dialect::Sqlite {
                            sqlx::query("PRAGMA journal_mode=WAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA synchronous=NORMAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA busy_timeout=5000")
                                .execute(&mut *conn)
                                .await?;
                        }
                        Ok(())
                    })
                })
        };
        let (pool, writer) = match dialect {
            Dialect::Sqlite => {
                // The writer connects first: it creates the file and switches it to WAL.
                let writer = options(1).connect(&url).await?;
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

    async fn migrate(&self) -> Result<(), ServerError> {
        let mut tx = self.writer.begin().await?;
        for statement in schema(self.dialect)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        let version: Option<i64> = sqlx::query("SELECT version FROM schema_version")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.get(0));
        match version {
            None => {
                sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                    .bind(SCHEMA_VERSION)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(ServerError::Config(format!(
                    "the database was written by a newer server (schema {v})"
                )));
            }
            Some(_) => {}
        }
        callback_leases::migrate(&mut tx, self.dialect).await?;
        tx.commit().await?;
        Ok(())
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
