//! The registration link a bank shows as a QR code (docs/device-protocol.md, Registration):
//! `countersign://register?v=1&server=<base64url(server URL)>&code=<one-time code>`.
//!
//! The device learns the server's challenge-signing key from the answer to this link, so the
//! link must name an `https://` server: over plain HTTP anyone on the path could hand the
//! device their own key and then forge every challenge. Plain HTTP is accepted only for a
//! server on this machine (loopback), where there is no path to sit on — tests and demos.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::{Zeroize, Zeroizing};

/// Longest accepted link; a real one is about 120 characters.
const MAX_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    #[error("registration link's server is not base64url of an https:// URL with a host")]
    BadServer,
    #[error(
        "registration link names a plain http:// server that is not on this device; https:// is required"
    )]
    InsecureServer,
    #[error("registration code must be base32 letters and digits")]
    BadCode,
}

/// A parsed registration link. The code is a one-time secret: it is not printed by `Debug`
/// and is wiped from memory when the link is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationLink {
    /// The server's public base URL, e.g. `https://auth.bank.example`.
    pub server_url: String,
    pub code: String,
}

impl Drop for RegistrationLink {
    fn drop(&mut self) {
        self.code.zeroize();
    }
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
            if slot.replace(Zeroizing::new(value.into_owned())).is_some() {
                return Err(LinkError::Duplicate(label));
            }
        }
        let version = version.ok_or(LinkError::Missing("v"))?;
        if version.as_str() != "1" {
            return Err(LinkError::UnsupportedVersion(
                version.chars().take(8).collect(),
            ));
        }
        let server = server.ok_or(LinkError::Missing("server"))?;
        let server_url = URL_SAFE_NO_PAD
            .decode(server.trim_end_matches('='))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(LinkError::BadServer)?;
        let server_url = checked_server_url(&server_url)?;
        let mut code = code.ok_or(LinkError::Missing("code"))?;
        if code.is_empty() || code.len() > 128 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(LinkError::BadCode);
        }
        // In place: no second, unwiped copy of the code.
        code.make_ascii_uppercase();
        Ok(RegistrationLink {
            server_url,
            code: std::mem::take(&mut *code),
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

/// `https://host[:port][/path]`, or `http://` with a loopback host; without user info, query
/// or fragment. Returned without a trailing slash.
fn checked_server_url(url: &str) -> Result<String, LinkError> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(LinkError::BadServer);
    }
    let (scheme, rest) = url.split_once("://").ok_or(LinkError::BadServer)?;
    let authority = rest.split('/').next().unwrap_or("");
    // `@` (user info) makes `http://127.0.0.1@bank.example` look local; `?`, `#` and `\\`
    // have no place in a base URL.
    if rest.contains(['@', '?', '#', '\\']) {
        return Err(LinkError::BadServer);
    }
    let host = host_of(authority).ok_or(LinkError::BadServer)?;
    if scheme.eq_ignore_ascii_case("https") {
        // Accepted as is.
    } else if scheme.eq_ignore_ascii_case("http") {
        if !is_loopback(host) {
            return Err(LinkError::InsecureServer);
        }
    } else {
        return Err(LinkError::BadServer);
    }
    Ok(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        rest.trim_end_matches('/')
    ))
}

/// The host of `host[:port]` or `[ipv6][:port]`; `None` when empty or the port is not a number.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':')?)),
            }
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    (!host.is_empty() && port_ok).then_some(host)
}

/// 127.0.0.0/8, ::1 and `localhost`: a server on this machine.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case("localhost.")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
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

    fn link_to(server: &str) -> String {
        format!(
            "countersign://register?v=1&server={}&code=AB",
            URL_SAFE_NO_PAD.encode(server)
        )
    }

    #[test]
    fn plain_http_is_refused_unless_the_server_is_on_this_machine() {
        let server_of =
            |url: &str| RegistrationLink::parse(&link_to(url)).map(|l| l.server_url.clone());
        for accepted in [
            "https://auth.bank.example",
            "https://auth.bank.example:8443/countersign/",
            "HTTPS://auth.bank.example",
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:3000",
            "http://localhost:3000/",
            "http://LOCALHOST",
        ] {
            assert!(server_of(accepted).is_ok(), "{accepted}");
        }
        assert_eq!(
            server_of("HTTPS://auth.bank.example/x/").unwrap(),
            "https://auth.bank.example/x"
        );
        for insecure in [
            "http://auth.bank.example",
            "http://10.0.0.1",
            "http://128.0.0.1",
            "http://[::2]",
            "http://[::ffff:8.8.8.8]",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
        ] {
            assert_eq!(
                server_of(insecure),
                Err(LinkError::InsecureServer),
                "{insecure}"
            );
        }
        for malformed in [
            "http://127.0.0.1@evil.example",
            "https://user@bank.example",
            "https://",
            "https://:443",
            "https://bank.example:port",
            "https://bank.example:99999",
            "https://bank.example?x=1",
            "https://bank.example#x",
            "https://bank example",
            "ws://127.0.0.1",
            "http://[::1",
        ] {
            assert_eq!(
                server_of(malformed),
                Err(LinkError::BadServer),
                "{malformed}"
            );
        }
    }
}
