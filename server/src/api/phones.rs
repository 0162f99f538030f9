//! Phone verification (a code to prove a number) and offline number information.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use super::users::{normalize_phone, parse_country_code};
use crate::delivery::{Channel, Message};
use crate::error::ApiError;
use crate::state::{AppState, Call, now};
use crate::templates;

const CODE_TTL: i64 = 600;
const MAX_CHECKS: i64 = 5;

fn number(call: &Call) -> Result<(i64, String), ApiError> {
    let phone = call.params.text("phone_number").and_then(normalize_phone);
    let country = call
        .params
        .text("country_code")
        .and_then(parse_country_code);
    match (phone, country) {
        (Some(phone), Some(country)) => Ok((country, phone)),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "60033",
            "Phone number is invalid",
        )),
    }
}

fn code_hash(uuid: &str, code: &str) -> String {
    Sha256::digest(format!("{uuid}:{code}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub async fn start(State(state): State<AppState>, call: Call) -> Response {
    let result = async {
        let (country, phone) = number(&call)?;
        let via = call.params.text("via").unwrap_or("sms");
        let channel = match via {
            "sms" => Channel::Sms,
            "call" => Channel::Call,
            _ => return Err(ApiError::invalid_parameter("via must be sms or call.")),
        };
        let length = call.params.number("code_length")?.unwrap_or(4);
        if !(4..=10).contains(&length) {
            return Err(ApiError::invalid_parameter("code_length must be between 4 and 10."));
        }
        let code: String = (0..length).map(|_| char::from(b'0' + rand::random_range(0..10u8))).collect();
        let uuid = uuid::Uuid::new_v4().to_string();
        let time = now();
        sqlx::query("INSERT INTO phone_verifications (app_id, country_code, phone, code_hash, uuid, attempts, expires_at, verified, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)")
            .bind(call.app.id)
            .bind(country)
            .bind(&phone)
            .bind(code_hash(&uuid, &code))
            .bind(&uuid)
            .bind(time + CODE_TTL)
            .bind(0i64)
            .bind(time)
            .execute(&state.db.writer)
            .await?;
        let locale = call.params.text("locale").unwrap_or_else(|| templates::locale_for_country(country));
        let body = match channel {
            Channel::Sms => templates::sms(locale, &call.app.name, &code),
            Channel::Call => templates::voice(locale, &call.app.name, &code),
        };
        let to = format!("+{country}{phone}");
        if let Err(e) = state.sender.send(&Message { app_id: call.app.id, channel, to: to.clone(), body }).await {
            tracing::warn!(error = %e, "phone verification delivery failed");
            return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "60008", "The message could not be delivered. Try again later."));
        }
        let message = match channel {
            Channel::Sms => format!("Text message sent to {to}."),
            Channel::Call => format!("Call to {to} is ringing."),
        };
        Ok((StatusCode::OK, json!({"carrier": "unknown", "is_cellphone": true, "message": message, "seconds_to_expire": CODE_TTL - 1, "uuid": uuid, "success": true})))
    }
    .await;
    call.answer(result)
}

pub async fn check(State(state): State<AppState>, call: Call) -> Response {
    call.answer(check_code(&state, &call).await)
}

/// The verdict is the write's: a wrong code is counted only while the verification has
/// attempts left (`attempts < MAX_CHECKS` in the same statement), a right one is accepted
/// only under the same condition, so a burst of concurrent checks gets at most
/// `MAX_CHECKS` codes compared, on any number of instances. A right code sent again after it
/// was accepted is answered as correct and costs no attempt.
async fn check_code(state: &AppState, call: &Call) -> Result<(StatusCode, Value), ApiError> {
    let (country, phone) = number(call)?;
    let code = call
        .params
        .text("verification_code")
        .ok_or_else(|| ApiError::invalid_parameter("verification_code is required."))?;
    let time = now();
    let row = sqlx::query("SELECT id, uuid, code_hash, verified FROM phone_verifications WHERE app_id = $1 AND country_code = $2 AND phone = $3 AND expires_at > $4 ORDER BY id DESC")
        .bind(call.app.id)
        .bind(country)
        .bind(&phone)
        .bind(time)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| no_pending(country, &phone))?;
    let (id, uuid, stored, verified): (i64, String, String, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let correct = bool::from(code_hash(&uuid, code).as_bytes().ct_eq(stored.as_bytes()));
    let write = if correct {
        "UPDATE phone_verifications SET verified = 1 WHERE id = $1 AND verified = 0 AND attempts < $2"
    } else {
        "UPDATE phone_verifications SET attempts = attempts + 1 WHERE id = $1 AND verified = 0 AND attempts < $2"
    };
    let written = sqlx::query(write)
        .bind(id)
        .bind(MAX_CHECKS)
        .execute(&state.db.writer)
        .await?
        .rows_affected()
        == 1;
    match (correct, written) {
        (true, true) => Ok(correct_answer()),
        (false, true) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "60022",
            "Verification code is incorrect",
        )),
        // Not written: already verified, or out of attempts. A verified number answers its
        // right code as correct; anything else is refused without comparing.
        _ if verified != 0 || already_verified(state, id).await? => match correct {
            true => Ok(correct_answer()),
            false => Err(no_pending(country, &phone)),
        },
        _ => Err(ApiError::too_many_attempts()),
    }
}

fn correct_answer() -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({"message": "Verification code is correct.", "success": true}),
    )
}

fn no_pending(country: i64, phone: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "60023",
        format!("No pending verifications for +{country} {phone} found."),
    )
}

async fn already_verified(state: &AppState, id: i64) -> Result<bool, ApiError> {
    let row = sqlx::query("SELECT verified FROM phone_verifications WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db.writer)
        .await?;
    Ok(row.get::<i64, _>(0) != 0)
}

/// Offline information: the number's shape only (no carrier lookup leaves the server).
pub async fn info(call: Call) -> Response {
    let result = number(&call).map(|(country, phone)| {
        (
            StatusCode::OK,
            json!({
                "message": format!("Phone number information for +{country} {phone}."),
                "provider": null,
                "type": "unknown",
                "ported": false,
                "country_code": country,
                "phone_number": phone,
                "e164": format!("+{country}{phone}"),
                "success": true,
            }),
        )
    });
    call.answer(result)
}
