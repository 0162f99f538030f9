//! One-time codes sent by SMS or voice call: each send is remembered (`store::sent_codes`)
//! before the message goes out, and forgotten again if it could not be delivered.

use serde_json::{Value, json};

use super::users::{self, User, masked_phone};
use super::{otp, templates};
use crate::delivery::{Channel, Message, SendError};
use crate::error::ApiError;
use crate::state::{App, AppState, now};
use crate::store::sent_codes;

/// A send request as the API received it.
pub struct SendRequest<'a> {
    pub action: Option<&'a str>,
    pub action_message: Option<&'a str>,
    pub force: bool,
    pub locale: Option<&'a str>,
}

/// The user's seed, opened: app and SMS codes come from it.
pub fn seed(state: &AppState, user: &User) -> Result<zeroize::Zeroizing<Vec<u8>>, ApiError> {
    Ok(state
        .master
        .open(&format!("users.seed:{}", user.id), &user.seed_sealed)?)
}

pub async fn send(
    state: &AppState,
    app: &App,
    id: &str,
    channel: Channel,
    request: SendRequest<'_>,
) -> Result<Value, ApiError> {
    let user = users::load(state, app.id, id).await?;
    let action = request.action;
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
    if action.is_none() && !request.force && !devices.is_empty() {
        return Ok(
            json!({"message": ignored_message(channel), "cellphone": cellphone, "device": devices.last(), "ignored": true, "success": true}),
        );
    }
    deliver(state, app, &user, channel, &request).await?;
    super::stats::record_event(state, app.id, channel.name()).await;
    let text = match channel {
        Channel::Sms => "SMS token was sent",
        Channel::Call => "Call started...",
    };
    Ok(json!({"success": true, "message": text, "cellphone": cellphone}))
}

fn ignored_message(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => {
            "Ignored: SMS is not needed for smartphones. Pass force=true if you want to actually send it anyway."
        }
        Channel::Call => {
            "Call ignored. User is using App Tokens and this call is not necessary. Pass force=true if you still want to call users that are using the App."
        }
    }
}

/// Reserves the user's code (the last one again, or a fresh one: `store::sent_codes`) and
/// sends it; a failed delivery forgets a fresh code.
async fn deliver(
    state: &AppState,
    app: &App,
    user: &User,
    channel: Channel,
    request: &SendRequest<'_>,
) -> Result<(), ApiError> {
    let action = request.action;
    let seed = seed(state, user)?;
    let account =
        otp::sms_account(&seed, app.token_length, action).ok_or_else(ApiError::internal)?;
    let purpose = sent_codes::purpose(action);
    let reserved = sent_codes::reserve(&state.db, user.id, &purpose, now()).await?;
    let code = account.code_for_step(reserved.step);
    let texts = templates::resolve(request.locale, user.country_code);
    let body = match (channel, action) {
        (Channel::Sms, Some(_)) => texts.action_sms(
            &app.name,
            code.as_str(),
            request.action_message.unwrap_or(&app.name),
        ),
        (Channel::Sms, None) => texts.sms(&app.name, code.as_str()),
        (Channel::Call, _) => texts.voice(&app.name, code.as_str()),
    };
    let message = Message {
        app_id: app.id,
        channel,
        to: format!("+{}{}", user.country_code, user.cellphone),
        body,
        locale: texts.locale,
    };
    if let Err(e) = super::message_log::send(state, &message).await {
        tracing::warn!(error = %e, channel = channel.name(), "delivery failed");
        if reserved.fresh {
            sent_codes::forget(&state.db, user.id, &purpose, reserved.step).await;
        }
        return Err(undeliverable(channel, &e));
    }
    Ok(())
}

/// The answer when a message could not be delivered: the number's own problem when the
/// provider named one, else "not sent" for the channel (authy-java's error codes).
pub fn undeliverable(channel: Channel, error: &SendError) -> ApiError {
    match (error, channel) {
        (SendError::Landline, Channel::Sms) => ApiError::sms_to_landline(),
        (SendError::NumberUnreachable, _) => ApiError::number_unreachable(),
        (_, Channel::Sms) => ApiError::sms_not_sent(),
        (_, Channel::Call) => ApiError::call_not_started(),
    }
}
