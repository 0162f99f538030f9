//! One-time passwords: SMS and voice delivery, verification (plain, custom action,
//! transactional), and generic authenticator enrolment.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use countersign_core::txotp::{TransactionFields, TxotpError};
use countersign_core::{otpauth, transactional};
use serde_json::{Value, json};
use sqlx::Row;

use super::users::{self, User, masked_phone};
use crate::batch::StepColumn;
use crate::error::ApiError;
use crate::otp;
use crate::sender::{Channel, Message};
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
    let code = otp::current_code(&account, now());
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

/// The matched kind of code, for replay protection and the answer's device object.
#[derive(Clone, Copy)]
enum Kind {
    App,
    Sms,
    Authenticator,
}

impl Kind {
    fn column(self) -> StepColumn {
        match self {
            Kind::App => StepColumn::App,
            Kind::Sms => StepColumn::Sms,
            Kind::Authenticator => StepColumn::Authenticator,
        }
    }

    fn last_step(self, user: &User) -> i64 {
        match self {
            Kind::App => user.last_step_app,
            Kind::Sms => user.last_step_sms,
            Kind::Authenticator => user.last_step_authenticator,
        }
    }

    fn os_type(self) -> &'static str {
        match self {
            Kind::App => "authy",
            Kind::Sms => "sms",
            Kind::Authenticator => "authenticator",
        }
    }
}

fn transaction(call: &Call) -> Result<Option<countersign_core::txotp::Transaction>, ApiError> {
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
            .add_detail(countersign_core::txotp::Section::Details, key, value)
            .map_err(fail)?;
    }
    for (key, value) in p.section("hidden_details") {
        fields
            .add_detail(countersign_core::txotp::Section::HiddenDetails, key, value)
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
    if user.locked_until > time {
        return Err(ApiError::too_many_attempts());
    }
    let p = &call.params;
    if !user.confirmed && !p.flag("force") {
        return Ok((
            StatusCode::OK,
            json!({"token": "Not checked. User has not yet finished the registration process. Pass force=true to this API to check regardless (more secure)."}),
        ));
    }
    let tx = transaction(call)?;
    let seed = seed(state, &user)?;
    let digits = call.app.token_length;
    let authenticator = match &user.authenticator_sealed {
        Some(sealed)
            if user.authenticator_confirmed || time - user.authenticator_created_at < 24 * 3600 =>
        {
            Some(
                state
                    .master
                    .open(&format!("users.authenticator:{}", user.id), sealed)?,
            )
        }
        _ => None,
    };

    let mut found: Option<(Kind, u64)> = None;
    if let Some(tx) = &tx {
        // Transactional codes: the app account first, then the authenticator secret.
        let candidates = [
            (Kind::App, otp::app_account(&seed, digits)),
            (
                Kind::Authenticator,
                authenticator
                    .as_deref()
                    .and_then(|s| otp::authenticator_account(s)),
            ),
        ];
        for (kind, account) in candidates {
            let Some(account) = account else { continue };
            let last = u64::try_from(kind.last_step(&user)).ok().filter(|s| *s > 0);
            if let Ok(Some(m)) =
                transactional::verify(&account, tx, token, time as u64, otp::APP_WINDOW, last)
            {
                found = Some((kind, m.step));
                break;
            }
        }
    } else if let Some(action) = p.text("action") {
        if let Some(account) = otp::sms_account(&seed, digits, Some(action)) {
            found = otp::check(&account, token, time, otp::SMS_WINDOW, user.last_step_sms)
                .map(|m| (Kind::Sms, m.step));
        }
    } else {
        let candidates = [
            (Kind::App, otp::app_account(&seed, digits), otp::APP_WINDOW),
            (
                Kind::Sms,
                otp::sms_account(&seed, digits, None),
                otp::SMS_WINDOW,
            ),
            (
                Kind::Authenticator,
                authenticator
                    .as_deref()
                    .and_then(|s| otp::authenticator_account(s)),
                otp::APP_WINDOW,
            ),
        ];
        for (kind, account, window) in candidates {
            let Some(account) = account else { continue };
            if let Some(m) = otp::check(&account, token, time, window, kind.last_step(&user)) {
                found = Some((kind, m.step));
                break;
            }
        }
    }

    let accepted = match found {
        // One atomic conditional step accepts the code (grouped with concurrent ones, see
        // batch.rs): a request with the same code, on this or another instance, finds the
        // step already used.
        Some((kind, step)) => {
            let taken = state
                .accepted
                .accept(user.id, kind.column(), step as i64)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "recording an accepted code");
                    ApiError::internal()
                })?;
            taken.then_some(kind)
        }
        None => None,
    };
    match accepted {
        Some(kind) => {
            super::record_event(state, call.app.id, "verification").await;
            Ok((
                StatusCode::OK,
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
                }),
            ))
        }
        None => {
            let max = state.settings.max_failures;
            sqlx::query("UPDATE users SET failed_attempts = failed_attempts + 1, locked_until = CASE WHEN failed_attempts + 1 >= $1 THEN $2 ELSE locked_until END WHERE id = $3")
                .bind(max)
                .bind(time + state.settings.lockout_seconds)
                .bind(user.id)
                .execute(&state.db.writer)
                .await?;
            tracing::info!(user = user.id, "token rejected");
            Err(ApiError::token_invalid("Token is invalid"))
        }
    }
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
        let secret = countersign_core::Secret::generate(20);
        let account = countersign_core::Account::new(Some(call.app.name.clone()), label.clone(), secret.clone(), countersign_core::OtpParameters::default_totp());
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
