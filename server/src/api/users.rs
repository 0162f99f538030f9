//! Users: create, status, delete, registration status.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::Row;

use crate::error::ApiError;
use crate::state::{AppState, Call, now};

pub struct User {
    pub id: i64,
    pub email: String,
    pub cellphone: String,
    pub country_code: i64,
    pub custom_user_id: Option<String>,
    pub seed_sealed: String,
    pub confirmed: bool,
    pub last_step_app: i64,
    pub last_step_sms: i64,
    pub failed_attempts: i64,
    pub locked_until: i64,
    pub authenticator_sealed: Option<String>,
    pub authenticator_created_at: i64,
    pub authenticator_confirmed: bool,
    pub last_step_authenticator: i64,
    pub created_at: i64,
    /// Registered, unrevoked devices: each received the seed that app codes come from.
    pub active_devices: i64,
}

const USER_COLUMNS: &str = "id, email, cellphone, country_code, custom_user_id, seed_sealed, confirmed, last_step_app, last_step_sms, failed_attempts, locked_until, authenticator_sealed, authenticator_created_at, authenticator_confirmed, last_step_authenticator, created_at, (SELECT COUNT(*) FROM devices d WHERE d.user_id = users.id AND d.revoked = 0)";

fn user_from_row(row: &sqlx::any::AnyRow) -> User {
    User {
        id: row.get(0),
        email: row.get(1),
        cellphone: row.get(2),
        country_code: row.get(3),
        custom_user_id: row.get(4),
        seed_sealed: row.get(5),
        confirmed: row.get::<i64, _>(6) != 0,
        last_step_app: row.get(7),
        last_step_sms: row.get(8),
        failed_attempts: row.get(9),
        locked_until: row.get(10),
        authenticator_sealed: row.get(11),
        authenticator_created_at: row.get(12),
        authenticator_confirmed: row.get::<i64, _>(13) != 0,
        last_step_authenticator: row.get(14),
        created_at: row.get(15),
        active_devices: row.get(16),
    }
}

/// The app's user with this Authy id; a malformed or unknown id is "User not found".
pub async fn load(state: &AppState, app_id: i64, id: &str) -> Result<User, ApiError> {
    let id: i64 = id.trim().parse().map_err(|_| ApiError::user_not_found())?;
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND app_id = $2 AND deleted = $3"
    ))
    .bind(id)
    .bind(app_id)
    .bind(0i64)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(ApiError::user_not_found)?;
    Ok(user_from_row(&row))
}

/// Active devices of a user (the push-capable app installs of issue 6).
pub async fn devices(state: &AppState, user_id: i64) -> Result<Vec<String>, ApiError> {
    let rows =
        sqlx::query("SELECT os_type FROM devices WHERE user_id = $1 AND revoked = $2 ORDER BY id")
            .bind(user_id)
            .bind(0i64)
            .fetch_all(&state.db.pool)
            .await?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

/// `+1-XXX-XXX-XX67`: the country code and the last two digits.
pub fn masked_phone(country_code: i64, cellphone: &str) -> String {
    let last: String = cellphone
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("+{country_code}-XXX-XXX-XX{last}")
}

pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    let allowed = raw
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+'));
    (allowed && (4..=15).contains(&digits.len())).then_some(digits)
}

pub fn parse_country_code(raw: &str) -> Option<i64> {
    let code: i64 = raw.trim().trim_start_matches('+').parse().ok()?;
    (1..=999).contains(&code).then_some(code)
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && email.len() <= 254
}

pub async fn create(State(state): State<AppState>, call: Call) -> Response {
    call.answer(create_user(&state, &call).await)
}

