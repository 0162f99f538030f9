//! One-time passwords: SMS and voice delivery, verification (plain, custom action,
//! transactional), and generic authenticator enrolment.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use countersign_otp::txotp::{TransactionFields, TxotpError};
use countersign_otp::{otpauth, transactional};
use serde_json::{Value, json};
use sqlx::Row;

use super::users::{self, User, masked_phone};
use crate::batch::{Acceptance, Failure, StepColumn};
use crate::delivery::{Channel, Message};
use crate::error::ApiError;
use crate::otp;
use crate::sent_codes;
use crate::state::{AppState, Call, now};
use crate::templates;

fn seed(state: &AppState, user: &User) -> Result<zeroize::Zeroizing<Vec<u8>>, ApiError> {
    Ok(state
        .master
        .open(&format!("users.seed:{}", user.id), &user.seed_sealed)?)
}

pub async fn sms(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    call.answer(send(&state, &call, &id, Channel::Sms).await)
}

pub async fn voice(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    call.answer(send(&state, &call, &id, Channel::Call).await)
}

async fn send(
    state: &AppState,
    call: &Call,
    id: &str,
    channel: Channel,
) -> Result<(StatusCode, Value), ApiError> {
    let user = users::load(state, call.app.id, id).await?;
    let p = &call.params;
    let action = p.text("action");
    if action.is_some() && channel == Channel::Call {
        return Err(ApiError::invalid_parameter(
            "Custom actions are not supported for voice calls.",
        ));
    }
    if user.cellphone.is_empty() {
        return Err(ApiError::invalid_request("The user has no phone number."));
    }
    let cellphone = masked_phone(user.country_code, &user.cellphone);
    // With the app installed the code is in the app: the message is skipped unless forced.
    // Custom-action codes exist only by SMS, so they are always sent.
    let devices = users::devices(state, user.id).await?;
    if action.is_none() && !p.flag("force") && !devices.is_empty() {
        let message = match channel {
            Channel::Sms => {
                "Ignored: SMS is not needed for smartphones. Pass force=true if you want to actually send it anyway."
            }
            Channel::Call => {
                "Call ignored. User is using App Tokens and this call is not necessary. Pass force=true if you still want to call users that are using the App."
            }
        };
        return Ok((
            StatusCode::OK,
            json!({"message": message, "cellphone": cellphone, "device": devices.last(), "ignored": true, "success": true}),
        ));
    }
    let seed = seed(state, &user)?;
    let account =
        otp::sms_account(&seed, call.app.token_length, action).ok_or_else(ApiError::internal)?;
    let purpose = sent_codes::purpose(action);
    let step = sent_codes::record(state, user.id, &purpose, now()).await?;
    let code = account.code_for_step(step);
    let locale = p
        .text("locale")
        .unwrap_or_else(|| templates::locale_for_country(user.country_code));
    let body = match (channel, action) {
        (Channel::Sms, Some(_)) => templates::action_sms(
            locale,
            &call.app.name,
            code.as_str(),
            p.text("action_message").unwrap_or(&call.app.name),
        ),
        (Channel::Sms, None) => templates::sms(locale, &call.app.name, code.as_str()),
        (Channel::Call, _) => templates::voice(locale, &call.app.name, code.as_str()),
    };
    let message = Message {
        app_id: call.app.id,
        channel,
        to: format!("+{}{}", user.country_code, user.cellphone),
        body,
    };
    if let Err(e) = state.sender.send(&message).await {
        tracing::warn!(error = %e, channel = channel.name(), "delivery failed");
        sent_codes::forget(state, user.id, &purpose, step).await;
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "60008",
            "The message could not be delivered. Try again later.",
        ));
    }
    super::record_event(state, call.app.id, channel.name()).await;
    let text = match channel {
        Channel::Sms => "SMS token was sent",
        Channel::Call => "Call started...",
    };
    Ok((
        StatusCode::OK,
        json!({"success": true, "message": text, "cellphone": cellphone}),
    ))
}

/// The kind of code that matched, for the answer's device object.
#[derive(Clone, Copy)]
enum Kind {
    App,
    Sms,
    Authenticator,
}

impl Kind {
    fn os_type(self) -> &'static str {
        match self {
            Kind::App => "authy",
            Kind::Sms => "sms",
            Kind::Authenticator => "authenticator",
        }
    }
}

/// What comparing a typed code with the user's valid codes found. Nothing is written yet:
/// the verdict is the write's (batch.rs).
enum Found {
    /// A time-based code at `step` (app or authenticator secret).
    Step(Kind, StepColumn, u64),
    /// A code that was sent by SMS or voice and not used yet.
    Sent(i64),
    /// A valid code that was already used: not a guess, not accepted.
    Spent,
    /// No valid code matches: a wrong guess.
    Nothing,
}

impl Found {
    /// A replay is only reported when no unused code matches.
    fn or(self, other: impl FnOnce() -> Found) -> Found {
        match self {
            Found::Nothing | Found::Spent => match other() {
                Found::Nothing => self,
                better => better,
            },
            found => found,
        }
    }
}

