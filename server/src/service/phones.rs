//! Phone verification (Authy's `phones/verification`): a short code sent to a number, checked
//! a bounded number of times, and offline number information.

use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::templates;
use super::users::{normalize_phone, parse_country_code};
use crate::delivery::{Channel, Message};
use crate::error::{ApiError, Refusal};
use crate::state::{App, AppState, now};
use crate::store::phone_verifications::{self as stored, NewVerification};

/// How long a code is valid.
const CODE_TTL: i64 = 600;
/// Wrong codes accepted before a verification is closed.
const MAX_CHECKS: i64 = 5;

/// (country code, digits) of a valid phone number, or Authy's 60033.
pub fn number(phone: Option<&str>, country_code: Option<&str>) -> Result<(i64, String), ApiError> {
    let phone = phone.and_then(normalize_phone);
    let country = country_code.and_then(parse_country_code);
    match (phone, country) {
        (Some(phone), Some(country)) => Ok((country, phone)),
        _ => Err(ApiError::new(
            Refusal::BadRequest,
            "60033",
            "Phone number is invalid",
        )),
    }
}

fn code_hash(uuid: &str, code: &str) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(format!("{uuid}:{code}").as_bytes()))
}

pub struct StartRequest<'a> {
    pub phone: Option<&'a str>,
    pub country_code: Option<&'a str>,
    pub via: Option<&'a str>,
    /// As sent: checked to be a number after `via`.
    pub code_length: Option<&'a str>,
    pub locale: Option<&'a str>,
}

pub async fn start(
    state: &AppState,
    app: &App,
    request: StartRequest<'_>,
) -> Result<Value, ApiError> {
    let (country, phone) = number(request.phone, request.country_code)?;
    let channel = match request.via.unwrap_or("sms") {
        "sms" => Channel::Sms,
        "call" => Channel::Call,
        _ => return Err(ApiError::invalid_parameter("via must be sms or call.")),
    };
    let length = super::number_param("code_length", request.code_length)?.unwrap_or(4);
    if !(4..=10).contains(&length) {
        return Err(ApiError::invalid_parameter(
            "code_length must be between 4 and 10.",
        ));
    }
    let code: String = (0..length)
        .map(|_| char::from(b'0' + rand::random_range(0..10u8)))
        .collect();
    let uuid = uuid::Uuid::new_v4().to_string();
    let time = now();
    let new = NewVerification {
        app_id: app.id,
        country_code: country,
        phone: &phone,
        code_hash: &code_hash(&uuid, &code),
        uuid: &uuid,
        expires_at: time + CODE_TTL,
        created_at: time,
    };
    stored::insert(&state.db, new).await?;
    let texts = templates::resolve(request.locale, country);
    let body = match channel {
        Channel::Sms => texts.sms(&app.name, &code),
        Channel::Call => texts.voice(&app.name, &code),
    };
    let to = format!("+{country}{phone}");
    let message = Message {
        app_id: app.id,
        channel,
        to: to.clone(),
        body,
        locale: texts.locale,
    };
    if let Err(e) = super::message_log::send(state, &message).await {
        tracing::warn!(error = %e, "phone verification delivery failed");
        return Err(super::codes::undeliverable(channel, &e));
    }
    let message = match channel {
        Channel::Sms => format!("Text message sent to {to}."),
        Channel::Call => format!("Call to {to} is ringing."),
    };
    Ok(
        json!({"carrier": "unknown", "is_cellphone": true, "message": message, "seconds_to_expire": CODE_TTL - 1, "uuid": uuid, "success": true}),
    )
}

pub struct CheckRequest<'a> {
    pub phone: Option<&'a str>,
    pub country_code: Option<&'a str>,
    pub code: Option<&'a str>,
}

pub async fn check(
    state: &AppState,
    app: &App,
    request: CheckRequest<'_>,
) -> Result<Value, ApiError> {
    let (country, phone) = number(request.phone, request.country_code)?;
    let code = request
        .code
        .ok_or_else(|| ApiError::invalid_parameter("verification_code is required."))?;
    let pending = stored::newest(&state.db, app.id, country, &phone, now())
        .await?
        .ok_or_else(|| no_pending(country, &phone))?;
    let expected = code_hash(&pending.uuid, code);
    let correct = bool::from(expected.as_bytes().ct_eq(pending.code_hash.as_bytes()));
    let written = stored::record_check(&state.db, pending.id, correct, MAX_CHECKS).await?;
    match (correct, written) {
        (true, true) => Ok(correct_answer()),
        (false, true) => Err(ApiError::new(
            Refusal::Unauthorized,
            "60022",
            "Verification code is incorrect",
        )),
        _ if pending.verified || stored::is_verified(&state.db, pending.id).await? => match correct
        {
            true => Ok(correct_answer()),
            false => Err(no_pending(country, &phone)),
        },
        _ => Err(ApiError::too_many_attempts()),
    }
}

fn correct_answer() -> Value {
    json!({"message": "Verification code is correct.", "success": true})
}

fn no_pending(country: i64, phone: &str) -> ApiError {
    ApiError::new(
        Refusal::NotFound,
        "60023",
        format!("No pending verifications for +{country} {phone} found."),
    )
}

/// Offline information about a number (`phone_numbers`: libphonenumber's metadata, no
/// carrier lookup). The fields the official libraries read are Authy's: `message` ("Phone
/// number information as of … UTC", which authy-client matches), `type`, `provider` (a
/// string), `ported` (a boolean); the rest are Countersign's.
pub fn info(phone: Option<&str>, country_code: Option<&str>) -> Result<Value, ApiError> {
    let (country, digits) = number(phone, country_code)?;
    let found = super::phone_numbers::look_up(country, &digits)
        .ok_or_else(|| ApiError::new(Refusal::BadRequest, "60033", "Phone number is invalid"))?;
    let at = crate::clock::Civil::from_unix(now());
    let message = format!(
        "Phone number information as of {:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year, at.month, at.day, at.hour, at.minute, at.second
    );
    Ok(json!({
        "message": message,
        "type": found.line_type.authy_name(),
        // Not known offline; a string, as the libraries expect.
        "provider": "unknown",
        "ported": false,
        "valid": found.valid,
        "line_type": found.line_type.libphonenumber_name(),
        "country": found.region,
        "country_code": found.country_code,
        "phone_number": found.national,
        "e164": found.e164,
        "success": true,
    }))
}
