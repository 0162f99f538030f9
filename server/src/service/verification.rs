//! Verifying a typed code (plain, custom action, transactional): compare it in memory with
//! every code the user can have, then let one conditional write decide the verdict
//! (`store::verdict_batch`, `store::sent_codes`), so concurrent guesses cannot outrun the
//! lock-out.

use countersign_otp::transactional;
use countersign_otp::txotp::{Section, Transaction, TransactionFields, TxotpError};
use serde_json::{Value, json};

use super::codes::seed;
use super::otp;
use super::users::{self, User};
use crate::error::{ApiError, Refusal};
use crate::state::{App, AppState, now};
use crate::store::sent_codes;
use crate::store::verdict_batch::{Acceptance, Failure, StepColumn};

/// The fields of a transaction a code is bound to, in the order sent.
pub struct TransactionInput<'a> {
    pub message: Option<&'a str>,
    pub details: Vec<(&'a str, &'a str)>,
    pub hidden_details: Vec<(&'a str, &'a str)>,
}

/// A verification as the API received it.
pub struct VerifyRequest<'a> {
    pub token: &'a str,
    pub force: bool,
    pub action: Option<&'a str>,
    /// Present when any transaction field was sent.
    pub transaction: Option<TransactionInput<'a>>,
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
/// the verdict is the write's (store/verdict_batch.rs).
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

fn transaction(input: &TransactionInput<'_>) -> Result<Transaction, ApiError> {
    let mut fields = TransactionFields::default();
    let fail = |e: TxotpError| ApiError::new(Refusal::Unauthorized, "60004", e.to_string());
    if let Some(message) = input.message {
        fields.add("message", message).map_err(fail)?;
    }
    for (key, value) in &input.details {
        fields
            .add_detail(Section::Details, key, value)
            .map_err(fail)?;
    }
    for (key, value) in &input.hidden_details {
        fields
            .add_detail(Section::HiddenDetails, key, value)
            .map_err(fail)?;
    }
    fields.finish().map_err(fail)
}

/// Checks `request.token` for the app's user `id`.
pub async fn check_token(
    state: &AppState,
    app: &App,
    id: &str,
    request: &VerifyRequest<'_>,
) -> Result<Value, ApiError> {
    let token = request.token.trim();
    if !(6..=12).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::token_invalid("Token is invalid"));
    }
    let user = users::load(state, app.id, id).await?;
    let time = now();
    // A fast answer for the common case; the authoritative check is part of the write.
    if user.locked_until > time {
        return Err(ApiError::locked_out(user.locked_until - time));
    }
    if !user.confirmed && !request.force {
        return Ok(
            json!({"token": "Not checked. User has not yet finished the registration process. Pass force=true to this API to check regardless (more secure)."}),
        );
    }
    let tx = request.transaction.as_ref().map(transaction).transpose()?;
    let candidate = Candidate {
        state,
        app,
        user: &user,
        token,
        time,
    };
    if tx.is_some() && !app.transactional_totp {
        return Err(ApiError::invalid_parameter(
            "Transactional TOTP is turned off for this application.",
        ));
    }
    let found = match &tx {
        Some(tx) => candidate.find_transactional(tx)?,
        None => candidate.find_code(request.action).await?,
    };
    let verdict = decide(state, &user, found, time).await?;
    log_outcome(state, app.id, &user, &verdict, tx.is_some(), time);
    let kind = match verdict {
        Ok(kind) => kind,
        Err(Verdict::Replayed) => return Err(ApiError::token_reused()),
        Err(Verdict::Wrong) => return Err(ApiError::token_invalid("Token is invalid")),
        Err(Verdict::Locked) => return Err(locked(state, app, &user, time).await),
    };
    super::stats::record_event(state, app.id, "verification").await;
    Ok(valid_answer(kind, &user))
}

/// Keeps the decided outcome (never the code) for the console's list of a user's recent
/// verifications (buffered: no write of its own).
fn log_outcome(
    state: &AppState,
    app_id: i64,
    user: &User,
    verdict: &Result<Kind, Verdict>,
    transactional: bool,
    time: i64,
) {
    let (outcome, channel) = match verdict {
        Ok(kind) if transactional => ("valid", transactional_channel(*kind)),
        Ok(kind) => ("valid", kind.os_type()),
        Err(Verdict::Replayed) => ("reused", ""),
        Err(Verdict::Wrong) => ("invalid", ""),
        Err(Verdict::Locked) => ("locked", ""),
    };
    let line = crate::store::verification_log::LoggedVerification {
        app_id,
        user_id: user.id,
        outcome,
        channel,
        created_at: time,
    };
    super::verification_log::record(state, line);
}

fn transactional_channel(kind: Kind) -> &'static str {
    match kind {
        Kind::App => "authy (transactional)",
        Kind::Sms => "sms (transactional)",
        Kind::Authenticator => "authenticator (transactional)",
    }
}

/// Why a code was refused, as the write decided it.
enum Verdict {
    /// A correct code that was already accepted: Authy's reused-token answer, not counted.
    Replayed,
    /// A wrong code, counted towards the lock-out.
    Wrong,
    /// The user is locked out (now, or by this very guess).
    Locked,
}

/// The lock-out answer, with the seconds left as read after the write that decided it.
async fn locked(state: &AppState, app: &App, user: &User, time: i64) -> ApiError {
    let until = users::load(state, app.id, &user.id.to_string())
        .await
        .map_or(time + state.settings.lockout_seconds, |u| u.locked_until);
    ApiError::locked_out(until - time)
}

