//! The `[sms]` and `[push]` sections of the config file: `[sms] provider` names the SMS
//! provider, and each provider reads its own table (`[sms.twilio]`, `[push.fcm]`, …).
//! The flat keys of earlier versions (`sender`, `twilio_from`, `fcm_service_account_file`, …)
//! and their `COUNTERSIGN_*` variables stay accepted as [`Alias`]es into those tables, so
//! existing deployments keep working.

use serde::Deserialize;
use toml::Value;

use super::provider::Table;

/// The `[sms]` section.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SmsSettings {
    /// The provider that sends (default `log`).
    pub provider: Option<String>,
    /// Every other key: a provider's table, by its name.
    #[serde(flatten)]
    pub tables: Table,
}

/// Both sections, as the providers are built from them.
#[derive(Debug, Default, Clone)]
pub struct DeliverySettings {
    pub sms: SmsSettings,
    /// The `[push]` section: a table per configured push provider.
    pub push: Table,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Sms,
    Push,
}

/// A flat key of earlier versions standing for `key` in `[section.provider]`.
pub struct Alias<'a> {
    pub section: Section,
    pub provider: &'static str,
    pub key: &'static str,
    pub value: Option<&'a str>,
    /// Whether the flat key alone configures the provider (creates its table); the others
    /// only fill a table that exists. Keeps `fcm_endpoint` alone from configuring FCM.
    pub creates_table: bool,
}

impl DeliverySettings {
    /// The file's sections with the aliases applied; an alias overrides the same key in the
    /// table (so a `COUNTERSIGN_*` variable overrides the file, as for every other key).
    pub fn new(
        sms: Option<&SmsSettings>,
        push: Option<&Table>,
        sender: Option<&str>,
        aliases: &[Alias<'_>],
    ) -> DeliverySettings {
        let mut settings = DeliverySettings {
            sms: sms.cloned().unwrap_or_default(),
            push: push.cloned().unwrap_or_default(),
        };
        if let Some(sender) = sender {
            settings.sms.provider = Some(sender.to_owned());
        }
        // Table-creating aliases first, so that the others find their table.
        let creating = aliases.iter().filter(|a| a.creates_table);
        let filling = aliases.iter().filter(|a| !a.creates_table);
        for alias in creating.chain(filling) {
            settings.apply(alias);
        }
        settings
    }

    fn apply(&mut self, alias: &Alias<'_>) {
        let Some(value) = alias.value else { return };
        let section = match alias.section {
            Section::Sms => &mut self.sms.tables,
            Section::Push => &mut self.push,
        };
        if !alias.creates_table && !section.contains_key(alias.provider) {
            return;
        }
        let table = section
            .entry(alias.provider)
            .or_insert_with(|| Value::Table(Table::new()));
        // A non-table value is reported when the provider is built; leave it as it is.
        if let Value::Table(table) = table {
            table.insert(alias.key.to_owned(), Value::String(value.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias<'a>(
        section: Section,
        provider: &'static str,
        key: &'static str,
        value: Option<&'a str>,
        creates_table: bool,
    ) -> Alias<'a> {
        Alias {
            section,
            provider,
            key,
            value,
            creates_table,
        }
    }

    #[test]
    fn a_filling_alias_alone_configures_no_provider() {
        let aliases = [
            alias(Section::Push, "fcm", "service_account_file", None, true),
            alias(
                Section::Push,
                "fcm",
                "endpoint",
                Some("http://proxy"),
                false,
            ),
        ];
        let settings = DeliverySettings::new(None, None, None, &aliases);
        assert!(settings.push.is_empty());
    }

    #[test]
    fn a_filling_alias_fills_the_table_its_anchor_created_whatever_their_order() {
        let aliases = [
            alias(
                Section::Push,
                "fcm",
                "endpoint",
                Some("http://proxy"),
                false,
            ),
            alias(
                Section::Push,
                "fcm",
                "service_account_file",
                Some("/sa.json"),
                true,
            ),
        ];
        let settings = DeliverySettings::new(None, None, None, &aliases);
        let expected: Table = toml::from_str(
            "[fcm]\nservice_account_file = \"/sa.json\"\nendpoint = \"http://proxy\"",
        )
        .unwrap();
        assert_eq!(settings.push, expected);
    }

    #[test]
    fn aliases_override_the_file_tables_and_the_sender_the_provider() {
        let sms: SmsSettings =
            toml::from_str("provider = \"log\"\n[twilio]\nfrom = \"+1\"\naccount_sid = \"AC1\"")
                .unwrap();
        let aliases = [
            alias(Section::Sms, "twilio", "from", Some("+2"), true),
            alias(Section::Sms, "twilio", "auth_token", None, true),
        ];
        let settings = DeliverySettings::new(Some(&sms), None, Some("twilio"), &aliases);
        assert_eq!(settings.sms.provider.as_deref(), Some("twilio"));
        let expected: Table = toml::from_str("from = \"+2\"\naccount_sid = \"AC1\"").unwrap();
        assert_eq!(settings.sms.tables["twilio"], Value::Table(expected));
    }
}
