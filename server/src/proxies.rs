//! Which address a request came from when a reverse proxy terminates TLS in front of the
//! server. A forwarding header is only believed when the connection itself comes from a
//! proxy the operator named: anyone else could write any address into it. Of the hops the
//! header lists, the client is the rightmost one that is not a trusted proxy (everything to
//! its left was written by the client and proves nothing).

use std::net::IpAddr;

use crate::error::ServerError;

/// Hops of a forwarding header looked at, from the right: a longer chain is not a real
/// deployment, and the walk stays bounded whatever a client sends.
const MAX_HOPS: usize = 32;

/// The header a trusted proxy writes the client's address into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx `$proxy_add_x_forwarded_for`, Caddy).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(name: &str) -> Result<ForwardedHeader, ServerError> {
        match name.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(ServerError::Config(format!(
                "forwarded_header must be \"x-forwarded-for\" or \"forwarded\", not {other:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// One network: an address and how many leading bits must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// `10.0.0.0/8`, `fd00::/8`, or a single address.
    fn parse(text: &str) -> Result<Network, ServerError> {
        let bad = || {
            ServerError::Config(format!(
                "trusted proxy {text:?} is not an address or CIDR network"
            ))
        };
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().map_err(|_| bad())?)),
            None => (text.trim(), None),
        };
        let address = address.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(width);
        if prefix > width {
            return Err(bad());
        }
        Ok(Network { address, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                leading_bits_equal(net.to_bits().into(), ip.to_bits().into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                leading_bits_equal(net.to_bits(), ip.to_bits(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn leading_bits_equal(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    let ignored = width - u32::from(prefix);
    ignored >= width || (a >> ignored) == (b >> ignored)
}

/// The proxies whose forwarding header is believed. Empty: the header is never read.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    networks: Vec<Network>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// The loopback networks: a proxy on the same host, the usual `--behind-proxy` case.
    pub const LOOPBACK: [&'static str; 2] = ["127.0.0.0/8", "::1"];

    pub fn new(
        networks: &[String],
        header: ForwardedHeader,
    ) -> Result<TrustedProxies, ServerError> {
        let networks = networks
            .iter()
            .map(|n| Network::parse(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies { networks, header })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the peer itself unless the peer is a trusted proxy; then the
    /// rightmost hop of `header_values` (every instance of the header, in order) that is not
    /// a trusted proxy. A hop that is not an address ends the walk at the last trusted hop.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        header_values: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let values: Vec<&str> = header_values.collect();
        let hops = values.iter().rev().flat_map(|v| v.rsplit(','));
        let mut client = peer;
        for hop in hops.take(MAX_HOPS) {
            let Some(ip) = self.hop_address(hop) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }

    fn hop_address(&self, hop: &str) -> Option<IpAddr> {
        let hop = hop.trim();
        let node = match self.header {
            ForwardedHeader::XForwardedFor => hop,
            ForwardedHeader::Forwarded => forwarded_for(hop)?,
        };
        node_address(node).map(|ip| ip.to_canonical())
    }
}

/// The `for=` parameter of one RFC 7239 element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address written as `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.rsplit_once(':')?
        .0
        .parse::<std::net::Ipv4Addr>()
        .ok()
        .map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(networks: &[&str], header: ForwardedHeader) -> TrustedProxies {
        let networks: Vec<String> = networks.iter().map(|n| n.to_string()).collect();
        TrustedProxies::new(&networks, header).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let client = trusted.client_address(ip("192.0.2.9"), ["203.0.113.7"].into_iter());
        assert_eq!(client, ip("192.0.2.9"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        // The leftmost entry is whatever the client wrote; 10.1.2.3 is an inner proxy.
        let values = ["6.6.6.6, 203.0.113.7", "10.1.2.3"];
        let client = trusted.client_address(ip("10.9.9.9"), values.into_iter());
        assert_eq!(client, ip("203.0.113.7"));
    }

    #[test]
    fn forwarded_elements_with_ports_and_brackets() {
        let trusted = proxies(&["127.0.0.1", "::1"], ForwardedHeader::Forwarded);
        let values = [r#"for=6.6.6.6, for="[2001:db8::5]:4711";proto=https"#];
        let client = trusted.client_address(ip("::1"), values.into_iter());
        assert_eq!(client, ip("2001:db8::5"));
        let values = ["for=192.0.2.4:80;by=127.0.0.1"];
        assert_eq!(
            trusted.client_address(ip("127.0.0.1"), values.into_iter()),
            ip("192.0.2.4")
        );
    }

    #[test]
    fn garbage_stops_at_the_last_trusted_hop() {
        let trusted = proxies(&["127.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let client = trusted.client_address(ip("127.0.0.1"), ["unknown"].into_iter());
        assert_eq!(client, ip("127.0.0.1"));
        let client = trusted.client_address(ip("127.0.0.1"), std::iter::empty());
        assert_eq!(client, ip("127.0.0.1"));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_networks() {
        let trusted = proxies(&["127.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let client = trusted.client_address(ip("::ffff:127.0.0.2"), ["198.51.100.1"].into_iter());
        assert_eq!(client, ip("198.51.100.1"));
    }

    #[test]
    fn bad_networks_are_refused() {
        for bad in ["10.0.0.0/33", "::/129", "proxy.local", "10.0.0.0/x", ""] {
            assert!(
                TrustedProxies::new(&[bad.to_string()], ForwardedHeader::default()).is_err(),
                "{bad}"
            );
        }
        assert!(ForwardedHeader::parse("X-Real-IP").is_err());
    }

    #[test]
    fn prefix_zero_trusts_everything_of_its_family() {
        let trusted = proxies(&["0.0.0.0/0"], ForwardedHeader::XForwardedFor);
        assert!(trusted.trusts(ip("8.8.8.8")));
        assert!(!trusted.trusts(ip("2001:db8::1")));
    }
}
