//! `users/{id}/register_activity`: an app tells the server what happened to a user (banned,
//! unbanned, a password reset, a cookie login), as authy-client's `registerActivity` sends it.
//! The activity is stored as reported, bounded in size; nothing acts on it yet.

use serde_json::{Map, Value, json};

use super::users;
use crate::error::ApiError;
use crate::state::{AppState, now};
use crate::store::activities::{self as stored, NewActivity};

/// The activity types Authy accepts (authy-client's `activity` enum).
pub const TYPES: [&str; 4] = ["banned", "cookie_login", "password_reset", "unbanned"];
/// Most `data[…]` entries.
const MAX_DATA_ENTRIES: usize = 32;
/// Longest `data` key and value, in characters.
const MAX_DATA_KEY: usize = 64;
const MAX_DATA_VALUE: usize = 1024;

/// An activity as the request gave it.
pub struct ActivityRequest<'a> {
    pub kind: Option<&'a str>,
    pub data: Vec<(&'a str, &'a str)>,
    /// `data` sent as a plain value instead of an object (`data=x`).
    pub data_is_scalar: bool,
    pub user_ip: Option<&'a str>,
}

fn checked_kind(kind: Option<&str>) -> Result<&str, ApiError> {
    let kind = kind.ok_or_else(|| {
        ApiError::cannot_create_activity("The param type is required.")
            .with("type", json!("is required"))
    })?;
    if !TYPES.contains(&kind) {
        return Err(ApiError::cannot_create_activity(format!(
            "The param type must be one of {}.",
            TYPES.join(", ")
        ))
        .with("type", json!("is invalid")));
    }
    Ok(kind)
}

fn checked_data(request: &ActivityRequest<'_>) -> Result<Value, ApiError> {
    let invalid =
        |message: &str| ApiError::cannot_create_activity(message).with("data", json!("is invalid"));
    if request.data_is_scalar {
        return Err(invalid("The param data must be an object."));
    }
    if request.data.len() > MAX_DATA_ENTRIES {
        return Err(invalid("The param data has too many entries."));
    }
    let mut data = Map::new();
    for (key, value) in &request.data {
        if key.is_empty() || key.chars().count() > MAX_DATA_KEY {
            return Err(invalid("The param data has an empty or too long key."));
        }
        if value.chars().count() > MAX_DATA_VALUE {
            return Err(invalid("The param data has a too long value."));
        }
        data.insert((*key).to_owned(), json!(value));
    }
    Ok(Value::Object(data))
}

fn checked_ip(ip: Option<&str>) -> Result<Option<&str>, ApiError> {
    match ip {
        Some(text) if text.parse::<std::net::IpAddr>().is_err() => Err(
            ApiError::invalid_parameter("The param user_ip is not an IP address."),
        ),
        other => Ok(other),
    }
}

pub async fn register(
    state: &AppState,
    app_id: i64,
    id: &str,
    request: ActivityRequest<'_>,
) -> Result<Value, ApiError> {
    let user = users::load(state, app_id, id).await?;
    let kind = checked_kind(request.kind)?;
    let data = checked_data(&request)?;
    let user_ip = checked_ip(request.user_ip)?;
    let activity = NewActivity {
        app_id,
        user_id: user.id,
        kind,
        data: &data.to_string(),
        user_ip,
        created_at: now(),
    };
    stored::insert(&state.db, activity).await?;
    Ok(json!({"message": "Activity was created.", "success": true}))
}
