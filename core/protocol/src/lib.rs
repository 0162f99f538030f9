//! The formats of Countersign's device protocol (docs/device-protocol.md), shared by the
//! authenticator and the server: ES256 keys behind the `DeviceSigner` seam, signature
//! encodings, JWS compact, the canonical strings that bind a signature to exactly what the
//! user saw, registration links, and what may be shown at all. No I/O: the HTTP client is
//! the app crate's (`countersign-app`, feature `client`).

mod content;
mod display;
mod jws;
mod link;
mod sig;
mod signer;

pub use content::{displayed_content, hidden_details_sha256, registration_string, request_string};
pub use display::{
    DisplayField, ForbiddenCharacter, MAX_COMBINING_MARKS, MAX_DETAILS, MAX_KEY_CHARS,
    MAX_MESSAGE_CHARS, MAX_VALUE_CHARS, UndisplayableContent, check_displayable,
};
pub use jws::{JwsError, sign_compact, verify_compact};
pub use link::{LinkError, RegistrationLink};
pub use sig::{SignatureFormatError, der_to_raw, raw_to_der};
pub use signer::{DeviceSigner, SignerError, SoftwareSigner, verify_es256};
