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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A provider that answers each send or push with the next outcome of its script.
    struct Scripted(std::sync::Mutex<Vec<bool>>);

    impl Scripted {
        fn next(&self) -> bool {
            self.0.lock().unwrap().remove(0)
        }
    }

    impl Sender for Scripted {
        fn send<'a>(&'a self, _: &'a Message) -> SendFuture<'a> {
            let ok = self.next();
            Box::pin(async move {
                if ok {
                    Ok(())
                } else {
                    Err(SendError::Refused(500))
                }
            })
        }
    }

    impl Pusher for Scripted {
        fn serves(&self, _: &str) -> bool {
            true
        }
        fn push<'a>(&'a self, _: &'a PushTarget, _: &'a str) -> PushFuture<'a> {
            let ok = self.next();
            Box::pin(async move {
                if ok {
                    Ok(())
                } else {
                    Err(PushError::Unregistered)
                }
            })
        }
    }

    #[tokio::test]
    async fn deliveries_and_pushes_are_counted_by_provider_and_result() {
        let metrics = Metrics::new();
        let sender = CountedSender {
            inner: Arc::new(Scripted(std::sync::Mutex::new(vec![true, true, false]))),
            provider: "twilio",
            metrics: metrics.clone(),
        };
        let message = Message {
            app_id: 1,
            channel: Channel::Call,
            to: "+15551234567".into(),
            body: "Your code is 1234567".into(),
            locale: "en",
        };
        for _ in 0..3 {
            let _ = sender.send(&message).await;
        }
        let pusher = CountedPusher {
            inner: Box::new(Scripted(std::sync::Mutex::new(vec![false, true]))),
            provider: "apns",
            metrics: metrics.clone(),
        };
        let target = PushTarget {
            device_id: 1,
            os: "ios".into(),
            token: "t".into(),
        };
        for _ in 0..2 {
            let _ = pusher.push(&target, "uuid").await;
        }
        let page = metrics.encode();
        for line in [
            "countersign_code_deliveries_total{channel=\"voice\",provider=\"twilio\",result=\"sent\"} 2",
            "countersign_code_deliveries_total{channel=\"voice\",provider=\"twilio\",result=\"refused\"} 1",
            "countersign_pushes_total{provider=\"apns\",result=\"sent\"} 1",
            "countersign_pushes_total{provider=\"apns\",result=\"unregistered\"} 1",
        ] {
            assert!(page.lines().any(|l| l == line), "{line} not in:\n{page}");
        }
        assert!(!page.contains("1234567") && !page.contains("+1555"));
    }
}
