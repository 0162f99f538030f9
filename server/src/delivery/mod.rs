//! Delivery to the world outside: SMS and voice codes, pushes to devices, callbacks to banks.
//!
//! Providers are plain data, as in rustls: each is a file under `sms/` or `push/` that
//! exports a `PROVIDER` constant — its name and a constructor from its own config table
//! (`[sms.<name>]`, `[push.<name>]`) — and one line below lists it. Adding a provider is
//! that file plus that line; nothing else names it (the table is found by the name).

pub mod callbacks;
pub mod counted;
pub mod notifier;
pub mod provider;
pub mod sender;
pub mod settings;
mod setup;

pub use notifier::{Notifier, PushError, PushRouter, PushTarget, Pusher, notify_user};
pub use provider::{Context, DeliveryError, PushProvider, SmsProvider};
pub use sender::{Channel, Message, SendError, Sender};
pub use setup::{build_all, build_counted, push_router, sms_sender};

pub(crate) use crate::clock::now;

/// Declares each provider's module in `$dir` and lists its `PROVIDER` in `$list`, in order:
/// so that registering a provider is one line.
macro_rules! registry {
    ($list:ident: $entry:ty, mod $dir:ident { $($provider:ident,)* }) => {
        pub mod $dir {
            $(pub mod $provider;)*
        }
        pub static $list: &[$entry] = &[$($dir::$provider::PROVIDER),*];
    };
}

registry!(SMS_PROVIDERS: SmsProvider, mod sms {
    log,
    webhook,
    twilio,
});

// A device's OS picks the first configured provider, in this order, that serves it.
registry!(PUSH_PROVIDERS: PushProvider, mod push {
    fcm,
    apns,
    webhook,
});

#[cfg(test)]
mod tests {
    use super::{PUSH_PROVIDERS, SMS_PROVIDERS};

    /// The order is documented: the push order decides which provider serves an OS.
    #[test]
    fn the_registries_list_the_documented_providers_in_order() {
        let sms: Vec<_> = SMS_PROVIDERS.iter().map(|p| p.name).collect();
        let push: Vec<_> = PUSH_PROVIDERS.iter().map(|p| p.name).collect();
        assert_eq!(sms, ["log", "webhook", "twilio"]);
        assert_eq!(push, ["fcm", "apns", "webhook"]);
    }
}
