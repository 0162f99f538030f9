//! The console's push second factor: each operator with a phone is a user of a
//! server-internal app, "Countersign console", whose device was registered with the
//! `countersign` CLI like any customer's. At sign-in, after the password, the server asks
//! that device with an ordinary approval request ("Sign in to the Countersign console from
//! <address>?", with number matching when the app uses it); the login page polls until the
//! phone answers. The device's signed answer is verified by the approval flow itself.

use serde_json::Value;

use super::{approvals, apps, registration, users};
use crate::error::{ApiError, ServerError};
use crate::state::{App, AppState};
use crate::store::operators::{self as stored, Operator};

/// The internal app's name (it is listed with the others, so the operator can see it).
pub const CONSOLE_APP: &str = "Countersign console";
/// How long the phone has to answer a sign-in request.
pub const SIGN_IN_SECONDS: &str = "120";

fn api(error: ApiError) -> ServerError {
    ServerError::Config(error.message)
}

/// The internal app, created with the first operator's phone.
pub async fn console_app(state: &AppState) -> Result<App, ServerError> {
    if let Some(id) = stored::console_app_id(&state.db).await?
        && let Some(app) = apps::by_id(state, id).await?
    {
        return Ok(app);
    }
    let (id, _key) = apps::create(state, CONSOLE_APP, 7, None, "POST").await?;
    apps::by_id(state, id)
        .await?
        .ok_or_else(|| ServerError::Config("the console app vanished".into()))
}

/// A phone enrolment: the user in the console app and the one-time registration link the
/// operator gives `countersign device register`.
pub struct Enrolment {
    pub user_id: i64,
    pub registration_uri: String,
    pub expires_in: i64,
}

/// Makes the operator `email` a user of the console app and a registration for their phone.
pub async fn enrol(state: &AppState, email: &str) -> Result<Enrolment, ServerError> {
    let app = console_app(state).await?;
    let custom_id = format!("operator:{email}");
    let request = users::NewUserRequest {
        email,
        custom_user_id: Some(&custom_id),
        cellphone: None,
        country_code: None,
    };
    let created = users::create(state, app.id, request).await.map_err(api)?;
    let user_id = created["user"]["id"]
        .as_i64()
        .ok_or_else(|| ServerError::Config("the console user was not created".into()))?;
    registration_for(state, &app, user_id).await
}

/// A new registration link for the operator's phone (the old one expired, or a new phone).
pub async fn registration_for(
    state: &AppState,
    app: &App,
    user_id: i64,
) -> Result<Enrolment, ServerError> {
    let no_qr = |_: &str, _: u32| Some(String::new());
    let made = registration::create(state, app, &user_id.to_string(), no_qr)
        .await
        .map_err(api)?;
    let uri = made["registration"]["uri"].as_str().unwrap_or_default();
    Ok(Enrolment {
        user_id,
        registration_uri: uri.to_owned(),
        expires_in: made["registration"]["expires_in"].as_i64().unwrap_or(0),
    })
}

/// A new link for operator `email`'s phone (`operator register-phone`).
pub async fn new_registration(state: &AppState, email: &str) -> Result<Enrolment, ServerError> {
    let email = super::operators::normalize_email(email).unwrap_or_default();
    let found = stored::with_password(&state.db, &email).await?;
    let Some(user_id) = found.and_then(|(o, _)| o.push_user_id) else {
        return Err(ServerError::Config(format!(
            "no operator {email} with a phone"
        )));
    };
    registration_for(state, &console_app(state).await?, user_id).await
}

/// Asks the operator's phone to approve this sign-in; the request's uuid, or `None` when
/// the operator has no phone or it cannot be asked now.
pub async fn ask(
    state: &AppState,
    operator: &Operator,
    client: &str,
) -> Result<Option<String>, ServerError> {
    let Some(user_id) = operator.push_user_id else {
        return Ok(None);
    };
    let app = console_app(state).await?;
    let message = format!("Sign in to the Countersign console from {client}?");
    let request = approvals::CreateRequest {
        message: Some(&message),
        details: vec![("Operator", operator.email.as_str()), ("From", client)],
        hidden_details: vec![],
        seconds_to_expire: Some(SIGN_IN_SECONDS),
        all_params: &[],
        number_matching: None,
    };
    match approvals::create(state, &app, &user_id.to_string(), request).await {
        Ok(created) => Ok(created["approval_request"]["uuid"]
            .as_str()
            .map(str::to_owned)),
        Err(error) => {
            tracing::warn!(error = %error.message, "the sign-in approval could not be asked");
            Ok(None)
        }
    }
}

/// The phone's answer so far: `pending`, `approved`, `denied` or `expired`, and the number
/// to pick on the phone when the app uses number matching.
pub struct Answer {
    pub status: String,
    pub number: Option<i64>,
}

pub async fn answer(state: &AppState, uuid: &str) -> Result<Answer, ServerError> {
    let app = console_app(state).await?;
    let status: Value = approvals::status(state, &app, uuid).await.map_err(api)?;
    let request = &status["approval_request"];
    Ok(Answer {
        status: request["status"].as_str().unwrap_or("expired").to_owned(),
        number: request["number"].as_i64(),
    })
}
