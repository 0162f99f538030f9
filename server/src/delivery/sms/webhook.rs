//! `webhook`: POSTs `{"channel", "to", "body"}` to an operator's endpoint, which sends the
//! message its own way. `[sms.webhook]`: `url`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use crate::delivery::provider::{Context, DeliveryError, SmsProvider, Table, parse_table};
use crate::delivery::sender::{Message, SendFuture, Sender, accepted};

pub const PROVIDER: SmsProvider = SmsProvider {
    name: "webhook",
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookConfig {
    url: String,
}

fn build(table: &Table, context: &Context) -> Result<Arc<dyn Sender>, DeliveryError> {
    let config: WebhookConfig = parse_table("sms", PROVIDER.name, table)?;
    Ok(Arc::new(WebhookSender {
        http: context.http.clone(),
        url: config.url,
    }))
}

pub struct WebhookSender {
    http: reqwest::Client,
    url: String,
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, m: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let body = json!({"channel": m.channel.name(), "to": m.to, "body": m.body, "locale": m.locale});
            accepted(self.http.post(&self.url).json(&body).send().await)
        })
    }
}
