//! Sending an SMS or voice call through the configured provider and keeping its outcome
//! (`store::message_log`) for the console's deliveries page. Both senders of the API (codes,
//! phone verification) go through [`send`]. Logging is best effort: a lost line must not
//! turn a sent message into an error.

use crate::delivery::{Message, SendError};
use crate::state::{AppState, now};
use crate::store::message_log::{self, MessageAttempt};

/// Sends `message`, then logs whether the provider took it.
pub async fn send(state: &AppState, message: &Message) -> Result<(), SendError> {
    let outcome = state.sender.send(message).await;
    let (logged_state, reason) = match &outcome {
        Ok(()) => ("sent", String::new()),
        Err(e) => ("failed", e.to_string()),
    };
    let attempt = MessageAttempt {
        app_id: message.app_id,
        channel: message.channel.name(),
        recipient: &message.to,
        state: logged_state,
        reason: &reason,
        time: now(),
    };
    if let Err(e) = message_log::insert(&state.db, &attempt).await {
        tracing::warn!(error = %e, "could not log a message");
    }
    outcome
}
