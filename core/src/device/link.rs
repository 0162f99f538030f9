//! The registration link a bank shows as a QR code (docs/device-protocol.md, Registration):
//! `countersign://register?v=1&server=<base64url(server URL)>&code=<one-time code>`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest accepted link; a real one is about 120 characters.
const MAX_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("not a countersign://register link")]
    NotRegistrationLink,
    #[error("registration link is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("unsupported registration link version {0:?}")]
    UnsupportedVersion(String),
    #[error("registration link has no {0} parameter")]
    Missing(&'static str),
    #[error("registration link has {0} more than once")]
    Duplicate(&'static str),
    #[error("registration link's server is not base64url of an https:// or http:// URL")]
    BadServer,
    #[error("registration code must be base32 letters and digits")]
    BadCode,
}

/// A parsed registration link. The code is a one-time secret: it is not printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationLink {
    /// The server's public base URL, e.g. `https://auth.bank.example`.
    pub server_url: String,
    pub code: String,
}

impl std::fmt::Debug for RegistrationLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationLink")
            .field("server_url", &self.server_url)
            .field("code", &"<redacted>")
            .finish()
    }
}

impl RegistrationLink {
    pub fn parse(text: &str) -> Result<RegistrationLink, LinkError> {
        let text = text.trim();
        if text.len() > MAX_LEN {
            return Err(LinkError::TooLong);
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or(LinkError::NotRegistrationLink)?;
        let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !scheme.eq_ignore_ascii_case("countersign")
            || !host.trim_end_matches('/').eq_ignore_ascii_case("register")
        {
            return Err(LinkError::NotRegistrationLink);
        }
        let (mut version, mut server, mut code) = (None, None, None);
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let (slot, label) = match name.as_ref() {
                "v" => (&mut version, "v"),
                "server" => (&mut server, "server"),
                "code" => (&mut code, "code"),
                // Later versions may add parameters; v=1 readers ignore them.
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(LinkError::Duplicate(label));
            }
        }
        let version = version.ok_or(LinkError::Missing("v"))?;
        if version != "1" {
            return Err(LinkError::UnsupportedVersion(
                version.chars().take(8).collect(),
            ));
        }
        let server = server.ok_or(LinkError::Missing("server"))?;
        let server_url = URL_SAFE_NO_PAD
            .decode(server.trim_end_matches('='))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|url| {
                (url.starts_with("https://") || url.starts_with("http://"))
                    && !url.chars().any(|c| c.is_whitespace() || c.is_control())
            })
            .ok_or(LinkError::BadServer)?;
        let code = code.ok_or(LinkError::Missing("code"))?;
        if code.is_empty() || code.len() > 128 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(LinkError::BadCode);
        }
        Ok(RegistrationLink {
            server_url: server_url.trim_end_matches('/').to_owned(),
            code: code.to_ascii_uppercase(),
        })
    }

    pub fn to_uri(&self) -> String {
        format!(
            "countersign://register?v=1&server={}&code={}",
            URL_SAFE_NO_PAD.encode(self.server_url.as_bytes()),
            self.code
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_each_part() {
        let link = RegistrationLink {
            server_url: "https://auth.bank.example".into(),
            code: "MFRGGZDFMZTWQ2LKNNWG23TPOA".into(),
        };
        let uri = link.to_uri();
        assert_eq!(
            uri,
            "countersign://register?v=1&server=aHR0cHM6Ly9hdXRoLmJhbmsuZXhhbXBsZQ&code=MFRGGZDFMZTWQ2LKNNWG23TPOA"
        );
        assert_eq!(RegistrationLink::parse(&uri).unwrap(), link);
        assert!(
            !format!("{link:?}").contains("MFRG"),
            "Debug hides the code"
        );
        let bad = |text: &str| RegistrationLink::parse(text).unwrap_err();
        assert_eq!(
            bad("otpauth://totp/x?secret=AA"),
            LinkError::NotRegistrationLink
        );
        assert_eq!(
            bad("countersign://register?server=aA&code=AB"),
            LinkError::Missing("v")
        );
        assert_eq!(
            bad("countersign://register?v=2&server=aA&code=AB"),
            LinkError::UnsupportedVersion("2".into())
        );
        // "ftp://x" in base64url: only web URLs are servers.
        assert_eq!(
            bad("countersign://register?v=1&server=ZnRwOi8veA&code=AB"),
            LinkError::BadServer
        );
        assert_eq!(
            bad("countersign://register?v=1&server=aHR0cHM6Ly94&code=A-B"),
            LinkError::BadCode
        );
        assert_eq!(
            bad("countersign://register?v=1&v=1&server=aHR0cHM6Ly94&code=AB"),
            LinkError::Duplicate("v")
        );
    }
}
