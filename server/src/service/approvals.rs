//! OneTouch approval requests: creating one (bounded in size, lifetime and number pending),
//! and its status as the app sees it. State changes that queue a callback are in
//! `crate::delivery::callbacks`.

use serde_json::{Value, json};

use super::{number_matching, users};
use crate::delivery::callbacks;
use crate::error::{ApiError, Refusal};
use crate::state::{App, AppState, now};
use crate::store::approvals::{self as stored, Limits, NewRequest};

/// Longest message, in characters.
const MAX_MESSAGE: usize = 1024;
/// Most details and hidden details together.
const MAX_DETAILS: usize = 64;
/// Most logos.
const MAX_LOGOS: usize = 8;

fn pairs(list: &[(&str, &str)]) -> Value {
    Value::Array(list.iter().map(|(k, v)| json!([k, v])).collect())
}

/// A new request as the API received it.
pub struct CreateRequest<'a> {
    pub message: Option<&'a str>,
    pub details: Vec<(&'a str, &'a str)>,
    pub hidden_details: Vec<(&'a str, &'a str)>,
    /// As sent: checked to be a number after the content.
    pub seconds_to_expire: Option<&'a str>,
    /// Every parameter, for the `logos[N][res|url]` entries.
    pub all_params: &'a [(String, String)],
    pub number_matching: Option<&'a str>,
}

/// Checks the message and details: present, bounded, displayable on a phone.
fn check_content<'a>(request: &CreateRequest<'a>) -> Result<&'a str, ApiError> {
    let message = request
        .message
        .ok_or_else(|| ApiError::invalid_parameter("The param message is required."))?;
    if message.chars().count() > MAX_MESSAGE {
        return Err(ApiError::invalid_parameter(
            "The param message is too long.",
        ));
    }
    let (details, hidden) = (&request.details, &request.hidden_details);
    if details.len() + hidden.len() > MAX_DETAILS {
        return Err(ApiError::invalid_parameter("Too many details."));
    }
    if details.iter().any(|(k, v)| k.is_empty() || v.is_empty()) {
        return Err(ApiError::invalid_parameter(
            "The param details can not have empty values.",
        ));
    }
    if hidden.iter().any(|(k, v)| k.is_empty() || v.is_empty()) {
        return Err(ApiError::invalid_parameter(
            "The param hidden details can not have empty values.",
        ));
    }
    let shown: Vec<(String, String)> = details
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Err(e) = countersign_protocol::check_displayable(message, &shown) {
        return Err(ApiError::invalid_parameter(format!(
            "The request cannot be displayed on a phone: {e}."
        )));
    }
    Ok(message)
}

/// The `logos[N][res|url]` parameters as a list of objects.
fn logos(params: &[(String, String)]) -> Result<Vec<Value>, ApiError> {
    let mut logos: Vec<Value> = Vec::new();
    for (key, value) in params {
        let Some(rest) = key.strip_prefix("logos[") else {
            continue;
        };
        let Some((index, field)) = rest.split_once("][") else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        let field = field.trim_end_matches(']');
        if index >= MAX_LOGOS || !matches!(field, "res" | "url") {
            return Err(ApiError::invalid_parameter(
                "Invalid logos list. Only res and url are accepted.",
            ));
        }
        while logos.len() <= index {
            logos.push(json!({}));
        }
        logos[index][field] = json!(value);
    }
    Ok(logos)
}

/// (right number, stored choices), or (0, "") without number matching.
fn number_choices(asked: Option<&str>) -> Result<(i64, String), ApiError> {
    match asked {
        None | Some("false" | "0") => Ok((0, String::new())),
        Some("true" | "1") => {
            let choices = number_matching::draw();
            Ok((choices.right, choices.to_json()))
        }
        Some(_) => Err(ApiError::invalid_parameter(
            "number_matching must be true or false.",
        )),
    }
}

/// The server's approval limits with the app's own lifetimes (0: the server's) in place.
fn app_limits(state: &AppState, app: &App) -> crate::state::ApprovalLimits {
    let server = state.settings.approvals;
    let or_server = |own: i64, theirs: i64| if own > 0 { own } else { theirs };
    crate::state::ApprovalLimits::new(
        or_server(app.approval_default_seconds, server.default_seconds),
        or_server(app.approval_max_seconds, server.max_seconds),
        server.pending_per_user,
        server.pending_per_app,
    )
}

