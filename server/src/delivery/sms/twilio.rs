//! `twilio`: Twilio's REST API — `Messages.json` for SMS, `Calls.json` with inline TwiML for
//! voice. `[sms.twilio]`: `account_sid`, `auth_token`, `from`, optional `base_url` (default
//! `https://api.twilio.com`; a local fake in tests).

use std::sync::Arc;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::delivery::provider::{Context, DeliveryError, SmsProvider, Table, parse_table};
use crate::delivery::sender::{Channel, Message, SendFuture, Sender, accepted};

pub const PROVIDER: SmsProvider = SmsProvider {
    name: "twilio",
    build,
};

const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TwilioConfig {
    account_sid: String,
    auth_token: String,
    from: String,
    base_url: Option<String>,
}

fn build(table: &Table, context: &Context) -> Result<Arc<dyn Sender>, DeliveryError> {
    let config: TwilioConfig = parse_table("sms", PROVIDER.name, table)?;
    Ok(Arc::new(TwilioSender {
        http: context.http.clone(),
        base_url: config
            .base_url
            .unwrap_or_else(|| DEFAULT_BASE_URL.into()),
        account_sid: config.account_sid,
        auth_token: Zeroizing::new(config.auth_token),
        from: config.from,
    }))
}

pub struct TwilioSender {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: Zeroizing<String>,
    from: String,
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The API resource and the form fields for one message.
fn request(from: &str, m: &Message) -> (&'static str, Vec<(&'static str, String)>) {
    match m.channel {
        Channel::Sms => (
            "Messages",
            vec![
                ("To", m.to.clone()),
                ("From", from.to_owned()),
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
                    ("From", from.to_owned()),
                    ("Twiml", twiml),
                ],
            )
        }
    }
}

impl Sender for TwilioSender {
    fn send<'a>(&'a self, m: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let (resource, form) = request(&self.from, m);
            let url = format!(
                "{}/2010-04-01/Accounts/{}/{resource}.json",
                self.base_url.trim_end_matches('/'),
                self.account_sid
            );
            let sent = self
                .http
                .post(url)
                .basic_auth(&self.account_sid, Some(self.auth_token.as_str()))
                .form(&form)
                .send()
                .await;
            accepted(sent)
        })
    }
}
