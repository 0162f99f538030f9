//! Console operators: their accounts (an Argon2id password and a second factor: a TOTP
//! secret and/or push approval to their own phone) and the password step of signing in,
//! with its limits. Every refusal looks the same to the caller, and an unknown email costs
//! as much time as a known one, so the answers tell nothing about which accounts exist.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use super::otp;
use crate::error::ServerError;
use crate::state::{AppState, now};
use crate::store::operators::{self as stored, NewOperator};

pub use crate::store::operators::Operator;

/// Shortest and longest password accepted (bounded before any hashing).
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 1024;
const MAX_EMAIL: usize = 254;
/// Sign-in attempts allowed per account, and per client address, in one window.
pub const ACCOUNT_ATTEMPTS: i64 = 5;
pub const ADDRESS_ATTEMPTS: i64 = 30;
pub const ATTEMPT_WINDOW_SECONDS: i64 = 15 * 60;
/// The issuer shown in an operator's authenticator.
const TOTP_ISSUER: &str = "Countersign console";

/// Argon2id with OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Result<Argon2<'static>, ServerError> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| ServerError::Config(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A hash to check against when the email is unknown, so that the answer takes as long.
static DECOY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let decoy = countersign_otp::Secret::generate(16).to_base32();
    hash_password(&decoy).ok()
});

/// The PHC string of `password` under a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    let hash = hasher()?
        .hash_password(password.as_bytes())
        .map_err(|e| ServerError::Config(format!("hashing the password failed: {e}")))?;
    Ok(hash.to_string())
}

fn password_matches(password: &str, phc: &str) -> bool {
    hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), phc).is_ok())
}

/// The email as stored: trimmed and lowercase; `None` when it cannot be one.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_ascii_lowercase();
    let plausible = email.len() <= MAX_EMAIL
        && email.contains('@')
        && !email.chars().any(|c| c.is_control() || c.is_whitespace());
    plausible.then_some(email)
}

/// What `operator create` prints: the TOTP enrolment URI (shown once).
pub struct Created {
    pub id: i64,
    pub totp_uri: Option<String>,
}

