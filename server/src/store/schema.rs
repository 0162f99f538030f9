//! The schema: the newest version of every table, created if missing. One text for SQLite and
//! PostgreSQL; only the auto-increment id column differs (`{id}` below).

use super::db::Dialect;

/// Every table and index; `{id}` stands for the dialect's auto-increment primary key.
const TABLES: &str = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
         CREATE TABLE IF NOT EXISTS apps (
            id {id},
            name TEXT NOT NULL,
            api_key_hash TEXT NOT NULL UNIQUE,
            api_key_sealed TEXT NOT NULL,
            token_length BIGINT NOT NULL,
            callback_url TEXT,
            callback_method TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            previous_key_hash TEXT,
            previous_key_until BIGINT NOT NULL DEFAULT 0,
            transactional_totp BIGINT NOT NULL DEFAULT 1,
            number_matching BIGINT NOT NULL DEFAULT 0,
            approval_default_seconds BIGINT NOT NULL DEFAULT 0,
            approval_max_seconds BIGINT NOT NULL DEFAULT 0,
            suspended BIGINT NOT NULL DEFAULT 0
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
            failures_reset_at BIGINT NOT NULL DEFAULT 0,
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
            number BIGINT NOT NULL DEFAULT 0,
            number_choices TEXT NOT NULL DEFAULT ''
         );
         CREATE INDEX IF NOT EXISTS approval_requests_app ON approval_requests (app_id, status);
         CREATE INDEX IF NOT EXISTS approval_requests_user ON approval_requests (user_id, status);
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
         CREATE INDEX IF NOT EXISTS phone_verifications_phone ON phone_verifications (app_id, country_code, phone);
         CREATE TABLE IF NOT EXISTS sent_codes (
            id {id},
            user_id BIGINT NOT NULL,
            purpose TEXT NOT NULL,
            step BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            used BIGINT NOT NULL
         );
         CREATE UNIQUE INDEX IF NOT EXISTS sent_codes_user ON sent_codes (user_id, purpose, step);
         CREATE TABLE IF NOT EXISTS health (
            id BIGINT PRIMARY KEY,
            checked_at BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS user_activities (
            id {id},
            app_id BIGINT NOT NULL,
            user_id BIGINT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            user_ip TEXT,
            created_at BIGINT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS user_activities_user ON user_activities (user_id);
         CREATE TABLE IF NOT EXISTS operators (
            id {id},
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            totp_sealed TEXT,
            totp_last_step BIGINT NOT NULL DEFAULT 0,
            push_user_id BIGINT,
            disabled BIGINT NOT NULL,
            attempts BIGINT NOT NULL,
            attempts_since BIGINT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS console_sessions (
            id_hash TEXT PRIMARY KEY,
            operator_id BIGINT NOT NULL,
            stage TEXT NOT NULL,
            csrf_token TEXT NOT NULL,
            approval_uuid TEXT,
            client TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen BIGINT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS console_sessions_operator ON console_sessions (operator_id);
         CREATE TABLE IF NOT EXISTS console_address_attempts (
            address TEXT PRIMARY KEY,
            attempts BIGINT NOT NULL,
            attempts_since BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS audit_log (
            seq BIGINT PRIMARY KEY,
            time BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            signature TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, seq);
         CREATE INDEX IF NOT EXISTS audit_log_subject ON audit_log (subject, seq);
         CREATE TABLE IF NOT EXISTS audit_head (
            id BIGINT PRIMARY KEY,
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS verification_log (
            id {id},
            app_id BIGINT NOT NULL,
            user_id BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            channel TEXT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS verification_log_user ON verification_log (user_id, id);
         CREATE INDEX IF NOT EXISTS approval_requests_created ON approval_requests (created_at);
         CREATE TABLE IF NOT EXISTS push_log (
            id {id},
            uuid TEXT NOT NULL,
            device_id BIGINT NOT NULL,
            os TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS message_log (
            id {id},
            app_id BIGINT NOT NULL,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS rate_buckets (
            bucket TEXT PRIMARY KEY,
            millitokens BIGINT NOT NULL,
            updated_ms BIGINT NOT NULL,
            last_grant BIGINT NOT NULL
         );";

/// Indexes on columns that `db::ADDED_COLUMNS` may add to an older database: made after it,
/// and only when missing (so that a start on an up-to-date database stays read-only).
/// (name, statement).
pub const LATE_INDEXES: &[(&str, &str)] = &[(
    "apps_previous_key",
    "CREATE INDEX IF NOT EXISTS apps_previous_key ON apps (previous_key_hash)",
)];

/// The query that finds index `$1` in the current database or schema.
pub fn index_exists_query(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = $1",
        Dialect::Postgres => {
            "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1"
        }
    }
}

/// The schema's statements for `dialect`, separated by `;`.
pub fn schema(dialect: Dialect) -> String {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    TABLES.replace("{id}", id)
}
