//! SMS and voice delivery behind one trait: `log` (a local outbox, the default), `webhook`
//! (POST JSON to an operator's URL) and `twilio` (Twilio's Messaging and Voice REST APIs).

use serde_json::json;

use crate::clock::now;
use crate::error::ServerError;
use crate::seal::MasterKey;
use crate::store::db::Db;

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
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the provider refused the message (HTTP {0})")]
    Refused(u16),
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the outbox could not be written: {0}")]
    Outbox(String),
}

/// What `Sender::send` returns: a boxed future, so the trait stays object-safe.
pub type SendFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SendError>> + Send + 'a>>;

pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a>;
}

/// Writes messages to the `outbox` table (`countersign-server outbox` lists them). The body
/// holds a one-time code, so it is sealed with the master key like every other secret: the
/// database alone reveals none.
pub struct LogSender {
    pub db: Db,
    pub master: MasterKey,
}

fn outbox_context(recipient: &str) -> String {
    format!("outbox.body:{recipient}")
}

impl Sender for LogSender {
    fn send<'a>(&'a self, m: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let sealed = self.master.seal(&outbox_context(&m.to), m.body.as_bytes());
            sqlx::query("INSERT INTO outbox (app_id, channel, recipient, body, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(m.app_id)
                .bind(m.channel.name())
                .bind(&m.to)
                .bind(sealed)
                .bind(now())
                .execute(&self.db.writer)
                .await
                .map_err(|e| SendError::Outbox(e.to_string()))?;
            tracing::info!(channel = m.channel.name(), "message written to the outbox");
            Ok(())
        })
    }
}

/// The `log` sender's messages, oldest first, opened: `{id, app_id, channel, recipient, text,
/// created_at}` (for `countersign-server outbox`, a development tool).
pub async fn read_outbox(
    db: &Db,
    master: &MasterKey,
) -> Result<Vec<serde_json::Value>, ServerError> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, app_id, channel, recipient, body, created_at FROM outbox ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let recipient: String = r.get(3);
            let text = master.open(&outbox_context(&recipient), &r.get::<String, _>(4))?;
            Ok(json!({
                "id": r.get::<i64, _>(0),
                "app_id": r.get::<i64, _>(1),
                "channel": r.get::<String, _>(2),
                "recipient": recipient,
                "text": String::from_utf8_lossy(&text),
                "created_at": r.get::<i64, _>(5),
            }))
        })
        .collect()
}

/// POSTs `{"channel", "to", "body"}` to an operator's endpoint.
pub struct WebhookSender {
    pub http: reqwest::Client,
    pub url: String,
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, m: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let response = self
                .http
                .post(&self.url)
                .json(&json!({"channel": m.channel.name(), "to": m.to, "body": m.body}))
                .send()
                .await
                .map_err(|e| SendError::Unreachable(e.without_url().to_string()))?;
            if !response.status().is_success() {
                return Err(SendError::Refused(response.status().as_u16()));
            }
            Ok(())
        })
    }
}

/// Twilio: `Messages.json` for SMS, `Calls.json` with inline TwiML for voice.
pub struct TwilioSender {
    pub http: reqwest::Client,
    /// `https://api.twilio.com` in production; a local fake in tests.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub from: String,
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Sender for TwilioSender {
    fn send<'a>(&'a self, m: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let (resource, form) = match m.channel {
                Channel::Sms => (
                    "Messages",
                    vec![
                        ("To", m.to.clone()),
                        ("From", self.from.clone()),
                        ("Body", m.body.clone()),
                    ],
                ),
                Channel::Call => {
                    // Digits spoken one by one, twice, as voice codes are read out.
                    let twiml = format!(
                        "<Response><Say>{0}</Say><Pause length=\"1\"/><Say>{0}</Say></Response>",
                        xml_escape(&m.body)
                    );
                    (
                        "Calls",
                        vec![
                            ("To", m.to.clone()),
                            ("From", self.from.clone()),
                            ("Twiml", twiml),
                        ],
                    )
                }
            };
            let url = format!(
                "{}/2010-04-01/Accounts/{}/{resource}.json",
                self.base_url.trim_end_matches('/'),
                self.account_sid
            );
            let response = self
                .http
                .post(url)
                .basic_auth(&self.account_sid, Some(&self.auth_token))
                .form(&form)
                .send()
                .await
                .map_err(|e| SendError::Unreachable(e.without_url().to_string()))?;
            if !response.status().is_success() {
                return Err(SendError::Refused(response.status().as_u16()));
            }
            Ok(())
        })
    }
}
