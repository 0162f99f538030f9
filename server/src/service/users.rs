//! Users: create (keyed by phone, as Authy does), status, delete, registration status, and
//! the phone number rules the other services share.

use serde_json::{Value, json};

use crate::error::{ApiError, Refusal};
use crate::state::{AppState, now};
pub use crate::store::users::User;
use crate::store::users::{self as stored, NewUser};

/// The app's user with this Authy id; a malformed or unknown id is "User not found".
pub async fn load(state: &AppState, app_id: i64, id: &str) -> Result<User, ApiError> {
    let id: i64 = id.trim().parse().map_err(|_| ApiError::user_not_found())?;
    stored::load(&state.db, app_id, id)
        .await?
        .ok_or_else(ApiError::user_not_found)
}

/// Active devices of a user (their OS types, oldest first).
pub async fn devices(state: &AppState, user_id: i64) -> Result<Vec<String>, ApiError> {
    Ok(crate::store::devices::active_os_types(&state.db, user_id).await?)
}

/// `+1-XXX-XXX-XX67`: the country code and the last two digits.
pub fn masked_phone(country_code: i64, cellphone: &str) -> String {
    format!("+{country_code}-XXX-XXX-XX{}", last_chars(cellphone, 2))
}

fn last_chars(text: &str, n: usize) -> String {
    let skip = text.chars().count().saturating_sub(n);
    text.chars().skip(skip).collect()
}

/// The digits of a phone number written with the usual separators; 4 to 15 digits.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    let allowed = raw
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+'));
    (allowed && (4..=15).contains(&digits.len())).then_some(digits)
}

/// A country calling code, `+` optional: 1 to 999.
pub fn parse_country_code(raw: &str) -> Option<i64> {
    let code: i64 = raw.trim().trim_start_matches('+').parse().ok()?;
    (1..=999).contains(&code).then_some(code)
}

pub fn valid_email(email: &str) -> bool {
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

/// A new user as the request gave it; `None` for a field that was not sent.
pub struct NewUserRequest<'a> {
    pub email: &'a str,
    pub custom_user_id: Option<&'a str>,
    pub cellphone: Option<&'a str>,
    pub country_code: Option<&'a str>,
}

/// The phone (digits, country code) of a valid request, or its errors by field.
fn checked_phone(
    request: &NewUserRequest<'_>,
) -> Result<(String, i64), serde_json::Map<String, Value>> {
    let phone = request.cellphone.map(normalize_phone);
    let country = request.country_code.map(parse_country_code);
    let mut errors = serde_json::Map::new();
    let email = request.email;
    if (request.custom_user_id.is_none() || !email.is_empty()) && !valid_email(email) {
        errors.insert("email".into(), json!("is invalid"));
    }
    let found = match (phone, country) {
        (Some(Some(phone)), Some(Some(country))) => (phone, country),
        (None, None) if request.custom_user_id.is_some() => (String::new(), 0),
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
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

fn invalid_user(errors: serde_json::Map<String, Value>) -> ApiError {
    let mut error = ApiError::new(Refusal::BadRequest, "60027", "User was not valid");
    for (k, v) in &errors {
        error = error.with(k, v.clone());
    }
    let mut body_errors = errors;
    body_errors.insert("message".into(), json!("User was not valid"));
    error.with("errors", Value::Object(body_errors))
}

fn created(id: i64) -> Value {
    json!({"message": "User created successfully.", "user": {"id": id}, "success": true})
}

pub async fn create(
    state: &AppState,
    app_id: i64,
    request: NewUserRequest<'_>,
) -> Result<Value, ApiError> {
    let (cellphone, country_code) = checked_phone(&request).map_err(invalid_user)?;
    // Users are keyed by phone (Authy's rule): the same phone gets the same id back.
    if !cellphone.is_empty()
        && let Some(id) = stored::id_by_phone(&state.db, app_id, country_code, &cellphone).await?
    {
        return Ok(created(id));
    }
    let mut seed = zeroize::Zeroizing::new([0u8; 20]);
    rand::fill(&mut seed[..]);
    let new = NewUser {
        app_id,
        email: request.email,
        cellphone: &cellphone,
        country_code,
        custom_user_id: request.custom_user_id,
        created_at: now(),
    };
    // The seed is sealed to its row, so it cannot be moved to another user.
    let seal = |id: i64| state.master.seal(&format!("users.seed:{id}"), &seed[..]);
    let id = stored::insert(&state.db, new, seal).await?;
    super::stats::record_event(state, app_id, "user_created").await;
    Ok(created(id))
}

pub async fn status(state: &AppState, app_id: i64, id: &str) -> Result<Value, ApiError> {
    let user = load(state, app_id, id).await?;
    let devices = devices(state, user.id).await?;
    Ok(json!({
        "status": {
            "authy_id": user.id,
            "confirmed": user.confirmed,
            "registered": !devices.is_empty(),
            "country_code": user.country_code,
            "phone_number": format!("XXX-XXX-{}", last_chars(&user.cellphone, 4)),
            "email": user.email,
            "devices": devices,
            "has_hard_token": false,
            "account_disabled": false,
            "detailed_devices": [],
        },
        "message": "User status.",
        "success": true,
    }))
}

pub async fn delete(state: &AppState, app_id: i64, id: &str) -> Result<Value, ApiError> {
    let user = load(state, app_id, id).await?;
    // The seed is destroyed with the user; the row stays so ids are never reused.
    stored::delete(&state.db, user.id).await?;
    Ok(json!({"message": "User was added to remove.", "success": true}))
}

pub async fn registration_status(
    state: &AppState,
    app_id: i64,
    custom_user_id: Option<&str>,
) -> Result<Value, ApiError> {
    let custom =
        custom_user_id.ok_or_else(|| ApiError::invalid_parameter("custom_user_id is required."))?;
    let (id, confirmed) = stored::by_custom_id(&state.db, app_id, custom)
        .await?
        .ok_or_else(ApiError::user_not_found)?;
    let has_device = !devices(state, id).await?.is_empty();
    let status = if has_device || confirmed {
        "completed"
    } else {
        "pending"
    };
    Ok(
        json!({"registration": {"status": status, "authy_id": id}, "message": "Registration status.", "success": true}),
    )
}