fn transaction(call: &Call) -> Result<Option<countersign_otp::txotp::Transaction>, ApiError> {
    let p = &call.params;
    if p.get("message").is_none() && !p.has_prefix("details") && !p.has_prefix("hidden_details") {
        return Ok(None);
    }
    let mut fields = TransactionFields::default();
    let fail = |e: TxotpError| ApiError::new(StatusCode::UNAUTHORIZED, "60004", e.to_string());
    if let Some(message) = p.get("message") {
        fields.add("message", message).map_err(fail)?;
    }
    for (key, value) in p.section("details") {
        fields
            .add_detail(countersign_otp::txotp::Section::Details, key, value)
            .map_err(fail)?;
    }
    for (key, value) in p.section("hidden_details") {
        fields
            .add_detail(countersign_otp::txotp::Section::HiddenDetails, key, value)
            .map_err(fail)?;
    }
    fields.finish().map(Some).map_err(fail)
}

pub async fn verify(
    State(state): State<AppState>,
    Path((_, token, id)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    call.answer(check_token(&state, &call, &token, &id).await)
}

async fn check_token(
    state: &AppState,
    call: &Call,
    token: &str,
    id: &str,
) -> Result<(StatusCode, Value), ApiError> {
    let token = token.trim();
    if !(6..=12).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::token_invalid("Token is invalid"));
    }
    let user = users::load(state, call.app.id, id).await?;
    let time = now();
    // A fast answer for the common case; the authoritative check is part of the write.
    if user.locked_until > time {
        return Err(ApiError::too_many_attempts());
    }
    if !user.confirmed && !call.params.flag("force") {
        return Ok((
            StatusCode::OK,
            json!({"token": "Not checked. User has not yet finished the registration process. Pass force=true to this API to check regardless (more secure)."}),
        ));
    }
    let tx = transaction(call)?;
    let found = match &tx {
        Some(tx) => find_transactional(state, call, &user, token, time, tx)?,
        None => find_code(state, call, &user, token, time).await?,
    };
    let accepted = match found {
        Found::Step(kind, column, step) => state
            .accepted
            .accept(user.id, column, step as i64, time)
            .await
            .map(|verdict| (verdict, kind))
            .map_err(write_failed)?,
        Found::Sent(code_id) => (
            sent_codes::redeem(state, user.id, code_id, time).await?,
            Kind::Sms,
        ),
        Found::Spent => (Acceptance::Replayed, Kind::Sms),
        Found::Nothing => {
            return match state
                .accepted
                .fail(user.id, time)
                .await
                .map_err(write_failed)?
            {
                Failure::Counted => {
                    tracing::info!(user = user.id, "token rejected");
                    Err(ApiError::token_invalid("Token is invalid"))
                }
                Failure::Locked => Err(ApiError::too_many_attempts()),
            };
        }
    };
    match accepted {
        (Acceptance::Accepted, kind) => {
            super::record_event(state, call.app.id, "verification").await;
            Ok((StatusCode::OK, valid_answer(kind, &user)))
        }
        (Acceptance::Replayed, _) => {
            tracing::info!(user = user.id, "a used token was sent again");
            Err(ApiError::token_invalid("Token is invalid"))
        }
        (Acceptance::Locked, _) => Err(ApiError::too_many_attempts()),
    }
}

fn write_failed(e: String) -> ApiError {
    tracing::error!(error = %e, "recording a verification");
    ApiError::internal()
}

fn valid_answer(kind: Kind, user: &User) -> Value {
    json!({
        "message": "Token is valid.",
        "token": "is valid",
        "success": "true",
        "device": {
            "id": null, "os_type": kind.os_type(), "registration_date": user.created_at,
            "registration_method": null, "registration_country": null, "registration_region": null,
            "registration_city": null, "country": null, "region": null, "city": null, "ip": null,
            "last_account_recovery_at": null, "last_sync_date": null,
        },
    })
}

/// The generic authenticator secret, while its enrolment is confirmed or less than a day old.
fn authenticator(
    state: &AppState,
    user: &User,
    time: i64,
) -> Result<Option<countersign_otp::Account>, ApiError> {
    let Some(sealed) = &user.authenticator_sealed else {
        return Ok(None);
    };
    if !user.authenticator_confirmed && time - user.authenticator_created_at >= 24 * 3600 {
        return Ok(None);
    }
    let secret = state
        .master
        .open(&format!("users.authenticator:{}", user.id), sealed)?;
    Ok(otp::authenticator_account(&secret))
}

/// The time-based accounts whose codes the user can have: the app's (only while a device
/// that received the seed at registration is active) and the authenticator secret's.
fn time_based_accounts(
    state: &AppState,
    call: &Call,
    user: &User,
    time: i64,
) -> Result<Vec<(Kind, StepColumn, countersign_otp::Account, i64)>, ApiError> {
    let mut accounts = Vec::new();
    if user.active_devices > 0 {
        let seed = seed(state, user)?;
        if let Some(account) = otp::app_account(&seed, call.app.token_length) {
            accounts.push((Kind::App, StepColumn::App, account, user.last_step_app));
        }
    }
    if let Some(account) = authenticator(state, user, time)? {
        accounts.push((
            Kind::Authenticator,
            StepColumn::Authenticator,
            account,
            user.last_step_authenticator,
        ));
    }
    Ok(accounts)
}

