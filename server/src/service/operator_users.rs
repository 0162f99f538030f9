//! The console's user pages: finding users by Authy id, email or phone, one user's state
//! (devices, recent verifications, recent approval requests), revoking a device and deleting
//! the user. Operators see every app's users; each change names the operator in the audit
//! trail. Queries are bounded (length of what is typed, page size) before any work.

use super::users as api_users;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::approval_list::{self, ApprovalFilter, ApprovalLine};
use crate::store::devices::{self, DeviceRow};
use crate::store::user_search::{self, FoundUser, Search};
use crate::store::verification_log::{self, VerificationRow};

/// Users per search page.
pub const PAGE_SIZE: i64 = 25;
/// Longest search text taken (an email address is at most 254 characters).
pub const MAX_QUERY: usize = 254;
/// Digits a phone prefix needs: fewer would match a whole country (`1`) or collide with
/// every short Authy id.
const MIN_PHONE_DIGITS: usize = 4;
/// Recent verifications and approval requests shown on a user's page.
const RECENT: i64 = 20;

/// One page of search results; `next_after` continues it.
pub struct UserPage {
    pub users: Vec<FoundUser>,
    pub next_after: Option<i64>,
}

/// The keys `text` can be: an Authy id (all digits), an email (exact or prefix, any case) and
/// a phone number (its digits, once spaces, dashes, dots, brackets and `+` are dropped; at
/// least [`MIN_PHONE_DIGITS`]).
fn keys(text: &str) -> (Option<i64>, String, Option<String>) {
    let id = text.parse::<i64>().ok().filter(|id| *id > 0);
    let phone: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '+'))
        .collect();
    let phone = (phone.len() >= MIN_PHONE_DIGITS && phone.bytes().all(|b| b.is_ascii_digit()))
        .then_some(phone);
    (id, text.to_lowercase(), phone)
}

/// Users matching `text` (trimmed; empty or too long finds nothing), ids above `after`.
pub async fn search(state: &AppState, text: &str, after: i64) -> Result<UserPage, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_QUERY {
        return Ok(UserPage {
            users: Vec::new(),
            next_after: None,
        });
    }
    let (id, email, phone) = keys(text);
    let search = Search {
        id,
        email: Some(&email),
        phone: phone.as_deref(),
    };
    // One more than a page tells whether another page follows.
    let mut users = user_search::search(&state.db, &search, after.max(0), PAGE_SIZE + 1).await?;
    let next_after = if users.len() as i64 > PAGE_SIZE {
        users.truncate(PAGE_SIZE as usize);
        users.last().map(|u| u.id)
    } else {
        None
    };
    Ok(UserPage { users, next_after })
}

/// What a user's page shows.
pub struct UserView {
    pub user: FoundUser,
    pub devices: Vec<DeviceRow>,
    pub verifications: Vec<VerificationRow>,
    pub approvals: Vec<ApprovalLine>,
}

fn user_not_found() -> ApiError {
    ApiError::not_found("User not found.")
}

async fn found(state: &AppState, id: i64) -> Result<FoundUser, ApiError> {
    user_search::by_id(&state.db, id)
        .await?
        .ok_or_else(user_not_found)
}

pub async fn view(state: &AppState, id: i64) -> Result<UserView, ApiError> {
    let user = found(state, id).await?;
    let filter = ApprovalFilter {
        app_id: None,
        user_id: Some(user.id),
        status: None,
    };
    Ok(UserView {
        devices: devices::list(&state.db, user.id).await?,
        verifications: verification_log::recent(&state.db, user.id, RECENT).await?,
        approvals: approval_list::list(&state.db, &filter, 0, RECENT).await?,
        user,
    })
}

/// Revokes the user's device (the statement the API's revoke route runs).
pub async fn revoke_device(
    state: &AppState,
    operator: &str,
    user_id: i64,
    device_id: i64,
) -> Result<(), ApiError> {
    let user = found(state, user_id).await?;
    if !devices::revoke(&state.db, device_id, user.id).await? {
        return Err(ApiError::not_found("Device not found."));
    }
    let event = super::audit::AuditEvent {
        actor: operator.to_owned(),
        action: "device.revoke",
        subject: format!("user:{}", user.id),
        details: serde_json::json!({"app_id": user.app_id, "device_id": device_id}),
    };
    super::audit::record(state, event).await
}

/// Deletes the user (as the API's delete route does: the seed goes, the row stays).
pub async fn delete(state: &AppState, operator: &str, user_id: i64) -> Result<(), ApiError> {
    let user = found(state, user_id).await?;
    api_users::delete(state, user.app_id, &user.id.to_string()).await?;
    let event = super::audit::AuditEvent {
        actor: operator.to_owned(),
        action: "user.delete",
        subject: format!("user:{}", user.id),
        details: serde_json::json!({"app_id": user.app_id}),
    };
    super::audit::record(state, event).await
}

#[cfg(test)]
mod tests {
    use super::keys;

    #[test]
    fn typed_text_becomes_each_key_it_can_be() {
        assert_eq!(keys("42"), (Some(42), "42".to_owned(), None));
        assert_eq!(
            keys("+1 (555) 010-99"),
            (
                None,
                "+1 (555) 010-99".to_owned(),
                Some("155501099".to_owned())
            )
        );
        assert_eq!(
            keys("Ann@Example.ORG"),
            (None, "ann@example.org".to_owned(), None)
        );
        assert_eq!(keys("50%_"), (None, "50%_".to_owned(), None));
        assert_eq!(keys("-3"), (None, "-3".to_owned(), None));
        assert_eq!(
            keys("4412"),
            (Some(4412), "4412".to_owned(), Some("4412".to_owned()))
        );
    }
}
