//! Building the configured providers from the registries at start: names are looked up in
//! `SMS_PROVIDERS` / `PUSH_PROVIDERS`, and a table naming no provider is an error (a typo
//! must not silently leave pushes or codes undelivered).

use std::sync::Arc;

use toml::Value;

use super::counted::{CountedPusher, CountedSender};
use super::notifier::{PushRouter, Pusher};
use super::provider::{Context, DeliveryError, Table};
use super::sender::Sender;
use super::settings::{DeliverySettings, SmsSettings};
use super::{PUSH_PROVIDERS, SMS_PROVIDERS};

/// The SMS provider when `[sms] provider` is not set.
pub const DEFAULT_SMS_PROVIDER: &str = "log";

fn unknown(section: &'static str, name: &str, known: &[&'static str]) -> DeliveryError {
    DeliveryError::UnknownProvider {
        section,
        name: name.to_owned(),
        known: known.join(", "),
    }
}

/// Every table in `section` must name a registered provider.
fn check_names(
    section: &'static str,
    tables: &Table,
    known: &[&'static str],
) -> Result<(), DeliveryError> {
    match tables.keys().find(|name| !known.contains(&name.as_str())) {
        Some(name) => Err(unknown(section, name, known)),
        None => Ok(()),
    }
}

fn table_of<'a>(
    section: &'static str,
    name: &str,
    value: &'a Value,
) -> Result<&'a Table, DeliveryError> {
    value
        .as_table()
        .ok_or_else(|| DeliveryError::config(section, name, "must be a table"))
}

/// The SMS and voice provider `[sms] provider` names, built from its table (an absent table
/// is an empty one).
pub fn sms_sender(
    settings: &SmsSettings,
    context: &Context,
) -> Result<Arc<dyn Sender>, DeliveryError> {
    let known: Vec<&'static str> = SMS_PROVIDERS.iter().map(|p| p.name).collect();
    check_names("sms", &settings.tables, &known)?;
    let name = settings.provider.as_deref().unwrap_or(DEFAULT_SMS_PROVIDER);
    let provider = SMS_PROVIDERS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| unknown("sms", name, &known))?;
    let empty = Table::new();
    let table = match settings.tables.get(name) {
        Some(value) => table_of("sms", name, value)?,
        None => &empty,
    };
    (provider.build)(table, context)
}

/// Every push provider with a table in `[push]`, in registry order.
pub fn push_router(push: &Table, context: &Context) -> Result<PushRouter, DeliveryError> {
    let known: Vec<&'static str> = PUSH_PROVIDERS.iter().map(|p| p.name).collect();
    check_names("push", push, &known)?;
    let mut router = PushRouter::default();
    for provider in PUSH_PROVIDERS {
        if let Some(value) = push.get(provider.name) {
            let table = table_of("push", provider.name, value)?;
            router.providers.push((provider.build)(table, context)?);
        }
    }
    Ok(router)
}

/// Both, from the settings.
pub fn build_all(
    settings: &DeliverySettings,
    context: &Context,
) -> Result<(Arc<dyn Sender>, PushRouter), DeliveryError> {
    Ok((
        sms_sender(&settings.sms, context)?,
        push_router(&settings.push, context)?,
    ))
}

/// Both, each delivery counted in `metrics` under the provider's registered name.
pub fn build_counted(
    settings: &DeliverySettings,
    context: &Context,
    metrics: &crate::metrics::Metrics,
) -> Result<(Arc<dyn Sender>, PushRouter), DeliveryError> {
    let (sender, push) = build_all(settings, context)?;
    let provider = SMS_PROVIDERS
        .iter()
        .map(|p| p.name)
        .find(|name| Some(*name) == settings.sms.provider.as_deref())
        .unwrap_or(DEFAULT_SMS_PROVIDER);
    let sender = Arc::new(CountedSender {
        inner: sender,
        provider,
        metrics: metrics.clone(),
    });
    // The router keeps registry order; the names of the configured tables, in that order.
    let names = PUSH_PROVIDERS
        .iter()
        .map(|p| p.name)
        .filter(|name| settings.push.contains_key(*name));
    let providers = push
        .providers
        .into_iter()
        .zip(names)
        .map(|(inner, provider)| {
            Box::new(CountedPusher {
                inner,
                provider,
                metrics: metrics.clone(),
            }) as Box<dyn Pusher>
        })
        .collect();
    Ok((sender, PushRouter { providers }))
}
