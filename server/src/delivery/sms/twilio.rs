//! `twilio`: Twilio's REST API — `Messages.json` for SMS, `Calls.json` with inline TwiML for
//! voice. `[sms.twilio]`: `account_sid`, `auth_token`, `from`, optional `base_url` (default
//! `https://api.twilio.com`; a local fake in tests).

use std::sync::Arc;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::delivery::provider::{Context, DeliveryError, SmsProvider, Table, parse_table};
use crate::delivery::sender::{Channel, Message, SendError, SendFuture, Sender};

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

/// The `<Say language>` of each message locale (Twilio's text-to-speech language codes).
#[rustfmt::skip]
const SAY_LANGUAGES: &[(&str, &str)] = &[
    ("af", "af-ZA"), ("ar", "ar-AE"), ("ca", "ca-ES"), ("zh", "zh-TW"), ("zh-CN", "zh-CN"),
    ("zh-HK", "zh-HK"), ("hr", "hr-HR"), ("cs", "cs-CZ"), ("da", "da-DK"), ("nl", "nl-NL"),
    ("en", "en-US"), ("fi", "fi-FI"), ("fr", "fr-FR"), ("de", "de-DE"), ("el", "el-GR"),
    ("he", "he-IL"), ("hi", "hi-IN"), ("hu", "hu-HU"), ("id", "id-ID"), ("it", "it-IT"),
    ("ja", "ja-JP"), ("ko", "ko-KR"), ("ms", "ms-MY"), ("nb", "nb-NO"), ("pl", "pl-PL"),
    ("pt-BR", "pt-BR"), ("pt", "pt-PT"), ("ro", "ro-RO"), ("ru", "ru-RU"), ("es", "es-ES"),
    ("sv", "sv-SE"), ("tl", "fil-PH"), ("th", "th-TH"), ("tr", "tr-TR"), ("vi", "vi-VN"),
];

fn say_language(locale: &str) -> &'static str {
    SAY_LANGUAGES
        .iter()
        .find(|(l, _)| *l == locale)
        .map_or("en-US", |(_, say)| *say)
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
            // Digits spoken one by one, twice, as voice codes are read out, in the voice of
            // the message's language.
            let say = format!(
                "<Say language=\"{}\">{}</Say>",
                say_language(m.locale),
                xml_escape(&m.body)
            );
            let twiml = format!("<Response>{say}<Pause length=\"1\"/>{say}</Response>");
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
            outcome(sent).await
        })
    }
}

/// Twilio error codes that say the number itself is the problem (Twilio's error
/// dictionary): 21614 "not a mobile number"; 21211/21217/13224 invalid number, 21612 not
/// reachable, 21610 unsubscribed, 21408 region not enabled.
const LANDLINE: &[i64] = &[21614];
const UNREACHABLE: &[i64] = &[21211, 21217, 13224, 21612, 21610, 21408];
/// A Twilio error body is a few hundred bytes; more is not read.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Twilio's answer: `Ok` on 2xx; a refusal is classified by the `code` of its JSON body.
async fn outcome(sent: Result<reqwest::Response, reqwest::Error>) -> Result<(), SendError> {
    let mut response = sent.map_err(|e| SendError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ERROR_BODY {
            break;
        }
    }
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("code").and_then(serde_json::Value::as_i64));
    Err(match code {
        Some(code) if LANDLINE.contains(&code) => SendError::Landline,
        Some(code) if UNREACHABLE.contains(&code) => SendError::NumberUnreachable,
        _ => SendError::Refused(status.as_u16()),
    })
}
