//! `phones/verification/status` (authy-node's `verification_status`): where the newest
//! verification of a number stands — pending, verified or expired — without touching it.

use serde_json::{Value, json};

use super::phones::number;
use crate::error::{ApiError, Refusal};
use crate::state::{App, AppState, now};
use crate::store::phone_verifications as stored;

pub async fn status(
    state: &AppState,
    app: &App,
    phone: Option<&str>,
    country_code: Option<&str>,
) -> Result<Value, ApiError> {
    let (country, phone) = number(phone, country_code)?;
    let (verified, expires_at) = stored::latest_state(&state.db, app.id, country, &phone)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Refusal::NotFound,
                "60023",
                format!("No pending verifications for +{country} {phone} found."),
            )
        })?;
    let left = (expires_at - now()).max(0);
    let status = match (verified, left) {
        (true, _) => "verified",
        (false, 0) => "expired",
        (false, _) => "pending",
    };
    Ok(json!({
        "message": "Phone Verification status.",
        "status": status,
        "seconds_to_expire": left,
        "success": true,
    }))
}
