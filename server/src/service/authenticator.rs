//! Generic authenticator enrolment: a fresh TOTP secret for the user, shown as an otpauth URI
//! and a QR code, valid for a day until a code from it is verified.

use countersign_otp::{Account, OtpParameters, Secret, otpauth};
use serde_json::{Value, json};

use super::users;
use crate::error::ApiError;
use crate::state::{App, AppState, now};

/// How long an unconfirmed secret is accepted.
pub const UNCONFIRMED_SECONDS: i64 = 24 * 3600;

pub struct EnrolRequest<'a> {
    /// QR image size in pixels (64 to 320) as sent; 256 when absent.
    pub qr_size: Option<&'a str>,
    pub label: Option<&'a str>,
}

/// Makes the user's new secret. `qr_data_url` renders the URI as an image for the answer
/// (the HTTP layer's renderer); it runs before anything is stored.
pub async fn enrol(
    state: &AppState,
    app: &App,
    id: &str,
    request: EnrolRequest<'_>,
    qr_data_url: impl Fn(&str, u32) -> Option<String>,
) -> Result<Value, ApiError> {
    let user = users::load(state, app.id, id).await?;
    let size = super::number_param("qr_size", request.qr_size)?.unwrap_or(256);
    if !(64..=320).contains(&size) {
        return Err(ApiError::invalid_parameter(
            "qr_size must be between 64 and 320.",
        ));
    }
    let label = request.label.map(str::to_owned).unwrap_or_else(|| {
        if user.email.is_empty() {
            app.name.clone()
        } else {
            user.email.clone()
        }
    });
    if label.chars().count() > 200 {
        return Err(ApiError::invalid_parameter("label is too long."));
    }
    let secret = Secret::generate(20);
    let account = Account::new(
        Some(app.name.clone()),
        label.clone(),
        secret.clone(),
        OtpParameters::default_totp(),
    );
    let uri = otpauth::to_uri(&account);
    let qr_code = qr_data_url(&uri, size as u32).ok_or_else(ApiError::internal)?;
    // A new request replaces the previous secret; it is valid for 24 h until verified.
    let sealed = state
        .master
        .seal(&format!("users.authenticator:{}", user.id), secret.expose());
    crate::store::users::set_authenticator(&state.db, user.id, &sealed, now()).await?;
    Ok(json!({
        "label": format!("{}({label})", app.name),
        "Issuer": app.name,
        "issuer": app.name,
        "uri": uri,
        "qr_code": qr_code,
        "expires_in": UNCONFIRMED_SECONDS,
        "success": true,
    }))
}
