//! OneTouch approval requests: created by the app's backend, answered on a device (issue 6),
//! expired by the server clock. Every state change is sent to the app's callback URL.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::Row;

use super::users;
use crate::delivery::callbacks;
use crate::error::ApiError;
use crate::state::{AppState, Call, now};

const MAX_MESSAGE: usize = 1024;
const MAX_DETAILS: usize = 64;

fn pairs(list: &[(&str, &str)]) -> Value {
    Value::Array(list.iter().map(|(k, v)| json!([k, v])).collect())
}

/// Stored `[[key, value], …]` as a JSON object in the same order.
pub fn object(stored: &str) -> Value {
    let list: Vec<(String, String)> = serde_json::from_str(stored).unwrap_or_default();
    Value::Object(
        list.into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

/// An approval request as it is stored.
struct NewRequest<'a> {
    uuid: &'a str,
    app_id: i64,
    user_id: i64,
    message: &'a str,
    details: String,
    hidden: String,
    logos: String,
    seconds: i64,
    time: i64,
    number: i64,
    choices: String,
}

/// Inserts the request unless its user or app already has the most pending requests
/// allowed. The app's row is locked first (an update of it), so that concurrent creations,
/// on any instance, count and insert one after another.
async fn insert_within_limits(state: &AppState, r: &NewRequest<'_>) -> Result<(), ApiError> {
    let limits = state.settings.approvals;
    let mut tx = state.db.writer.begin().await?;
    sqlx::query("UPDATE apps SET name = name WHERE id = $1")
        .bind(r.app_id)
        .execute(&mut *tx)
        .await?;
    let pending = "SELECT COUNT(*) FROM approval_requests WHERE status = 'pending' AND (expires_at = 0 OR expires_at > $1)";
    let per_app: i64 = sqlx::query(&format!("{pending} AND app_id = $2"))
        .bind(r.time)
        .bind(r.app_id)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let per_user: i64 = sqlx::query(&format!("{pending} AND user_id = $2"))
        .bind(r.time)
        .bind(r.user_id)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    if per_app >= limits.pending_per_app || per_user >= limits.pending_per_user {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "60003",
            "Too many pending approval requests. Wait for some to be answered or to expire.",
        ));
    }
    sqlx::query(
        "INSERT INTO approval_requests (uuid, app_id, user_id, message, details, hidden_details, logos, status, seconds_to_expire, created_at, expires_at, updated_at, processed_at, notified, nonce, number, number_choices)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $9, 0, $11, $12, $13, $14)",
    )
    .bind(r.uuid)
    .bind(r.app_id)
    .bind(r.user_id)
    .bind(r.message)
    .bind(&r.details)
    .bind(&r.hidden)
    .bind(&r.logos)
    .bind(r.seconds)
    .bind(r.time)
    .bind(r.time + r.seconds)
    .bind(0i64)
    .bind(crate::api::random_token())
    .bind(r.number)
    .bind(&r.choices)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let result = async {
        let user = users::load(&state, call.app.id, &id).await?;
        let p = &call.params;
        let message = p
            .text("message")
            .ok_or_else(|| ApiError::invalid_parameter("The param message is required."))?;
        if message.chars().count() > MAX_MESSAGE {
            return Err(ApiError::invalid_parameter(
                "The param message is too long.",
            ));
        }
        let details = p.section("details");
        let hidden = p.section("hidden_details");
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
        // What the phone shows must be shown as it is: no line breaks, bidirectional or
        // invisible characters, no two keys that read alike (docs/device-protocol.md). The
        // device refuses such a request too; refusing it here tells the bank why.
        let shown: Vec<(String, String)> = details
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Err(e) = countersign_protocol::check_displayable(message, &shown) {
            return Err(ApiError::invalid_parameter(format!(
                "The request cannot be displayed on a phone: {e}."
            )));
        }
        let asked = p.number("seconds_to_expire")?;
        if asked.is_some_and(|s| s < 0) {
            return Err(ApiError::invalid_parameter(
                "seconds_to_expire must be 0 (never) or a positive number of seconds.",
            ));
        }
        // Bounded by the server's maximum; "never" (0) gets the maximum (docs/server-api.md).
        let seconds = state.settings.approvals.lifetime(asked);
        let mut logos: Vec<Value> = Vec::new();
        for (key, value) in p.pairs() {
            // logos[0][res]=default, logos[0][url]=https://…
            if let Some(rest) = key.strip_prefix("logos[") {
                let Some((index, field)) = rest.split_once("][") else {
                    continue;
                };
                let Ok(index) = index.parse::<usize>() else {
                    continue;
                };
                let field = field.trim_end_matches(']');
                if index >= 8 || !matches!(field, "res" | "url") {
                    return Err(ApiError::invalid_parameter(
                        "Invalid logos list. Only res and url are accepted.",
                    ));
                }
                while logos.len() <= index {
                    logos.push(json!({}));
                }
                logos[index][field] = json!(value);
            }
        }
        // Number matching: the bank's page shows this number and the device must pick it
        // among choices fixed now, so that every fetch of the request offers the same ones.
        let (number, choices) = match p.text("number_matching") {
            None | Some("false" | "0") => (0, String::new()),
            Some("true" | "1") => {
                let choices = super::number_matching::draw();
                (choices.right, choices.to_json())
            }
            Some(_) => {
                return Err(ApiError::invalid_parameter(
                    "number_matching must be true or false.",
                ));
            }
        };
        let uuid = uuid::Uuid::new_v4().to_string();
        let time = now();
        let stored = NewRequest {
            uuid: &uuid,
            app_id: call.app.id,
            user_id: user.id,
            message,
            details: pairs(&details).to_string(),
            hidden: pairs(&hidden).to_string(),
            logos: Value::Array(logos).to_string(),
            seconds,
            time,
            number,
            choices,
        };
        insert_within_limits(&state, &stored).await?;
        super::record_event(&state, call.app.id, "approval_request").await;
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
        Ok((
            StatusCode::OK,
            json!({"approval_request": request, "success": true}),
        ))
    }
    .await;
    call.answer(result)
}