/// Turns what was found into the verdict of its write: the kind of code accepted, or why it
/// was refused.
async fn decide(
    state: &AppState,
    user: &User,
    found: Found,
    time: i64,
) -> Result<Result<Kind, Verdict>, ApiError> {
    let (acceptance, kind) = match found {
        Found::Step(kind, column, step) => {
            let verdict = state
                .accepted
                .accept(user.id, column, step as i64, time)
                .await
                .map_err(write_failed)?;
            (verdict, kind)
        }
        Found::Sent(code_id) => (
            sent_codes::redeem(&state.db, user.id, code_id, time).await?,
            Kind::Sms,
        ),
        Found::Spent => (Acceptance::Replayed, Kind::Sms),
        Found::Nothing => return Ok(Err(count_failure(state, user, time).await?)),
    };
    Ok(match acceptance {
        Acceptance::Accepted => Ok(kind),
        Acceptance::Replayed => {
            tracing::info!(user = user.id, "a used token was sent again");
            Err(Verdict::Replayed)
        }
        Acceptance::Locked => Err(Verdict::Locked),
    })
}

/// Counts a wrong guess; the refusal to give (invalid, or locked once too many were made).
async fn count_failure(state: &AppState, user: &User, time: i64) -> Result<Verdict, ApiError> {
    match state
        .accepted
        .fail(user.id, time)
        .await
        .map_err(write_failed)?
    {
        Failure::Counted => {
            tracing::info!(user = user.id, "token rejected");
            Ok(Verdict::Wrong)
        }
        Failure::Locked => Ok(Verdict::Locked),
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

/// A step newer than the last accepted one is a candidate; an older one a replay.
fn step_found(kind: Kind, column: StepColumn, step: u64, last_step: i64) -> Found {
    if i64::try_from(step).is_ok_and(|s| s > last_step) {
        Found::Step(kind, column, step)
    } else {
        Found::Spent
    }
}

/// A typed code and whose codes it is compared with.
struct Candidate<'a> {
    state: &'a AppState,
    app: &'a App,
    user: &'a User,
    token: &'a str,
    time: i64,
}

impl Candidate<'_> {
    /// The generic authenticator secret, while its enrolment is confirmed or less than a day
    /// old.
    fn authenticator(&self) -> Result<Option<countersign_otp::Account>, ApiError> {
        let user = self.user;
        let Some(sealed) = &user.authenticator_sealed else {
            return Ok(None);
        };
        if !user.authenticator_confirmed && self.time - user.authenticator_created_at >= 24 * 3600 {
            return Ok(None);
        }
        let secret = self
            .state
            .master
            .open(&format!("users.authenticator:{}", user.id), sealed)?;
        Ok(otp::authenticator_account(&secret))
    }

    /// The time-based accounts whose codes the user can have: the app's (only while a device
    /// that received the seed at registration is active) and the authenticator secret's.
    fn time_based_accounts(
        &self,
    ) -> Result<Vec<(Kind, StepColumn, countersign_otp::Account, i64)>, ApiError> {
        let user = self.user;
        let mut accounts = Vec::new();
        if user.active_devices > 0 {
            let seed = seed(self.state, user)?;
            if let Some(account) = otp::app_account(&seed, self.app.token_length) {
                accounts.push((Kind::App, StepColumn::App, account, user.last_step_app));
            }
        }
        if let Some(account) = self.authenticator()? {
            accounts.push((
                Kind::Authenticator,
                StepColumn::Authenticator,
                account,
                user.last_step_authenticator,
            ));
        }
        Ok(accounts)
    }

    fn find_transactional(&self, tx: &Transaction) -> Result<Found, ApiError> {
        let mut found = Found::Nothing;
        for (kind, column, account, last) in self.time_based_accounts()? {
            found = found.or(|| {
                let at = self.time as u64;
                match transactional::verify(&account, tx, self.token, at, otp::APP_WINDOW, None) {
                    Ok(Some(m)) => step_found(kind, column, m.step, last),
                    _ => Found::Nothing,
                }
            });
        }
        Ok(found)
    }

    async fn find_code(&self, action: Option<&str>) -> Result<Found, ApiError> {
        let mut found = Found::Nothing;
        // Custom-action codes are only valid with their action, and nothing else is then.
        if action.is_none() {
            for (kind, column, account, last) in self.time_based_accounts()? {
                found = found.or(|| {
                    match otp::check(&account, self.token, self.time, otp::APP_WINDOW, 0) {
                        Some(m) => step_found(kind, column, m.step, last),
                        None => Found::Nothing,
                    }
                });
            }
        }
        if matches!(found, Found::Step(..)) {
            return Ok(found); // The common case: no need to read the sent codes.
        }
        self.find_sent(found, action).await
    }

    /// Compares the token with the codes sent by SMS or voice that are still valid.
    async fn find_sent(&self, mut found: Found, action: Option<&str>) -> Result<Found, ApiError> {
        let (state, user) = (self.state, self.user);
        let purpose = sent_codes::purpose(action);
        let sent = sent_codes::valid(&state.db, user.id, &purpose, self.time).await?;
        if sent.is_empty() {
            return Ok(found);
        }
        let seed = seed(state, user)?;
        let account = otp::sms_account(&seed, self.app.token_length, action)
            .ok_or_else(ApiError::internal)?;
        for code in sent {
            found = found.or(
                || match account.code_for_step(code.step).matches(self.token) {
                    true if code.used => Found::Spent,
                    true => Found::Sent(code.id),
                    false => Found::Nothing,
                },
            );
        }
        Ok(found)
    }
}
