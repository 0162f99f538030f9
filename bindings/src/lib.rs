//! `countersign-ffi`: the only crate that knows uniffi. It exposes the core to the Kotlin and
//! Swift shells as one `Authenticator` object, plain records, a small error enum and three
//! foreign traits (device signer, key provider, clock) bridged to the core's own traits.
//! Generated bindings: `scripts/bindings kotlin|swift` (uniffi-bindgen with `--config uniffi.toml`).

uniffi::setup_scaffolding!();

mod authenticator;
mod error;
mod platform;
mod records;

pub use authenticator::{Authenticator, KdfStrength};
pub use error::CountersignError;
pub use platform::{Clock, DeviceKeyStore, DeviceSigner, KeyProvider};
pub use records::*;