fn iso8601(unix: i64) -> Value {
    if unix <= 0 {
        return Value::Null;
    }
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
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

pub async fn status(
    State(state): State<AppState>,
    Path((_, uuid)): Path<(String, String)>,
    call: Call,
) -> Response {
    let result = async {
        // Expiry is enforced by the server clock, on read as well as by the sweeper.
        callbacks::expire_due(&state.db).await?;
        let row = sqlx::query(
            "SELECT r.user_id, r.status, r.seconds_to_expire, r.created_at, r.updated_at, r.processed_at, r.notified, r.expires_at, u.email, r.number
             FROM approval_requests r JOIN users u ON u.id = r.user_id WHERE r.uuid = $1 AND r.app_id = $2",
        )
        .bind(&uuid)
        .bind(call.app.id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("Approval request not found."))?;
        let user_id: i64 = row.get(0);
        let mut body = json!({
            "approval_request": {
                "_app_name": call.app.name,
                "_app_serial_id": call.app.id,
                "_authy_id": user_id,
                "_id": uuid,
                "_user_email": row.get::<String, _>(8),
                "app_id": call.app.id.to_string(),
                "created_at": iso8601(row.get(3)),
                "notified": row.get::<i64, _>(6) != 0,
                "processed_at": iso8601(row.get(5)),
                "seconds_to_expire": row.get::<i64, _>(2),
                "expires_at": iso8601(row.get(7)),
                "status": row.get::<String, _>(1),
                "updated_at": iso8601(row.get(4)),
                "user_id": user_id.to_string(),
                "uuid": uuid,
            },
            "success": true,
        });
        if row.get::<i64, _>(9) > 0 {
            body["approval_request"]["number"] = json!(row.get::<i64, _>(9));
        }
        if let Some(evidence) = callbacks::evidence(&state.db, &uuid).await? {
            body["approval_request"]["signed_answer"] = evidence;
        }
        Ok((StatusCode::OK, body))
    }
    .await;
    call.answer(result)
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