async fn create_user(state: &AppState, call: &Call) -> Result<(StatusCode, Value), ApiError> {
    let p = &call.params;
    let email = p.text("user[email]").unwrap_or("");
    let custom_user_id = p.text("user[custom_user_id]").or(p.text("custom_user_id"));
    let phone = p.text("user[cellphone]").map(normalize_phone);
    let country = p.text("user[country_code]").map(parse_country_code);
    let mut errors = serde_json::Map::new();
    if (custom_user_id.is_none() || !email.is_empty()) && !valid_email(email) {
        errors.insert("email".into(), json!("is invalid"));
    }
    let (cellphone, country_code) = match (phone, country) {
        (Some(Some(phone)), Some(Some(country))) => (phone, country),
        (None, None) if custom_user_id.is_some() => (String::new(), 0),
        (phone, country) => {
            if !matches!(phone, Some(Some(_))) {
                errors.insert("cellphone".into(), json!("is invalid"));
            }
            if !matches!(country, Some(Some(_))) {
                errors.insert("country_code".into(), json!("is not supported"));
            }
            (String::new(), 0)
        }
    };
    if !errors.is_empty() {
        let mut error = ApiError::new(StatusCode::BAD_REQUEST, "60027", "User was not valid");
        for (k, v) in &errors {
            error = error.with(k, v.clone());
        }
        let mut body_errors = errors.clone();
        body_errors.insert("message".into(), json!("User was not valid"));
        return Err(error.with("errors", Value::Object(body_errors)));
    }
    // Users are keyed by phone (Authy's rule): the same phone gets the same id back.
    if !cellphone.is_empty() {
        let existing = sqlx::query("SELECT id FROM users WHERE app_id = $1 AND country_code = $2 AND cellphone = $3 AND deleted = $4")
            .bind(call.app.id)
            .bind(country_code)
            .bind(&cellphone)
            .bind(0i64)
            .fetch_optional(&state.db.pool)
            .await?;
        if let Some(row) = existing {
            let id: i64 = row.get(0);
            return Ok((
                StatusCode::OK,
                json!({"message": "User created successfully.", "user": {"id": id}, "success": true}),
            ));
        }
    }
    let mut seed = zeroize::Zeroizing::new([0u8; 20]);
    rand::fill(&mut seed[..]);
    let created = now();
    let mut tx = state.db.writer.begin().await?;
    let row = sqlx::query(
        "INSERT INTO users (app_id, email, cellphone, country_code, custom_user_id, seed_sealed, confirmed, last_step_app, last_step_sms, failed_attempts, locked_until, authenticator_sealed, authenticator_created_at, authenticator_confirmed, last_step_authenticator, deleted, created_at)
         VALUES ($1, $2, $3, $4, $5, '', $6, 0, 0, 0, 0, NULL, 0, $7, 0, $8, $9) RETURNING id",
    )
    .bind(call.app.id)
    .bind(email)
    .bind(&cellphone)
    .bind(country_code)
    .bind(custom_user_id)
    .bind(0i64)
    .bind(0i64)
    .bind(0i64)
    .bind(created)
    .fetch_one(&mut *tx)
    .await?;
    let id: i64 = row.get(0);
    // The seed is sealed to its row, so it cannot be moved to another user.
    let sealed = state.master.seal(&format!("users.seed:{id}"), &seed[..]);
    sqlx::query("UPDATE users SET seed_sealed = $1 WHERE id = $2")
        .bind(sealed)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    crate::api::record_event(state, call.app.id, "user_created").await;
    Ok((
        StatusCode::OK,
        json!({"message": "User created successfully.", "user": {"id": id}, "success": true}),
    ))
}

pub async fn status(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let result = async {
        let user = load(&state, call.app.id, &id).await?;
        let devices = devices(&state, user.id).await?;
        let phone_tail: String = user
            .cellphone
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Ok((
            StatusCode::OK,
            json!({
                "status": {
                    "authy_id": user.id,
                    "confirmed": user.confirmed,
                    "registered": !devices.is_empty(),
                    "country_code": user.country_code,
                    "phone_number": format!("XXX-XXX-{phone_tail}"),
                    "email": user.email,
                    "devices": devices,
                    "has_hard_token": false,
                    "account_disabled": false,
                    "detailed_devices": [],
                },
                "message": "User status.",
                "success": true,
            }),
        ))
    }
    .await;
    call.answer(result)
}

pub async fn delete(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let result = async {
        let user = load(&state, call.app.id, &id).await?;
        let mut tx = state.db.writer.begin().await?;
        // The seed is destroyed with the user; the row stays so ids are never reused.
        sqlx::query("UPDATE users SET deleted = $1, seed_sealed = '', authenticator_sealed = NULL WHERE id = $2").bind(1i64).bind(user.id).execute(&mut *tx).await?;
        sqlx::query("UPDATE devices SET revoked = $1 WHERE user_id = $2").bind(1i64).bind(user.id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok((StatusCode::OK, json!({"message": "User was added to remove.", "success": true})))
    }
    .await;
    call.answer(result)
}

pub async fn registration_status(State(state): State<AppState>, call: Call) -> Response {
    let result = async {
        let custom = call.params.text("custom_user_id").ok_or_else(|| ApiError::invalid_parameter("custom_user_id is required."))?;
        let row = sqlx::query("SELECT id, confirmed FROM users WHERE app_id = $1 AND custom_user_id = $2 AND deleted = $3 ORDER BY id DESC")
            .bind(call.app.id)
            .bind(custom)
            .bind(0i64)
            .fetch_optional(&state.db.pool)
            .await?
            .ok_or_else(ApiError::user_not_found)?;
        let id: i64 = row.get(0);
        let confirmed = row.get::<i64, _>(1) != 0;
        let has_device = !devices(&state, id).await?.is_empty();
        let status = if has_device || confirmed { "completed" } else { "pending" };
        Ok((StatusCode::OK, json!({"registration": {"status": status, "authy_id": id}, "message": "Registration status.", "success": true})))
    }
    .await;
    call.answer(result)
}