/// A step newer than the last accepted one is a candidate; an older one a replay.
fn step_found(kind: Kind, column: StepColumn, step: u64, last_step: i64) -> Found {
    if i64::try_from(step).is_ok_and(|s| s > last_step) {
        Found::Step(kind, column, step)
    } else {
        Found::Spent
    }
}

fn find_transactional(
    state: &AppState,
    call: &Call,
    user: &User,
    token: &str,
    time: i64,
    tx: &countersign_otp::txotp::Transaction,
) -> Result<Found, ApiError> {
    let mut found = Found::Nothing;
    for (kind, column, account, last) in time_based_accounts(state, call, user, time)? {
        found = found.or(|| {
            match transactional::verify(&account, tx, token, time as u64, otp::APP_WINDOW, None) {
                Ok(Some(m)) => step_found(kind, column, m.step, last),
                _ => Found::Nothing,
            }
        });
    }
    Ok(found)
}

async fn find_code(
    state: &AppState,
    call: &Call,
    user: &User,
    token: &str,
    time: i64,
) -> Result<Found, ApiError> {
    let action = call.params.text("action");
    let mut found = Found::Nothing;
    // Custom-action codes are only valid with their action, and nothing else is then.
    if action.is_none() {
        for (kind, column, account, last) in time_based_accounts(state, call, user, time)? {
            found = found.or(
                || match otp::check(&account, token, time, otp::APP_WINDOW, 0) {
                    Some(m) => step_found(kind, column, m.step, last),
                    None => Found::Nothing,
                },
            );
        }
    }
    if matches!(found, Found::Step(..)) {
        return Ok(found); // The common case: no need to read the sent codes.
    }
    let sent = sent_codes::valid(state, user.id, &sent_codes::purpose(action), time).await?;
    if !sent.is_empty() {
        let seed = seed(state, user)?;
        let account = otp::sms_account(&seed, call.app.token_length, action)
            .ok_or_else(ApiError::internal)?;
        for code in sent {
            found = found.or(|| match account.code_for_step(code.step).matches(token) {
                true if code.used => Found::Spent,
                true => Found::Sent(code.id),
                false => Found::Nothing,
            });
        }
    }
    Ok(found)
}

pub async fn secret(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let result = async {
        let user = users::load(&state, call.app.id, &id).await?;
        let size = call.params.number("qr_size")?.unwrap_or(256);
        if !(64..=320).contains(&size) {
            return Err(ApiError::invalid_parameter("qr_size must be between 64 and 320."));
        }
        let label = call.params.text("label").map(str::to_owned).unwrap_or_else(|| if user.email.is_empty() { call.app.name.clone() } else { user.email.clone() });
        if label.chars().count() > 200 {
            return Err(ApiError::invalid_parameter("label is too long."));
        }
        let secret = countersign_otp::Secret::generate(20);
        let account = countersign_otp::Account::new(Some(call.app.name.clone()), label.clone(), secret.clone(), countersign_otp::OtpParameters::default_totp());
        let uri = otpauth::to_uri(&account);
        let qr_code = qr_data_url(&uri, size as u32)?;
        // A new request replaces the previous secret; it is valid for 24 h until verified.
        sqlx::query("UPDATE users SET authenticator_sealed = $1, authenticator_created_at = $2, authenticator_confirmed = $3, last_step_authenticator = 0 WHERE id = $4")
            .bind(state.master.seal(&format!("users.authenticator:{}", user.id), secret.expose()))
            .bind(now())
            .bind(0i64)
            .bind(user.id)
            .execute(&state.db.writer)
            .await?;
        Ok((
            StatusCode::OK,
            json!({
                "label": format!("{}({label})", call.app.name),
                "Issuer": call.app.name,
                "issuer": call.app.name,
                "uri": uri,
                "qr_code": qr_code,
                "expires_in": 24 * 3600,
                "success": true,
            }),
        ))
    }
    .await;
    call.answer(result)
}

/// The QR code of `text` as a `data:image/png;base64,…` URL, `size` pixels square.
pub fn qr_data_url(text: &str, size: u32) -> Result<String, ApiError> {
    let png = qr_png(text, size).ok_or_else(ApiError::internal)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

/// A PNG of the QR code, `size` pixels square (quiet zone included).
pub fn qr_png(text: &str, size: u32) -> Option<Vec<u8>> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    let image = code
        .render::<image::Luma<u8>>()
        .max_dimensions(size, size)
        .min_dimensions(size.min(64), size.min(64))
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

pub async fn app_stats_counts(
    state: &AppState,
    app_id: i64,
) -> Result<Vec<(String, i64)>, ApiError> {
    crate::api::flush_events(state).await?;
    let rows = sqlx::query("SELECT kind, count FROM counters WHERE app_id = $1")
        .bind(app_id)
        .fetch_all(&state.db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
}
