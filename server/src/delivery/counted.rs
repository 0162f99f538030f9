//! The configured providers, wrapped so each delivery is counted for `/metrics` by provider
//! and result. Providers stay unaware of metrics; the wrapper knows the name they were
//! registered under.

use std::sync::Arc;

use super::notifier::{PushError, PushFuture, PushTarget, Pusher};
use super::sender::{Channel, Message, SendError, SendFuture, Sender};
use crate::metrics::Metrics;

/// An SMS/voice provider whose sends are counted.
pub struct CountedSender {
    pub inner: Arc<dyn Sender>,
    pub provider: &'static str,
    pub metrics: Metrics,
}

impl Sender for CountedSender {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let sent = self.inner.send(message).await;
            let channel = match message.channel {
                Channel::Sms => "sms",
                Channel::Call => "voice",
            };
            self.metrics
                .delivery(channel, self.provider, send_result(&sent));
            sent
        })
    }
}

fn send_result(sent: &Result<(), SendError>) -> &'static str {
    match sent {
        Ok(()) => "sent",
        Err(SendError::Refused(_)) => "refused",
        Err(SendError::Unreachable(_)) => "unreachable",
        Err(SendError::Landline | SendError::NumberUnreachable) => "bad_number",
        Err(_) => "failed",
    }
}

/// A push provider whose pushes are counted.
pub struct CountedPusher {
    pub inner: Box<dyn Pusher>,
    pub provider: &'static str,
    pub metrics: Metrics,
}

impl Pusher for CountedPusher {
    fn serves(&self, os: &str) -> bool {
        self.inner.serves(os)
    }

    fn push<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a> {
        Box::pin(async move {
            let pushed = self.inner.push(target, uuid).await;
            let result = match &pushed {
                Ok(()) => "sent",
                Err(PushError::Unregistered) => "unregistered",
                Err(_) => "failed",
            };
            self.metrics.push(self.provider, result);
            pushed
        })
    }
}
