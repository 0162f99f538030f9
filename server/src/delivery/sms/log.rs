//! `log` (the default): messages go to the local `outbox` table instead of a phone, for
//! development and tests (`countersign-server outbox` lists them). The body holds a one-time
//! code, so it is sealed with the master key like every other secret: the database alone
//! reveals none. Its table `[sms.log]` takes no keys.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use crate::store::db::Db;
use crate::delivery::provider::{Context, DeliveryError, SmsProvider, Table, parse_table};
use crate::delivery::sender::{Message, SendError, SendFuture, Sender};
use crate::error::ServerError;
use crate::seal::MasterKey;
use crate::store::outbox;

pub const PROVIDER: SmsProvider = SmsProvider {
    name: "log",
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogConfig {}

fn build(table: &Table, context: &Context) -> Result<Arc<dyn Sender>, DeliveryError> {
    let LogConfig {} = parse_table("sms", PROVIDER.name, table)?;
    Ok(Arc::new(LogSender {
        db: context.db.clone(),
        master: context.master.clone(),
    }))
}

pub struct LogSender {
    db: Db,
    master: MasterKey,
}

/// Binds a sealed body to its recipient.
fn outbox_context(recipient: &str) -> String {
    format!("outbox.body:{recipient}")
}

impl Sender for LogSender {
    fn send<'a>(&'a self, m: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let sealed = self.master.seal(&outbox_context(&m.to), m.body.as_bytes());
            let time = crate::delivery::now();
            outbox::insert(&self.db, m.app_id, m.channel.name(), &m.to, &sealed, time)
                .await
                .map_err(|e| SendError::Outbox(e.to_string()))?;
            tracing::info!(channel = m.channel.name(), "message written to the outbox");
            Ok(())
        })
    }
}

/// The outbox, oldest first, opened: `{id, app_id, channel, recipient, text, created_at}`
/// (for `countersign-server outbox`, a development tool).
pub async fn read_outbox(
    db: &Db,
    master: &MasterKey,
) -> Result<Vec<serde_json::Value>, ServerError> {
    let rows = outbox::all(db).await?;
    rows.into_iter()
        .map(|r| {
            let text = master.open(&outbox_context(&r.recipient), &r.sealed_body)?;
            Ok(json!({
                "id": r.id,
                "app_id": r.app_id,
                "channel": r.channel,
                "recipient": r.recipient,
                "text": String::from_utf8_lossy(&text),
                "created_at": r.created_at,
            }))
        })
        .collect()
}
