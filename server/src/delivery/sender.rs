//! What an SMS provider is to the handlers: one `Sender` that delivers a code by text
//! message or voice call. Which provider that is comes from `[sms] provider`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Call,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Call => "call",
        }
    }
}

/// One message to deliver. `body` holds a one-time code: never log it.
pub struct Message {
    pub app_id: i64,
    pub channel: Channel,
    /// E.164, e.g. `+15551234567`.
    pub to: String,
    pub body: String,
    /// The locale the body is written in (`service::templates`), e.g. `pt-BR`: a voice
    /// provider picks its speaking voice by it.
    pub locale: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    #[error("the provider refused the message (HTTP {0})")]
    Refused(u16),
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the outbox could not be written: {0}")]
    Outbox(String),
    /// The provider says the number is a landline, which cannot receive text messages.
    #[error("the provider says the number is a landline")]
    Landline,
    /// The provider says the number is invalid or cannot be reached.
    #[error("the provider says the number cannot be reached")]
    NumberUnreachable,
}

/// What `Sender::send` returns: a boxed future, so the trait stays object-safe.
pub type SendFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SendError>> + Send + 'a>>;

pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a>;
}

/// A provider's POST answered: `Ok` on 2xx, else the status it refused with.
pub(crate) fn accepted(sent: Result<reqwest::Response, reqwest::Error>) -> Result<(), SendError> {
    let response = sent.map_err(|e| SendError::Unreachable(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(SendError::Refused(response.status().as_u16()));
    }
    Ok(())
}