pub async fn create(
    state: &AppState,
    app: &App,
    id: &str,
    request: CreateRequest<'_>,
) -> Result<Value, ApiError> {
    let user = users::load(state, app.id, id).await?;
    let message = check_content(&request)?;
    let asked = super::number_param("seconds_to_expire", request.seconds_to_expire)?;
    if asked.is_some_and(|s| s < 0) {
        return Err(ApiError::invalid_parameter(
            "seconds_to_expire must be 0 (never) or a positive number of seconds.",
        ));
    }
    let seconds = app_limits(state, app).lifetime(asked);
    let logos = logos(request.all_params)?;
    // The app's default (set in the console) when the request does not say.
    let app_default = if app.number_matching { "true" } else { "false" };
    let (number, choices) = number_choices(request.number_matching.or(Some(app_default)))?;
    let uuid = uuid::Uuid::new_v4().to_string();
    let stored = NewRequest {
        uuid: &uuid,
        app_id: app.id,
        user_id: user.id,
        message,
        details: pairs(&request.details).to_string(),
        hidden: pairs(&request.hidden_details).to_string(),
        logos: Value::Array(logos).to_string(),
        seconds,
        time: now(),
        nonce: crate::clock::random_token(),
        number,
        choices,
    };
    let limits = state.settings.approvals;
    let limits = Limits {
        per_app: limits.pending_per_app,
        per_user: limits.pending_per_user,
    };
    if !stored::insert_within(&state.db, &stored, limits).await? {
        return Err(ApiError::new(
            Refusal::TooManyRequests,
            "60003",
            "Too many pending approval requests. Wait for some to be answered or to expire.",
        ));
    }
    super::stats::record_event(state, app.id, "approval_request").await;
    crate::delivery::notify_user(
        state.db.clone(),
        state.notifier.clone(),
        user.id,
        uuid.clone(),
    );
    let mut request = json!({"uuid": uuid});
    if number > 0 {
        request["number"] = json!(number);
    }
    Ok(json!({"approval_request": request, "success": true}))
}

/// Unix seconds as an ISO 8601 UTC time; null for 0 (never).
fn iso8601(unix: i64) -> Value {
    if unix <= 0 {
        return Value::Null;
    }
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    json!(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

/// The device that answered, with the fields Authy documents for it. Countersign keeps no
/// geolocation and no sign-in IPs, so those are null rather than invented.
async fn device_object(
    state: &AppState,
    user_id: i64,
    evidence: Option<&Value>,
) -> Result<Value, ApiError> {
    let Some(device_id) = evidence.and_then(|e| e.get("device_id")?.as_i64()) else {
        return Ok(Value::Null);
    };
    let Some(device) = stored::answering_device(&state.db, device_id, user_id).await? else {
        return Ok(Value::Null);
    };
    Ok(json!({
        "id": device.id,
        "os_type": device.os_type,
        "registration_date": device.registered_at,
        "last_sign_in": device.last_seen,
        "registration_method": "registration_code",
        "last_account_recovery_at": null,
        "city": null,
        "country": null,
        "region": null,
        "ip": null,
        "registration_city": null,
        "registration_country": null,
        "registration_region": null,
        "registration_ip": null,
    }))
}

/// The fields of Authy's approval request object, with the types the libraries check.
fn authy_object(app: &App, uuid: &str, row: &stored::Status) -> Value {
    let logos: Value = serde_json::from_str(&row.logos).unwrap_or(Value::Null);
    let logos = match logos {
        Value::Array(list) if !list.is_empty() => Value::Array(list),
        _ => Value::Null,
    };
    json!({
        "_app_name": app.name,
        "_app_serial_id": app.id,
        "_authy_id": row.user_id,
        "_id": uuid,
        "_user_email": row.user_email,
        "app_id": app.id.to_string(),
        "created_at": iso8601(row.created_at),
        "notified": row.notified,
        "processed_at": iso8601(row.processed_at),
        "seconds_to_expire": row.seconds_to_expire,
        "status": row.status,
        "updated_at": iso8601(row.updated_at),
        "user_id": row.user_id.to_string(),
        "uuid": uuid,
        "message": row.message,
        "details": stored::details_object(&row.details),
        "hidden_details": stored::details_object(&row.hidden_details),
        "logos": logos,
    })
}

/// The request's status, after expiring what is due. Countersign's own additions (the
/// expiry time, the device's signed answer) are under `countersign`, a name Authy never used.
pub async fn status(state: &AppState, app: &App, uuid: &str) -> Result<Value, ApiError> {
    callbacks::expire_due(&state.db, super::audit::chain_signer(state)).await?;
    let row = stored::status(&state.db, uuid, app.id)
        .await?
        .ok_or_else(ApiError::approval_request_not_found)?;
    let evidence = callbacks::evidence(&state.db, uuid).await?;
    let mut request = authy_object(app, uuid, &row);
    request["device"] = device_object(state, row.user_id, evidence.as_ref()).await?;
    if row.number > 0 {
        request["number"] = json!(row.number);
    }
    request["countersign"] = json!({
        "expires_at": iso8601(row.expires_at),
        "signed_answer": evidence,
    });
    Ok(json!({"approval_request": request, "success": true}))
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_dates() {
        assert_eq!(super::iso8601(0), serde_json::Value::Null);
        assert_eq!(
            super::iso8601(1_700_000_000),
            serde_json::json!("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            super::iso8601(951_782_400),
            serde_json::json!("2000-02-29T00:00:00Z")
        );
    }
}