/// Creates an operator with a TOTP secret when `totp` is set (the URI to enrol it is returned
/// once); `push_user_id` is the user, in the console's own app, whose phone approves logins.
pub async fn create(
    state: &AppState,
    email: &str,
    password: &str,
    totp: bool,
    push_user_id: Option<i64>,
) -> Result<Created, ServerError> {
    let email = normalize_email(email)
        .ok_or_else(|| ServerError::Config("that is not an email address".into()))?;
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&password.chars().count()) {
        return Err(ServerError::Config(format!(
            "the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )));
    }
    if !totp && push_user_id.is_none() {
        return Err(ServerError::Config(
            "an operator needs a second factor: --totp and/or --phone".into(),
        ));
    }
    let owned = password.to_owned();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|e| ServerError::Config(format!("hashing the password failed: {e}")))??;
    let secret = totp.then(|| countersign_otp::Secret::generate(20));
    let master = &state.master;
    let seal = secret
        .as_ref()
        .map(|secret| move |id: i64| master.seal(&format!("operators.totp:{id}"), secret.expose()));
    let new = NewOperator {
        email: &email,
        password_hash: &password_hash,
        push_user_id,
        created_at: now(),
    };
    let id = stored::insert(&state.db, new, seal)
        .await?
        .ok_or_else(|| ServerError::Config(format!("an operator {email} exists already")))?;
    let totp_uri = secret.map(|secret| {
        let account = countersign_otp::Account::new(
            Some(TOTP_ISSUER.to_owned()),
            email.clone(),
            secret,
            countersign_otp::OtpParameters::default_totp(),
        );
        countersign_otp::otpauth::to_uri(&account)
    });
    Ok(Created { id, totp_uri })
}

pub async fn list(state: &AppState) -> Result<Vec<Operator>, ServerError> {
    Ok(stored::list(&state.db).await?)
}

pub async fn by_id(state: &AppState, id: i64) -> Result<Option<Operator>, ServerError> {
    Ok(stored::by_id(&state.db, id).await?)
}

/// Disables the operator `email` and ends their sessions.
pub async fn disable(state: &AppState, email: &str) -> Result<(), ServerError> {
    let email = normalize_email(email).unwrap_or_default();
    if !stored::disable(&state.db, &email).await? {
        return Err(ServerError::Config(format!("no operator {email}")));
    }
    Ok(())
}

/// What the password step decided.
#[derive(Debug)]
pub enum PasswordCheck {
    /// An enabled account, this password, attempts left on the account and the address.
    Accepted(Operator),
    /// Anything else, after the same work (the address over its limit aside: see below).
    Refused,
    /// Too many password checks are running: nothing was counted, try again shortly.
    Busy,
}

/// Password hashes computed at once, process-wide. Each takes 19 MiB and a core for tens of
/// milliseconds, and the login form needs no account: without a bound a flood of posts queues
/// hashes on the blocking pool (up to 512 threads, ~10 GiB) and takes the API down with it.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
/// How long a password step waits for a hashing slot before answering "busy".
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The password step: [`PasswordCheck::Accepted`] when `email` names an enabled account whose
/// password this is and neither the account nor `address` has used up its attempts. An
/// address over its limit is refused without hashing (its own count is no secret, and this
/// keeps one address from costing more than its attempts); every other refusal costs the
/// same hash, so timing does not tell which accounts exist.
pub async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
    address: &str,
) -> Result<PasswordCheck, ServerError> {
    let Ok(Ok(_slot)) = tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await else {
        return Ok(PasswordCheck::Busy);
    };
    let now = now();
    let window_start = now - ATTEMPT_WINDOW_SECONDS;
    let counted_as = address.parse().map_or_else(
        |_| address.to_owned(),
        |ip| crate::limits::limited_address(ip).to_string(),
    );
    let from_address =
        stored::count_address_attempt(&state.db, &counted_as, now, window_start).await?;
    if from_address > ADDRESS_ATTEMPTS {
        return Ok(PasswordCheck::Refused);
    }
    let email = normalize_email(email).unwrap_or_default();
    let from_account = stored::count_account_attempt(&state.db, &email, now, window_start).await?;
    let found = stored::with_password(&state.db, &email).await?;
    let bounded = password.len() <= MAX_PASSWORD * 4;
    let (operator, phc) = match found {
        Some((operator, phc)) => (Some(operator), Some(phc)),
        None => (None, DECOY_HASH.clone()),
    };
    let typed = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || {
        bounded && phc.is_some_and(|phc| password_matches(&typed, &phc))
    })
    .await
    .unwrap_or(false);
    let within_limits = from_account.is_some_and(|n| n <= ACCOUNT_ATTEMPTS);
    Ok(operator
        .filter(|o| matches && within_limits && !o.disabled)
        .map_or(PasswordCheck::Refused, PasswordCheck::Accepted))
}

/// The TOTP step: true when `code` is the operator's current code, not used before, and the
/// account has attempts left (each try counts).
pub async fn check_totp(
    state: &AppState,
    operator: &Operator,
    code: &str,
) -> Result<bool, ServerError> {
    let now = now();
    let attempts = stored::count_account_attempt(
        &state.db,
        &operator.email,
        now,
        now - ATTEMPT_WINDOW_SECONDS,
    )
    .await?;
    let Some(sealed) = &operator.totp_sealed else {
        return Ok(false);
    };
    if attempts.is_none_or(|n| n > ACCOUNT_ATTEMPTS) || code.len() > 16 {
        return Ok(false);
    }
    let secret = state
        .master
        .open(&format!("operators.totp:{}", operator.id), sealed)?;
    let Some(found) = otp::authenticator_account(&secret)
        .and_then(|account| otp::check(&account, code.trim(), now, otp::APP_WINDOW, 0))
    else {
        return Ok(false);
    };
    let step = i64::try_from(found.step).unwrap_or(i64::MAX);
    Ok(stored::use_totp_step(&state.db, operator.id, step).await?)
}

/// A sign-in completed: the account's attempt count starts again.
pub async fn signed_in(state: &AppState, operator: &Operator) -> Result<(), ServerError> {
    Ok(stored::clear_account_attempts(&state.db, operator.id).await?)
}
